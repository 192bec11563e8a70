/**
 * A small bounds-checked EROFS reader: walks the directory tree of an
 * uncompressed image and maps data blocks back to paths, so `weld verify`
 * can name the file a corrupt block belongs to. Every read goes through the
 * Cursor; depth and inode count are capped, directory loops are refused.
 */
import { Cursor } from '../../util/cursor.js';
import { displayText } from '../../util/text.js';
import { formatError } from '../../errors.js';
import { DataLayout, DIRENT_SIZE, EROFS_SUPER_MAGIC_V1, EROFS_SUPER_OFFSET, FileTypeCode, IC, IE, SB, XATTR_IBODY_HEADER_SIZE } from './format.js';

const F = 'erofs';

export interface ReaderLimits {
  maxInodes: number;
  maxDepth: number;
}
const DEFAULT_READER_LIMITS: ReaderLimits = { maxInodes: 10_000_000, maxDepth: 256 };

export interface ErofsInodeInfo {
  nid: number;
  path: string;
  mode: number;
  size: number;
  layout: number;
  /** first data block outside the inode, and how many */
  blkaddr: number;
  nblocks: number;
}

interface Super {
  blksz: number;
  rootNid: number;
  metaBlkaddr: number;
}

function readSuper(c: Cursor): Super {
  c.seek(EROFS_SUPER_OFFSET, 'superblock');
  c.need(128, 'superblock');
  const base = EROFS_SUPER_OFFSET;
  const magic = c.seek(base + SB.magic, 'magic').u32le('magic');
  if (magic !== EROFS_SUPER_MAGIC_V1) throw formatError(F, `Cannot read EROFS superblock: magic 0x${magic.toString(16)} is not 0xe0f5e1e2`, { offset: base, field: 'magic' });
  const bits = c.seek(base + SB.blkszbits, 'blkszbits').u8('blkszbits');
  if (bits < 9 || bits > 16) throw formatError(F, `Cannot read EROFS superblock: block size 2^${bits} is not supported`, { offset: base + SB.blkszbits, field: 'blkszbits' });
  return {
    blksz: 1 << bits,
    rootNid: c.seek(base + SB.root_nid, 'root_nid').u16le('root_nid'),
    metaBlkaddr: c.seek(base + SB.meta_blkaddr, 'meta_blkaddr').u32le('meta_blkaddr'),
  };
}

function readInode(c: Cursor, sb: Super, nid: number, path: string) {
  const off = sb.metaBlkaddr * sb.blksz + nid * 32;
  const format = c.seek(off, 'inode').u16le('i_format');
  const extended = (format & 1) === 1;
  const T = extended ? IE : IC;
  const icount = c.seek(off + T.i_xattr_icount, 'i_xattr_icount').u16le('i_xattr_icount');
  const mode = c.seek(off + T.i_mode, 'i_mode').u16le('i_mode');
  const size = extended ? Number(c.seek(off + IE.i_size, 'i_size').u64le('i_size')) : c.seek(off + IC.i_size, 'i_size').u32le('i_size');
  const iu = c.seek(off + T.i_u, 'i_u').u32le('i_u');
  const layout = (format >> 1) & 7;
  const inlineAt = off + (extended ? 64 : 32) + (icount ? XATTR_IBODY_HEADER_SIZE + (icount - 1) * 4 : 0);
  const flat = layout === DataLayout.FLAT_PLAIN || layout === DataLayout.FLAT_INLINE;
  const nblocks = !flat ? 0 : layout === DataLayout.FLAT_INLINE ? Math.floor(size / sb.blksz) : Math.ceil(size / sb.blksz);
  return { nid, path, mode, size, layout, blkaddr: iu, nblocks, inlineAt };
}

/** Reads one directory's entries (names as bytes), skipping '.' and '..'. */
function readDir(c: Cursor, sb: Super, ino: ReturnType<typeof readInode>): { name: Uint8Array; nid: number; type: number }[] {
  if (ino.layout !== DataLayout.FLAT_PLAIN && ino.layout !== DataLayout.FLAT_INLINE)
    throw formatError(F, `Cannot read EROFS directory ${ino.path}: data layout ${ino.layout} is not supported`, { field: 'i_format' });
  const out: { name: Uint8Array; nid: number; type: number }[] = [];
  const nblocks = Math.ceil(ino.size / sb.blksz);
  for (let b = 0; b < nblocks; b++) {
    const len = Math.min(sb.blksz, ino.size - b * sb.blksz);
    const inline = ino.layout === DataLayout.FLAT_INLINE && b === nblocks - 1;
    const blk = c.seek(inline ? ino.inlineAt : (ino.blkaddr + b) * sb.blksz, 'directory block').bytes(len, 'directory block');
    const d = new Cursor(blk, F);
    const first = d.seek(8, 'nameoff').u16le('nameoff');
    const count = first / DIRENT_SIZE;
    if (!Number.isInteger(count) || count === 0 || first > len)
      throw formatError(F, `Cannot read EROFS directory ${ino.path}: first nameoff ${first} is invalid`, { field: 'nameoff' });
    for (let i = 0; i < count; i++) {
      d.seek(i * DIRENT_SIZE, 'dirent');
      const nid = Number(d.u64le('nid'));
      const nameoff = d.u16le('nameoff');
      const type = d.u8('file_type');
      let end = i + 1 < count ? d.seek((i + 1) * DIRENT_SIZE + 8, 'nameoff').u16le('nameoff') : len;
      if (i + 1 === count) {
        const nul = blk.indexOf(0, nameoff);
        if (nul >= 0 && nul < end) end = nul;
      }
      if (end <= nameoff || end > len) throw formatError(F, `Cannot read EROFS directory ${ino.path}: name ${i} spans ${nameoff}..${end}`, { field: 'nameoff' });
      const name = blk.subarray(nameoff, end);
      if ((name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e)) continue;
      out.push({ name, nid, type });
    }
  }
  return out;
}

/** Every inode reachable from the root, depth first, with the first path that reaches it. */
export function* walkErofs(img: Uint8Array, limits: ReaderLimits = DEFAULT_READER_LIMITS): Generator<ErofsInodeInfo> {
  const c = new Cursor(img, F);
  const sb = readSuper(c);
  const seen = new Set<number>();
  const stack: { nid: number; path: string; depth: number; dir: boolean }[] = [{ nid: sb.rootNid, path: '/', depth: 0, dir: true }];
  while (stack.length) {
    const { nid, path, depth, dir } = stack.pop()!;
    if (seen.has(nid)) {
      if (dir) throw formatError(F, `Cannot read EROFS tree: directory ${path} is reached twice (a loop)`, { field: 'nid' });
      continue; // a hardlink
    }
    seen.add(nid);
    if (seen.size > limits.maxInodes) throw formatError(F, `Cannot read EROFS tree: more than ${limits.maxInodes} inodes`, { field: 'nid' });
    const ino = readInode(c, sb, nid, path);
    yield { nid, path, mode: ino.mode, size: ino.size, layout: ino.layout, blkaddr: ino.blkaddr, nblocks: ino.nblocks };
    if ((ino.mode & 0o170000) !== 0o040000) continue;
    if (depth >= limits.maxDepth) throw formatError(F, `Cannot read EROFS tree: ${path} is deeper than ${limits.maxDepth}`, { field: 'nid' });
    const entries = readDir(c, sb, ino);
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      stack.push({ nid: e.nid, path: (path === '/' ? '/' : path + '/') + displayText(e.name), depth: depth + 1, dir: e.type === FileTypeCode.DIR });
    }
  }
}

/** The path whose data (or directory/symlink blocks) occupy `block`, or null (metadata, padding). */
export function blockOwner(img: Uint8Array, block: number, limits?: ReaderLimits): string | null {
  for (const ino of walkErofs(img, limits)) {
    if (ino.nblocks > 0 && block >= ino.blkaddr && block < ino.blkaddr + ino.nblocks) return ino.path;
  }
  return null;
}
