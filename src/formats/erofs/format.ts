/**
 * EROFS on-disk constants and struct offsets, named as Linux's
 * `fs/erofs/erofs_fs.h` names them. Only the uncompressed subset that
 * Linux 6.1 and erofs-utils 1.5 understand is described here.
 * All integers are little-endian.
 */

export const EROFS_SUPER_OFFSET = 1024;
export const EROFS_SUPER_MAGIC_V1 = 0xe0f5e1e2;
export const EROFS_SB_SIZE = 128;
export const BLKSZBITS = 12;
export const BLKSZ = 1 << BLKSZBITS;
/** the root nid is a u16 in the superblock, so the root inode must come first */
export const ROOT_NID_MAX = 0xffff;
export const EROFS_NAME_LEN = 255;
/** erofs-utils writes this as raw_blkaddr of an inode that has no data blocks */
export const EROFS_NULL_ADDR = 0xffffffff;

export const FEATURE_COMPAT_SB_CHKSUM = 0x1;
/** inode time fields mean mtime (not ctime); the kernel ignores it, mkfs.erofs sets it */
export const FEATURE_COMPAT_MTIME = 0x2;
/**
 * Per-inode xattr name bloom filter (Linux 6.6+): h_name_filter bit
 * xxh32(suffix, XATTR_FILTER_SEED + prefix index) % 32 set means "no such
 * xattr", so a negative getxattr skips the inline scan. Compat: older kernels
 * ignore it. The superblock's xattr_filter_reserved byte must stay 0.
 */
export const FEATURE_COMPAT_XATTR_FILTER = 0x4;
export const XATTR_FILTER_SEED = 0x25bbe08f;
export const XATTR_FILTER_BITS = 32;
export const FEATURE_INCOMPAT_CHUNKED_FILE = 0x4;

/** struct erofs_super_block field offsets (relative to EROFS_SUPER_OFFSET) */
export const SB = {
  magic: 0,
  checksum: 4,
  feature_compat: 8,
  blkszbits: 12,
  sb_extslots: 13,
  root_nid: 14,
  inos: 16,
  build_time: 24,
  build_time_nsec: 32,
  blocks: 36,
  meta_blkaddr: 40,
  xattr_blkaddr: 44,
  uuid: 48,
  volume_name: 64,
  feature_incompat: 80,
  u1: 84,
  extra_devices: 86,
  devt_slotoff: 88,
} as const;

/** i_format: bit 0 is the inode version, bits 1..3 the data layout */
export const INODE_LAYOUT_COMPACT = 0;
export const INODE_LAYOUT_EXTENDED = 1;
export const EROFS_I_DATALAYOUT_BIT = 1;

export enum DataLayout {
  FLAT_PLAIN = 0,
  FLAT_INLINE = 2,
  CHUNK_BASED = 4,
}

export const COMPACT_INODE_SIZE = 32;
export const EXTENDED_INODE_SIZE = 64;
/** nid = (offset - meta_blkaddr * BLKSZ) / 32 */
export const EROFS_ISLOTBITS = 5;

/** struct erofs_inode_compact */
export const IC = {
  i_format: 0,
  i_xattr_icount: 2,
  i_mode: 4,
  i_nlink: 6,
  i_size: 8,
  i_reserved: 12,
  i_u: 16,
  i_ino: 20,
  i_uid: 24,
  i_gid: 26,
  i_reserved2: 28,
} as const;

/** struct erofs_inode_extended */
export const IE = {
  i_format: 0,
  i_xattr_icount: 2,
  i_mode: 4,
  i_reserved: 6,
  i_size: 8,
  i_u: 16,
  i_ino: 20,
  i_uid: 24,
  i_gid: 28,
  i_mtime: 32,
  i_mtime_nsec: 40,
  i_nlink: 44,
} as const;

/** chunk-based i_u: low 5 bits are chunkbits - blkszbits; no INDEXES bit = 4-byte block map */
export const EROFS_CHUNK_FORMAT_BLKBITS_MASK = 0x1f;
export const EROFS_BLOCK_MAP_ENTRY_SIZE = 4;

/** struct erofs_xattr_ibody_header: h_name_filter(4) h_shared_count(1) h_reserved2(7) */
export const XATTR_IBODY_HEADER_SIZE = 12;
/** struct erofs_xattr_entry: e_name_len(1) e_name_index(1) e_value_size(2), then name, value */
export const XATTR_ENTRY_SIZE = 4;

/** EROFS_XATTR_INDEX_*: the name prefixes the kernel looks xattrs up by (lustre is not wired up) */
export const XATTR_PREFIXES: readonly { prefix: string; index: number; exact: boolean }[] = [
  { prefix: 'user.', index: 1, exact: false },
  { prefix: 'system.posix_acl_access', index: 2, exact: true },
  { prefix: 'system.posix_acl_default', index: 3, exact: true },
  { prefix: 'trusted.', index: 4, exact: false },
  { prefix: 'security.', index: 6, exact: false },
];

/** struct erofs_dirent: nid(8) nameoff(2) file_type(1) reserved(1) */
export const DIRENT_SIZE = 12;

export enum FileTypeCode {
  UNKNOWN = 0,
  REG_FILE = 1,
  DIR = 2,
  CHRDEV = 3,
  BLKDEV = 4,
  FIFO = 5,
  SOCK = 6,
  SYMLINK = 7,
}

export const S_IFMT = 0o170000;
export const S_IF = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  block: 0o060000,
  dir: 0o040000,
  char: 0o020000,
  fifo: 0o010000,
} as const;

export const FILE_TYPE_CODE = {
  file: FileTypeCode.REG_FILE,
  dir: FileTypeCode.DIR,
  char: FileTypeCode.CHRDEV,
  block: FileTypeCode.BLKDEV,
  fifo: FileTypeCode.FIFO,
  socket: FileTypeCode.SOCK,
  symlink: FileTypeCode.SYMLINK,
} as const;

/** Linux new_encode_dev(): 12-bit major, 20-bit minor, as erofs stores i_u.rdev */
export function encodeDev(major: number, minor: number): number {
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

export function decodeDev(rdev: number): { major: number; minor: number } {
  return { major: (rdev & 0xfff00) >>> 8, minor: ((rdev & 0xff) | ((rdev >>> 12) & 0xfff00)) >>> 0 };
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
