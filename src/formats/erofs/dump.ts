/**
 * Annotated text of an EROFS image's superblock, inodes, xattrs and dirents,
 * decoded back from the written bytes through the bounds-checked Cursor (the
 * layout only says where to look), so a test sees what the kernel would see.
 */
import { Cursor } from '../../util/cursor.js';
import { displayText } from '../../util/text.js';
import {
  BLKSZ,
  DataLayout,
  DIRENT_SIZE,
  EROFS_SUPER_OFFSET,
  IC,
  IE,
  SB,
  XATTR_IBODY_HEADER_SIZE,
  XATTR_PREFIXES,
  alignUp,
  decodeDev,
} from './format.js';
import type { InodePlan, Layout } from './layout.js';

const F = 'erofs';
const LAYOUT_NAMES: Record<number, string> = { 0: 'FLAT_PLAIN', 1: 'COMPRESSED_FULL', 2: 'FLAT_INLINE', 3: 'COMPRESSED_COMPACT', 4: 'CHUNK_BASED' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function dumpErofs(meta: Uint8Array, dirData: Uint8Array, layout: Layout): string {
  const out: string[] = [];
  const c = new Cursor(meta, F);
  c.seek(EROFS_SUPER_OFFSET, 'superblock');
  const sb = c.bytes(128, 'superblock');
  const s = new Cursor(sb, F);
  const at = (off: number) => s.seek(off, 'superblock field');
  out.push('superblock @1024');
  out.push(`  magic            0x${at(SB.magic).u32le('magic').toString(16)}`);
  out.push(`  checksum         0x${at(SB.checksum).u32le('checksum').toString(16).padStart(8, '0')}`);
  out.push(`  feature_compat   0x${at(SB.feature_compat).u32le('feature_compat').toString(16)}`);
  out.push(`  blkszbits        ${at(SB.blkszbits).u8('blkszbits')}`);
  out.push(`  root_nid         ${at(SB.root_nid).u16le('root_nid')}`);
  out.push(`  inos             ${at(SB.inos).u64le('inos')}`);
  out.push(`  build_time       ${BigInt.asIntN(64, at(SB.build_time).u64le('build_time'))}.${at(SB.build_time_nsec).u32le('build_time_nsec')}`);
  out.push(`  blocks           ${at(SB.blocks).u32le('blocks')}`);
  out.push(`  meta_blkaddr     ${at(SB.meta_blkaddr).u32le('meta_blkaddr')}`);
  out.push(`  xattr_blkaddr    ${at(SB.xattr_blkaddr).u32le('xattr_blkaddr')}`);
  out.push(`  uuid             ${hex(at(SB.uuid).bytes(16, 'uuid'))}`);
  out.push(`  volume_name      ${JSON.stringify(displayText(at(SB.volume_name).bytes(16, 'volume_name')).replace(/\0+$/, ''))}`);
  out.push(`  feature_incompat 0x${at(SB.feature_incompat).u32le('feature_incompat').toString(16)}`);

  for (const ino of layout.inodes) out.push(...dumpInode(meta, dirData, layout, ino));
  return out.join('\n') + '\n';
}

function dumpInode(meta: Uint8Array, dirData: Uint8Array, layout: Layout, ino: InodePlan): string[] {
  const c = new Cursor(meta, F);
  const o = ino.offset;
  const format = c.seek(o, 'i_format').u16le('i_format');
  const extended = (format & 1) === 1;
  const dl = (format >> 1) & 7;
  const T = extended ? IE : IC;
  const icount = c.seek(o + T.i_xattr_icount, 'i_xattr_icount').u16le('i_xattr_icount');
  const mode = c.seek(o + T.i_mode, 'i_mode').u16le('i_mode');
  const size = extended ? Number(c.seek(o + IE.i_size, 'i_size').u64le('i_size')) : c.seek(o + IC.i_size, 'i_size').u32le('i_size');
  const iu = c.seek(o + T.i_u, 'i_u').u32le('i_u');
  const uid = extended ? c.seek(o + IE.i_uid, 'i_uid').u32le('i_uid') : c.seek(o + IC.i_uid, 'i_uid').u16le('i_uid');
  const gid = extended ? c.seek(o + IE.i_gid, 'i_gid').u32le('i_gid') : c.seek(o + IC.i_gid, 'i_gid').u16le('i_gid');
  const nlink = extended ? c.seek(o + IE.i_nlink, 'i_nlink').u32le('i_nlink') : c.seek(o + IC.i_nlink, 'i_nlink').u16le('i_nlink');
  const mtime = extended
    ? `${BigInt.asIntN(64, c.seek(o + IE.i_mtime, 'i_mtime').u64le('i_mtime'))}.${c.seek(o + IE.i_mtime_nsec, 'i_mtime_nsec').u32le('i_mtime_nsec')}`
    : 'build_time';
  const isize = extended ? 64 : 32;
  const lines = [
    `inode nid=${ino.nid} @${o} ${JSON.stringify(ino.path)} ${extended ? 'extended' : 'compact'} ${LAYOUT_NAMES[dl] ?? dl}` +
      ` mode=0${mode.toString(8)} nlink=${nlink} uid=${uid} gid=${gid} size=${size} mtime=${mtime}` +
      (ino.type === 'char' || ino.type === 'block'
        ? ` rdev=${decodeDev(iu).major}:${decodeDev(iu).minor}`
        : dl === DataLayout.CHUNK_BASED
          ? ` chunkbits=${12 + (iu & 0x1f)}`
          : ` blkaddr=${iu === 0xffffffff ? 'null' : iu}`),
  ];
  let xsize = 0;
  if (icount > 0) {
    xsize = XATTR_IBODY_HEADER_SIZE + (icount - 1) * 4;
    c.seek(o + isize, 'xattr header');
    const filter = c.u32le('h_name_filter');
    if (filter !== 0) lines.push(`  xattr name filter 0x${filter.toString(16).padStart(8, '0')}`);
    const shared = c.u8('h_shared_count');
    c.skip(7, 'h_reserved2');
    c.skip(shared * 4, 'h_shared_xattrs');
    const end = o + isize + xsize;
    while (c.pos < end) {
      const nameLen = c.u8('e_name_len');
      const index = c.u8('e_name_index');
      const valueSize = c.u16le('e_value_size');
      const suffix = c.bytes(nameLen, 'e_name');
      const value = c.bytes(valueSize, 'e_value');
      c.seek(alignUp(c.pos, 4), 'xattr entry');
      const prefix = XATTR_PREFIXES.find((p) => p.index === index)?.prefix ?? `?${index}?`;
      lines.push(`  xattr ${prefix}${displayText(suffix)} = ${hex(value) || '(empty)'}`);
    }
  }
  const inlineAt = o + isize + xsize;
  if (dl === DataLayout.CHUNK_BASED) {
    const n = ino.inlineSize / 4;
    const idx: string[] = [];
    c.seek(inlineAt, 'chunk index');
    for (let i = 0; i < n; i++) idx.push(c.u32le('chunk blkaddr').toString(16));
    lines.push(`  chunks [${idx.join(' ')}]`);
  }
  if (ino.type === 'symlink') {
    const full = dl === DataLayout.FLAT_INLINE ? Math.floor(size / BLKSZ) * BLKSZ : 0;
    const head = full > 0 ? new Cursor(dirData, F, (iu - layout.dataStartBlock) * BLKSZ).bytes(full, 'symlink blocks') : new Uint8Array(0);
    const tail = dl === DataLayout.FLAT_INLINE ? c.seek(inlineAt, 'symlink inline').bytes(size - full, 'symlink tail') : new Uint8Array(0);
    const whole =
      dl === DataLayout.FLAT_PLAIN ? new Cursor(dirData, F, (iu - layout.dataStartBlock) * BLKSZ).bytes(size, 'symlink target') : Buffer.concat([head, tail]);
    const t = displayText(whole);
    lines.push(`  target ${JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t)}`);
  }
  if (ino.type === 'dir') {
    const nblocks = Math.ceil(size / BLKSZ);
    for (let b = 0; b < nblocks; b++) {
      const inlineBlock = dl === DataLayout.FLAT_INLINE && b === nblocks - 1;
      const len = Math.min(BLKSZ, size - b * BLKSZ);
      const base = inlineBlock ? inlineAt : (iu - layout.dataStartBlock + b) * BLKSZ;
      const blk = new Cursor(inlineBlock ? meta : dirData, F, base).bytes(len, 'directory block');
      lines.push(...dumpDirBlock(blk, b));
    }
  }
  return lines;
}

function dumpDirBlock(blk: Uint8Array, b: number): string[] {
  const c = new Cursor(blk, F);
  const first = c.seek(8, 'nameoff').u16le('nameoff');
  const count = first / DIRENT_SIZE;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    c.seek(i * DIRENT_SIZE, 'dirent');
    const nid = c.u64le('nid');
    const nameoff = c.u16le('nameoff');
    const type = c.u8('file_type');
    let end = i + 1 < count ? new Cursor(blk, F, (i + 1) * DIRENT_SIZE + 8).u16le('nameoff') : blk.length;
    if (i + 1 === count) {
      const nul = blk.indexOf(0, nameoff);
      if (nul >= 0) end = nul;
    }
    const name = c.seek(nameoff, 'name').bytes(end - nameoff, 'name');
    lines.push(`  dirent[${b}] ${JSON.stringify(displayText(name))} nid=${nid} type=${type}`);
  }
  return lines;
}
