/**
 * Pass 2 of the EROFS writer: emits the bytes the layout (pass 1) fixed.
 * The result is a list of extents; object content is never read here, an
 * 'object' extent tells the I/O shell where to put it.
 */
import type { Extent, TreeNode } from '../../model.js';
import { bug, formatError } from '../../errors.js';
import { crc32cRaw } from './crc32c.js';
import { dumpErofs } from './dump.js';
import {
  BLKSZ,
  BLKSZBITS,
  DataLayout,
  DIRENT_SIZE,
  EROFS_I_DATALAYOUT_BIT,
  EROFS_SUPER_MAGIC_V1,
  EROFS_SUPER_OFFSET,
  FEATURE_COMPAT_MTIME,
  FEATURE_COMPAT_SB_CHKSUM,
  FILE_TYPE_CODE,
  IC,
  IE,
  INODE_LAYOUT_EXTENDED,
  SB,
  XATTR_IBODY_HEADER_SIZE,
  XATTR_ENTRY_SIZE,
  alignUp,
} from './format.js';
import { layoutErofs, type InodePlan, type Layout } from './layout.js';

export interface ErofsOptions {
  /** seconds since the epoch (e.g. SOURCE_DATE_EPOCH); inodes with this mtime stay compact */
  buildTime: number;
  /** 16 bytes; all zero when absent */
  uuid?: Uint8Array;
  /** up to 16 bytes of UTF-8 */
  volumeName?: string;
  /** regular files with an object get their size but no data (holes), for overlayfs metacopy views */
  metadataOnly?: boolean;
  /** superblock crc32c (feature sb_csum); on unless false */
  checksum?: boolean;
  /**
   * per-inode xattr name filters (compat feature, Linux 6.6+): negative
   * getxattr calls (security.selinux, ACLs from ls -l) skip the entry scan
   */
  xattrFilter?: boolean;
  /** called with pass 1's result before any byte is written: file data placement is final from here on */
  onLayout?: (layout: Layout) => void;
}

/** A regular file's data blocks, so a bad block can be named by path. */
export interface FileBlocks {
  start: number;
  count: number;
  path: string;
}

export interface ErofsImage {
  /** bytes, a multiple of 4096 */
  size: number;
  blocks: number;
  /** in increasing offset order, covering [0, size) without gaps */
  extents: Extent[];
  /** sorted by start block */
  fileBlocks: FileBlocks[];
  /** annotated superblock and inodes, decoded back from the written bytes */
  dump(): string;
}

const utf8 = new TextEncoder();

/** Where pass 1 put each regular file's object data: the 'object' extents encodeErofs will emit. */
export function objectPlacements(layout: Layout): { object: string; offset: number; size: number }[] {
  const out: { object: string; offset: number; size: number }[] = [];
  for (const ino of layout.inodes) {
    if (ino.type !== 'file' || ino.nblocks === 0 || ino.node.data !== undefined) continue;
    out.push({ object: ino.node.object!, offset: ino.blkaddr * BLKSZ, size: ino.size });
  }
  return out;
}

export function encodeErofs(nodes: readonly TreeNode[], opts: ErofsOptions): ErofsImage {
  const layout = layoutErofs(nodes, opts);
  opts.onLayout?.(layout);
  const meta = new Uint8Array(layout.dataStartBlock * BLKSZ);
  const dirData = new Uint8Array(layout.dirDataBlocks * BLKSZ);
  const mv = new DataView(meta.buffer);

  for (const ino of layout.inodes) writeInode(mv, meta, dirData, layout, ino);
  writeSuperblock(mv, meta, layout, opts);

  const extents: Extent[] = [{ kind: 'bytes', offset: 0, data: meta }];
  if (dirData.length > 0) extents.push({ kind: 'bytes', offset: layout.dataStartBlock * BLKSZ, data: dirData });
  const fileBlocks: FileBlocks[] = [];
  let expect = (layout.dataStartBlock + layout.dirDataBlocks) * BLKSZ;
  for (const ino of layout.inodes) {
    if (ino.type !== 'file' || ino.nblocks === 0) continue;
    const offset = ino.blkaddr * BLKSZ;
    if (offset !== expect) throw bug(`erofs data of ${ino.path} at ${offset}, expected ${expect}`);
    const node = ino.node;
    if (node.data !== undefined) extents.push({ kind: 'bytes', offset, data: node.data });
    else extents.push({ kind: 'object', offset, object: node.object!, size: ino.size });
    const pad = ino.nblocks * BLKSZ - ino.size;
    if (pad > 0) extents.push({ kind: 'zero', offset: offset + ino.size, size: pad });
    fileBlocks.push({ start: ino.blkaddr, count: ino.nblocks, path: ino.path });
    expect = offset + ino.nblocks * BLKSZ;
  }
  if (expect !== layout.blocks * BLKSZ) throw bug(`erofs extents end at ${expect}, layout says ${layout.blocks * BLKSZ}`);

  return {
    size: layout.blocks * BLKSZ,
    blocks: layout.blocks,
    extents,
    fileBlocks,
    dump: () => dumpErofs(meta, dirData, layout),
  };
}

function writeSuperblock(mv: DataView, meta: Uint8Array, layout: Layout, opts: ErofsOptions): void {
  const s = EROFS_SUPER_OFFSET;
  const checksum = opts.checksum !== false;
  mv.setUint32(s + SB.magic, EROFS_SUPER_MAGIC_V1, true);
  mv.setUint32(s + SB.feature_compat, FEATURE_COMPAT_MTIME | (checksum ? FEATURE_COMPAT_SB_CHKSUM : 0) | layout.featureCompatExtra, true);
  meta[s + SB.blkszbits] = BLKSZBITS;
  mv.setUint16(s + SB.root_nid, layout.inodes[0]!.nid, true);
  mv.setBigUint64(s + SB.inos, BigInt(layout.inodes.length), true);
  mv.setBigUint64(s + SB.build_time, BigInt.asUintN(64, BigInt(layout.buildTimeSec)), true);
  mv.setUint32(s + SB.build_time_nsec, layout.buildTimeNsec, true);
  mv.setUint32(s + SB.blocks, layout.blocks, true);
  // meta_blkaddr and xattr_blkaddr stay 0: inodes start in block 0, no shared xattrs
  if (opts.uuid) {
    if (opts.uuid.length !== 16) throw formatError('erofs', `Cannot write EROFS image: uuid is ${opts.uuid.length} bytes, not 16`);
    meta.set(opts.uuid, s + SB.uuid);
  }
  if (opts.volumeName) {
    const name = utf8.encode(opts.volumeName);
    if (name.length > 16) throw formatError('erofs', `Cannot write EROFS image: volume name is ${name.length} bytes, limit 16`);
    meta.set(name, s + SB.volume_name);
  }
  mv.setUint32(s + SB.feature_incompat, layout.featureIncompat, true);
  if (checksum) {
    // crc32c(~0) over the rest of block 0 from the superblock on, checksum field zero (erofs_superblock_csum_verify)
    mv.setUint32(s + SB.checksum, crc32cRaw(0xffffffff, meta.subarray(s, BLKSZ)), true);
  }
}

function writeInode(mv: DataView, meta: Uint8Array, dirData: Uint8Array, layout: Layout, ino: InodePlan): void {
  const o = ino.offset;
  const iu =
    ino.type === 'char' || ino.type === 'block'
      ? ino.rdev
      : ino.layout === DataLayout.CHUNK_BASED
        ? ino.chunkBits - BLKSZBITS
        : ino.blkaddr;
  const icount = ino.xattrSize === 0 ? 0 : (ino.xattrSize - XATTR_IBODY_HEADER_SIZE) / 4 + 1;
  const format = (ino.extended ? INODE_LAYOUT_EXTENDED : 0) | (ino.layout << EROFS_I_DATALAYOUT_BIT);
  const { uid, gid } = ino.node;
  if (ino.extended) {
    mv.setUint16(o + IE.i_format, format, true);
    mv.setUint16(o + IE.i_xattr_icount, icount, true);
    mv.setUint16(o + IE.i_mode, ino.mode, true);
    mv.setBigUint64(o + IE.i_size, BigInt(ino.size), true);
    mv.setUint32(o + IE.i_u, iu, true);
    mv.setUint32(o + IE.i_ino, ino.nid >>> 0, true);
    mv.setUint32(o + IE.i_uid, uid, true);
    mv.setUint32(o + IE.i_gid, gid, true);
    mv.setBigUint64(o + IE.i_mtime, BigInt.asUintN(64, BigInt(ino.mtimeSec)), true);
    mv.setUint32(o + IE.i_mtime_nsec, ino.mtimeNsec, true);
    mv.setUint32(o + IE.i_nlink, ino.nlink, true);
  } else {
    mv.setUint16(o + IC.i_format, format, true);
    mv.setUint16(o + IC.i_xattr_icount, icount, true);
    mv.setUint16(o + IC.i_mode, ino.mode, true);
    mv.setUint16(o + IC.i_nlink, ino.nlink, true);
    mv.setUint32(o + IC.i_size, ino.size, true);
    mv.setUint32(o + IC.i_u, iu, true);
    mv.setUint32(o + IC.i_ino, ino.nid >>> 0, true);
    mv.setUint16(o + IC.i_uid, uid, true);
    mv.setUint16(o + IC.i_gid, gid, true);
  }

  // inline xattrs: a 12-byte header (name filter, no shared xattrs), then 4-aligned entries
  let p = o + ino.isize;
  if (ino.xattrSize > 0) {
    mv.setUint32(p, ino.xattrFilter, true);
    p += XATTR_IBODY_HEADER_SIZE;
    for (const x of ino.xattrs) {
      meta[p] = x.suffix.length;
      meta[p + 1] = x.index;
      mv.setUint16(p + 2, x.value.length, true);
      meta.set(x.suffix, p + XATTR_ENTRY_SIZE);
      meta.set(x.value, p + XATTR_ENTRY_SIZE + x.suffix.length);
      p += alignUp(XATTR_ENTRY_SIZE + x.suffix.length + x.value.length, 4);
    }
  }
  const inlineAt = o + ino.isize + ino.xattrSize;
  if (p !== inlineAt) throw bug(`erofs xattrs of ${ino.path} end at ${p}, layout says ${inlineAt}`);

  const dataAt = (ino.blkaddr - layout.dataStartBlock) * BLKSZ;
  if (ino.type === 'dir') {
    writeDirectory(ino, (blockIndex) =>
      blockIndex < ino.nblocks ? { buf: dirData, at: dataAt + blockIndex * BLKSZ } : { buf: meta, at: inlineAt },
    );
  } else if (ino.type === 'symlink') {
    const target = ino.target!;
    const full = ino.nblocks * BLKSZ;
    if (ino.nblocks > 0) dirData.set(target.subarray(0, Math.min(full, target.length)), dataAt);
    if (ino.inlineSize > 0) meta.set(target.subarray(full), inlineAt);
  } else if (ino.layout === DataLayout.CHUNK_BASED) {
    // every chunk is EROFS_NULL_ADDR: a hole reading as zeros
    meta.fill(0xff, inlineAt, inlineAt + ino.inlineSize);
  }
}

/** Dirents first, then their names with no NUL; nameoff of the first dirent gives the count. */
function writeDirectory(dir: InodePlan, target: (blockIndex: number) => { buf: Uint8Array; at: number }): void {
  const entries = dir.entries!;
  const starts = dir.dirBlockStarts!;
  for (let b = 0; b < starts.length; b++) {
    const first = starts[b]!;
    const end = b + 1 < starts.length ? starts[b + 1]! : entries.length;
    const { buf, at } = target(b);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let nameoff = (end - first) * DIRENT_SIZE;
    for (let i = first; i < end; i++) {
      const e = entries[i]!;
      const d = at + (i - first) * DIRENT_SIZE;
      // nid is a u64; two u32 halves avoid a BigInt per dirent
      dv.setUint32(d, e.inode.nid % 2 ** 32, true);
      dv.setUint32(d + 4, Math.floor(e.inode.nid / 2 ** 32), true);
      dv.setUint16(d + 8, nameoff, true);
      buf[d + 10] = FILE_TYPE_CODE[e.inode.type];
      buf.set(e.name, at + nameoff);
      nameoff += e.name.length;
    }
  }
}

/** Assembles the whole image in memory, for tests; the production shell streams extents. */
export function materialize(image: ErofsImage, readObject: (id: string) => Uint8Array): Uint8Array {
  const out = new Uint8Array(image.size);
  for (const e of image.extents) {
    if (e.kind === 'bytes') out.set(e.data, e.offset);
    else if (e.kind === 'object') {
      const data = readObject(e.object);
      if (data.length !== e.size) throw formatError('erofs', `Cannot fill EROFS image: object ${e.object} is ${data.length} bytes, expected ${e.size}`);
      out.set(data, e.offset);
    }
  }
  return out;
}
