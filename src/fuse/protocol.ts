/**
 * The FUSE kernel protocol (include/uapi/linux/fuse.h, 7.x), only what a
 * read-only filesystem needs. Pure: requests in as bytes, replies out as bytes.
 * Offsets were checked with offsetof() against this machine's linux/fuse.h.
 */
import { Cursor } from '../util/cursor.js';
import { formatError } from '../errors.js';

export const FUSE_KERNEL_VERSION = 7;
/** we speak 7.31: max_pages, cache_symlinks; the kernel takes the lower of both */
export const FUSE_KERNEL_MINOR = 31;

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  OPEN: 14,
  READ: 15,
  STATFS: 17,
  RELEASE: 18,
  FLUSH: 25,
  GETXATTR: 22,
  LISTXATTR: 23,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  ACCESS: 34,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  READDIRPLUS: 44,
  LSEEK: 46,
} as const;

export const InitFlag = {
  ASYNC_READ: 1 << 0,
  BIG_WRITES: 1 << 5,
  DO_READDIRPLUS: 1 << 13,
  /** the kernel takes ENOSYS to OPEN as "never send OPEN/RELEASE again" and keeps the page cache */
  NO_OPEN_SUPPORT: 1 << 17,
  PARALLEL_DIROPS: 1 << 18,
  /** the kernel caches ACLs (one GETXATTR per inode, not per access) */
  POSIX_ACL: 1 << 20,
  MAX_PAGES: 1 << 22,
  CACHE_SYMLINKS: 1 << 23,
  /** as NO_OPEN_SUPPORT for OPENDIR; the kernel then also caches readdir output */
  NO_OPENDIR_SUPPORT: 1 << 24,
} as const;

/** What weld asks for: every flag that saves a round trip on an immutable tree. */
export const WANTED_INIT_FLAGS =
  InitFlag.ASYNC_READ |
  InitFlag.BIG_WRITES |
  InitFlag.DO_READDIRPLUS |
  InitFlag.NO_OPEN_SUPPORT |
  InitFlag.PARALLEL_DIROPS |
  InitFlag.POSIX_ACL |
  InitFlag.MAX_PAGES |
  InitFlag.CACHE_SYMLINKS |
  InitFlag.NO_OPENDIR_SUPPORT;

export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_CACHE_DIR = 1 << 3;

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const INIT_OUT_SIZE = 64;
export const KSTATFS_SIZE = 80;
export const DIRENT_HEADER_SIZE = 24;

export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: bigint;
  uid: number;
  gid: number;
  pid: number;
}

export interface Request extends InHeader {
  /** the bytes after the header, bounded by len */
  body: Uint8Array;
}

export function parseRequest(buf: Uint8Array): Request {
  const c = new Cursor(buf, 'fuse');
  if (buf.length < IN_HEADER_SIZE) throw formatError('fuse', `Cannot read FUSE request: ${buf.length} bytes, header needs ${IN_HEADER_SIZE}`, { offset: 0, field: 'fuse_in_header' });
  const len = c.u32le('len');
  if (len < IN_HEADER_SIZE || len > buf.length) throw formatError('fuse', `Cannot read FUSE request: len ${len} outside ${IN_HEADER_SIZE}..${buf.length}`, { offset: 0, field: 'len' });
  const opcode = c.u32le('opcode');
  const unique = c.u64le('unique');
  const nodeid = c.u64le('nodeid');
  const uid = c.u32le('uid');
  const gid = c.u32le('gid');
  const pid = c.u32le('pid');
  return { len, opcode, unique, nodeid, uid, gid, pid, body: buf.subarray(IN_HEADER_SIZE, len) };
}

export interface Attr {
  ino: number;
  size: number;
  mtime: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
}

export function writeAttr(dv: DataView, at: number, a: Attr): void {
  dv.setBigUint64(at + 0, BigInt(a.ino), true);
  dv.setBigUint64(at + 8, BigInt(a.size), true);
  dv.setBigUint64(at + 16, BigInt(Math.ceil(a.size / 512)), true);
  const t = BigInt.asUintN(64, BigInt(a.mtime));
  dv.setBigUint64(at + 24, t, true); // atime
  dv.setBigUint64(at + 32, t, true); // mtime
  dv.setBigUint64(at + 40, t, true); // ctime
  // 48..59: nsec fields stay 0
  dv.setUint32(at + 60, a.mode, true);
  dv.setUint32(at + 64, a.nlink, true);
  dv.setUint32(at + 68, a.uid, true);
  dv.setUint32(at + 72, a.gid, true);
  dv.setUint32(at + 76, a.rdev, true);
  dv.setUint32(at + 80, 4096, true); // blksize
}

/** A reply buffer with room for the out header; fill the body from OUT_HEADER_SIZE. */
export function reply(unique: bigint, bodySize: number): { buf: Buffer; dv: DataView } {
  const buf = Buffer.alloc(OUT_HEADER_SIZE + bodySize);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, buf.length, true);
  dv.setBigUint64(8, unique, true);
  return { buf, dv };
}

/** A reply for `size` bytes of file data: not zero-filled, the caller fills all of it. */
export function dataReply(unique: bigint, size: number): Buffer {
  const buf = Buffer.allocUnsafe(OUT_HEADER_SIZE + size);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeInt32LE(0, 4);
  buf.writeBigUInt64LE(unique, 8);
  return buf;
}

export function errorReply(unique: bigint, errno: number): Buffer {
  const { buf, dv } = reply(unique, 0);
  dv.setInt32(4, -errno, true);
  return buf;
}

/** Sets the length field once a reply was filled short of its buffer. */
export function finish(buf: Buffer, len: number): Buffer {
  const out = buf.subarray(0, len);
  out.writeUInt32LE(len, 0);
  return out;
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
}

export function parseInit(body: Uint8Array): InitIn {
  const c = new Cursor(body, 'fuse');
  return { major: c.u32le('major'), minor: c.u32le('minor'), maxReadahead: c.u32le('max_readahead'), flags: c.u32le('flags') };
}

export function initReply(unique: bigint, kernel: InitIn, maxPages: number): Buffer {
  const { buf, dv } = reply(unique, INIT_OUT_SIZE);
  const o = OUT_HEADER_SIZE;
  dv.setUint32(o + 0, FUSE_KERNEL_VERSION, true);
  dv.setUint32(o + 4, Math.min(FUSE_KERNEL_MINOR, kernel.minor), true);
  dv.setUint32(o + 8, kernel.maxReadahead, true);
  dv.setUint32(o + 12, WANTED_INIT_FLAGS & kernel.flags, true);
  dv.setUint16(o + 16, 16, true); // max_background
  dv.setUint16(o + 18, 12, true); // congestion_threshold
  dv.setUint32(o + 20, 4096, true); // max_write: read-only, nothing is written
  dv.setUint32(o + 24, 1_000_000_000, true); // time_gran: whole seconds
  dv.setUint16(o + 28, maxPages, true);
  return buf;
}

export interface ReadIn {
  fh: bigint;
  offset: number;
  size: number;
}

export function parseRead(body: Uint8Array): ReadIn {
  const c = new Cursor(body, 'fuse');
  const fh = c.u64le('fh');
  const off = c.u64le('offset');
  const size = c.u32le('size');
  if (off > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError('fuse', `Cannot read FUSE read request: offset ${off} too large`, { offset: 8, field: 'offset' });
  return { fh, offset: Number(off), size };
}

/** NUL-terminated name as sent by LOOKUP and GETXATTR. */
export function cString(body: Uint8Array, at = 0): Uint8Array {
  const end = body.indexOf(0, at);
  if (end < 0) throw formatError('fuse', 'Cannot read FUSE name: no NUL terminator', { offset: at, field: 'name' });
  return body.subarray(at, end);
}

export function parseXattrIn(body: Uint8Array): { size: number; name: Uint8Array } {
  const c = new Cursor(body, 'fuse');
  const size = c.u32le('size');
  c.u32le('padding');
  return { size, name: cString(body, 8) };
}

export function parseListXattr(body: Uint8Array): number {
  return new Cursor(body, 'fuse').u32le('size');
}

/** fuse_entry_out at `o`; nodeid 0 with a timeout is a cached negative entry */
export function writeEntry(dv: DataView, o: number, nodeid: number, attr: Attr | null, validSec: number): void {
  dv.setBigUint64(o + 0, BigInt(nodeid), true);
  dv.setBigUint64(o + 8, 0n, true); // generation
  dv.setBigUint64(o + 16, BigInt(validSec), true); // entry_valid
  dv.setBigUint64(o + 24, BigInt(validSec), true); // attr_valid
  if (attr) writeAttr(dv, o + 40, attr);
}

export function entryReply(unique: bigint, nodeid: number, attr: Attr | null, validSec: number): Buffer {
  const { buf, dv } = reply(unique, ENTRY_OUT_SIZE);
  writeEntry(dv, OUT_HEADER_SIZE, nodeid, attr, validSec);
  return buf;
}

export function attrReply(unique: bigint, attr: Attr, validSec: number): Buffer {
  const { buf, dv } = reply(unique, ATTR_OUT_SIZE);
  dv.setBigUint64(OUT_HEADER_SIZE, BigInt(validSec), true);
  writeAttr(dv, OUT_HEADER_SIZE + 16, attr);
  return buf;
}

export function openReply(unique: bigint, fh: number, openFlags: number): Buffer {
  const { buf, dv } = reply(unique, 16);
  dv.setBigUint64(OUT_HEADER_SIZE, BigInt(fh), true);
  dv.setUint32(OUT_HEADER_SIZE + 8, openFlags, true);
  return buf;
}

export function bytesReply(unique: bigint, data: Uint8Array): Buffer {
  const { buf } = reply(unique, data.length);
  buf.set(data, OUT_HEADER_SIZE);
  return buf;
}

export function u32Reply(unique: bigint, v: number): Buffer {
  const { buf, dv } = reply(unique, 8);
  dv.setUint32(OUT_HEADER_SIZE, v, true);
  return buf;
}

export function statfsReply(unique: bigint, s: { blocks: number; files: number }): Buffer {
  const { buf, dv } = reply(unique, KSTATFS_SIZE);
  const o = OUT_HEADER_SIZE;
  dv.setBigUint64(o + 0, BigInt(s.blocks), true);
  // bfree, bavail, ffree stay 0: read-only
  dv.setBigUint64(o + 24, BigInt(s.files), true);
  dv.setUint32(o + 40, 4096, true); // bsize
  dv.setUint32(o + 44, 255, true); // namelen
  dv.setUint32(o + 48, 4096, true); // frsize
  return buf;
}

/** Size of one fuse_dirent with its name, padded to 8 bytes. */
export const direntSize = (nameLen: number) => (DIRENT_HEADER_SIZE + nameLen + 7) & ~7;

export function writeDirent(dv: DataView, buf: Uint8Array, at: number, e: { ino: number; off: number; type: number; name: Uint8Array }): number {
  dv.setBigUint64(at, BigInt(e.ino), true);
  dv.setBigUint64(at + 8, BigInt(e.off), true);
  dv.setUint32(at + 16, e.name.length, true);
  dv.setUint32(at + 20, e.type, true);
  buf.set(e.name, at + DIRENT_HEADER_SIZE);
  return at + direntSize(e.name.length);
}

/** Size of one fuse_direntplus (entry_out + dirent + name), padded to 8 bytes. */
export const direntPlusSize = (nameLen: number) => ENTRY_OUT_SIZE + direntSize(nameLen);
