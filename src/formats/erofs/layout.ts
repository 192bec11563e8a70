/**
 * Pass 1 of the EROFS writer: fixes every inode's nid, data layout and block
 * address before any byte is written (composefs-rs' two-pass design), so the
 * writing pass cannot disagree with the offsets it refers to.
 *
 * Image shape: block 0 holds the superblock at 1024 and then the inodes
 * (meta_blkaddr = 0, so the root is nid 36 as with mkfs.erofs); inodes carry
 * their inline xattrs and, for directories and symlinks, their tail data.
 * After the inodes come the full blocks of directories and symlinks, then
 * every regular file's data, each starting on a block boundary and stored
 * FLAT_PLAIN so a file's blocks are exactly its object's blocks zero-padded.
 */
import type { FileType, TreeNode } from '../../model.js';
import { formatError } from '../../errors.js';
import { isUtf8 } from '../../util/text.js';
import { xxh32 } from './xxh32.js';
import {
  BLKSZ,
  BLKSZBITS,
  COMPACT_INODE_SIZE,
  DataLayout,
  DIRENT_SIZE,
  EROFS_BLOCK_MAP_ENTRY_SIZE,
  EROFS_CHUNK_FORMAT_BLKBITS_MASK,
  EROFS_ISLOTBITS,
  EROFS_NAME_LEN,
  EROFS_NULL_ADDR,
  EROFS_SB_SIZE,
  EROFS_SUPER_OFFSET,
  EXTENDED_INODE_SIZE,
  FEATURE_COMPAT_XATTR_FILTER,
  FEATURE_INCOMPAT_CHUNKED_FILE,
  ROOT_NID_MAX,
  S_IF,
  XATTR_ENTRY_SIZE,
  XATTR_IBODY_HEADER_SIZE,
  XATTR_FILTER_BITS,
  XATTR_FILTER_SEED,
  XATTR_PREFIXES,
  alignUp,
  encodeDev,
} from './format.js';

export interface LayoutOptions {
  /** seconds since the epoch; compact inodes inherit it as their mtime */
  buildTime: number;
  /** regular files backed by an object get their size but no data blocks (holes) */
  metadataOnly?: boolean;
  /** give every inode with xattrs an xattr name filter (FEATURE_COMPAT_XATTR_FILTER) */
  xattrFilter?: boolean;
}

export interface XattrEntry {
  name: string;
  index: number;
  suffix: Uint8Array;
  value: Uint8Array;
}

export interface DirEntry {
  name: Uint8Array;
  inode: InodePlan;
}

export interface InodePlan {
  /** position in the inode list (tree order of the first link) */
  index: number;
  node: TreeNode;
  /** display path of the first link */
  path: string;
  type: FileType;
  /** st_mode with type bits derived from `type` */
  mode: number;
  nlink: number;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
  extended: boolean;
  isize: number;
  xattrs: XattrEntry[];
  /** 0 when there are no xattrs, else header + entries */
  xattrSize: number;
  /** h_name_filter: a set bit means no xattr name hashes there (all ones = no filtering) */
  xattrFilter: number;
  layout: DataLayout;
  /** bytes after the xattrs: dir/symlink tail, or the chunk block map */
  inlineSize: number;
  /** chunk-based only: log2 of the chunk size */
  chunkBits: number;
  /** byte offset of the inode in the image */
  offset: number;
  nid: number;
  /** first data block (EROFS_NULL_ADDR when everything is inline) */
  blkaddr: number;
  /** data blocks outside the inode area */
  nblocks: number;
  /** new_encode_dev() for char/block devices */
  rdev: number;
  /** directories: every entry, '.' and '..' included, sorted by name bytes */
  entries?: DirEntry[];
  /** directories: index of the first entry of each directory block */
  dirBlockStarts?: number[];
  /** symlinks: target bytes */
  target?: Uint8Array;
}

export interface Layout {
  inodes: InodePlan[];
  buildTimeSec: number;
  buildTimeNsec: number;
  /** first block after the inode area */
  dataStartBlock: number;
  /** blocks holding directory and symlink data, right after the inode area */
  dirDataBlocks: number;
  /** total blocks in the image */
  blocks: number;
  featureIncompat: number;
  featureCompatExtra: number;
}

const utf8 = new TextEncoder();
const MAX_BLKADDR = 0xffffffff;

function fail(message: string, data: Record<string, unknown> = {}): Error {
  return formatError('erofs', `Cannot write EROFS image: ${message}`, data);
}

function splitTime(t: number, what: string): { sec: number; nsec: number } {
  if (!Number.isFinite(t)) throw fail(`${what} ${t} is not a time`);
  const sec = Math.floor(t);
  const nsec = Math.min(999_999_999, Math.round((t - sec) * 1e9));
  return { sec, nsec };
}

/** Splits an xattr name into the kernel's prefix index and the stored suffix. */
export function encodeXattrName(name: string, path: string): { index: number; suffix: Uint8Array } {
  for (const p of XATTR_PREFIXES) {
    if (p.exact ? name === p.prefix : name.startsWith(p.prefix) && name.length > p.prefix.length) {
      const suffix = utf8.encode(name.slice(p.prefix.length));
      if (suffix.length > 255) throw fail(`xattr name ${JSON.stringify(name)} on ${path} is longer than 255 bytes after its prefix`, { path });
      return { index: p.index, suffix };
    }
  }
  // long (custom) prefixes arrived in Linux 6.4; without them the kernel cannot find such a name
  throw fail(`xattr ${JSON.stringify(name)} on ${path} has no prefix EROFS can store (user., trusted., security., system.posix_acl_*)`, { path });
}

function planXattrs(xattrs: Record<string, Uint8Array> | undefined, path: string): { list: XattrEntry[]; size: number } {
  if (!xattrs) return { list: [], size: 0 };
  const names = Object.keys(xattrs);
  if (names.length === 0) return { list: [], size: 0 };
  // sorted by full name bytes so the image is deterministic
  names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const list: XattrEntry[] = [];
  let size = XATTR_IBODY_HEADER_SIZE;
  for (const name of names) {
    const value = xattrs[name]!;
    if (value.length > 0xffff) throw fail(`xattr ${name} on ${path} is ${value.length} bytes, limit 65535`, { path });
    const { index, suffix } = encodeXattrName(name, path);
    list.push({ name, index, suffix, value });
    size += alignUp(XATTR_ENTRY_SIZE + suffix.length + value.length, 4);
  }
  // i_xattr_icount is a u16 counting 4-byte slots after the 12-byte header
  if ((size - XATTR_IBODY_HEADER_SIZE) / 4 + 1 > 0xffff) throw fail(`xattrs on ${path} take ${size} bytes, too many for one inode`, { path });
  return { list, size };
}

/** The bloom filter of an inode's xattrs: every bit clear except those no name of it hashes to. */
export function xattrNameFilter(xattrs: readonly XattrEntry[]): number {
  let present = 0;
  for (const x of xattrs) present |= 1 << (xxh32(x.suffix, (XATTR_FILTER_SEED + x.index) >>> 0) & (XATTR_FILTER_BITS - 1));
  return ~present >>> 0;
}

const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** Map key of a path given as bytes: its string when valid UTF-8 (as `path` would be), else tagged latin1. */
function pathKey(b: Uint8Array): string {
  return isUtf8(b) ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : '\0' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

const DOT = utf8.encode('.');
const DOTDOT = utf8.encode('..');

/** Greedy split of sorted dirents into blocks; a dirent and its name never straddle a block. */
function planDirectory(dir: InodePlan): void {
  const entries = dir.entries!;
  entries.sort((a, b) => compareBytes(a.name, b.name));
  const starts = [0];
  let used = 0;
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && compareBytes(entries[i - 1]!.name, entries[i]!.name) === 0)
      throw fail(`duplicate name ${JSON.stringify(Buffer.from(entries[i]!.name).toString())} in ${dir.path}`, { path: dir.path });
    const need = DIRENT_SIZE + entries[i]!.name.length;
    if (used + need > BLKSZ) {
      starts.push(i);
      used = 0;
    }
    used += need;
  }
  dir.dirBlockStarts = starts;
  dir.size = (starts.length - 1) * BLKSZ + used;
}

export function layoutErofs(nodes: readonly TreeNode[], opts: LayoutOptions): Layout {
  const bt = splitTime(opts.buildTime, 'buildTime');
  if (nodes.length === 0) throw fail('the tree is empty');
  const root = nodes[0]!;
  if (root.path !== '/' || root.type !== 'dir') throw fail(`the first node must be the root directory, got ${JSON.stringify(root.path)}`);

  const inodes: InodePlan[] = [];
  // key: path bytes as latin1, so non-UTF-8 names index like any other
  const dirs = new Map<string, InodePlan>();
  const links = new Map<number, InodePlan>();
  let chunked = false;

  for (const node of nodes) {
    let key = node.path;
    let parent: InodePlan | undefined;
    let name: Uint8Array | undefined;
    if (node !== root) {
      let parentKey: string;
      const b = node.pathBytes;
      if (b) {
        const slash = b.lastIndexOf(0x2f);
        if (b[0] !== 0x2f || slash === b.length - 1) throw fail(`path ${JSON.stringify(node.path)} is not a normalised absolute path`, { path: node.path });
        key = pathKey(b);
        parentKey = slash === 0 ? '/' : pathKey(b.subarray(0, slash));
        name = b.subarray(slash + 1);
      } else {
        // UTF-8 paths key by their string; only the name needs encoding
        const slash = key.lastIndexOf('/');
        if (key[0] !== '/' || slash === key.length - 1) throw fail(`path ${JSON.stringify(node.path)} is not a normalised absolute path`, { path: node.path });
        parentKey = slash === 0 ? '/' : key.slice(0, slash);
        name = utf8.encode(key.slice(slash + 1));
      }
      if (name.length > EROFS_NAME_LEN) throw fail(`name of ${node.path} is ${name.length} bytes, limit ${EROFS_NAME_LEN}`, { path: node.path });
      if (name.includes(0) || (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e))
        throw fail(`name of ${JSON.stringify(node.path)} is not a valid file name`, { path: node.path });
      parent = dirs.get(parentKey);
      if (!parent) throw fail(`parent directory of ${node.path} is missing or comes after it`, { path: node.path });
    }

    // a hardlink shares the inode of its group's first link
    const shared = node.hardlink ? links.get(node.hardlink) : undefined;
    if (shared) {
      if (node.type === 'dir' || shared.type !== node.type) throw fail(`hardlink ${node.path} does not match ${shared.path}`, { path: node.path });
      shared.nlink++;
      parent!.entries!.push({ name: name!, inode: shared });
      continue;
    }

    const t = splitTime(node.mtime, `mtime of ${node.path}`);
    const x = planXattrs(node.xattrs, node.path);
    const plan: InodePlan = {
      index: inodes.length,
      node,
      path: node.path,
      type: node.type,
      mode: S_IF[node.type] | (node.mode & 0o7777),
      nlink: node.type === 'dir' ? 2 : 1,
      size: 0,
      mtimeSec: t.sec,
      mtimeNsec: t.nsec,
      extended: false,
      isize: COMPACT_INODE_SIZE,
      xattrs: x.list,
      xattrSize: x.size,
      // 0 means "may have any name": what kernels before the filter wrote as h_reserved
      xattrFilter: opts.xattrFilter && x.list.length ? xattrNameFilter(x.list) : 0,
      layout: DataLayout.FLAT_PLAIN,
      inlineSize: 0,
      chunkBits: 0,
      offset: 0,
      nid: 0,
      blkaddr: 0,
      nblocks: 0,
      rdev: 0,
    };
    if (!isU32(node.uid) || !isU32(node.gid)) throw fail(`uid/gid ${node.uid}/${node.gid} of ${node.path} is out of range`, { path: node.path });
    switch (node.type) {
      case 'dir':
        plan.entries = [
          { name: DOT, inode: plan },
          { name: DOTDOT, inode: parent ?? plan },
        ];
        if (dirs.has(key)) throw fail(`duplicate path ${node.path}`, { path: node.path });
        dirs.set(key, plan);
        if (parent) parent.nlink++;
        break;
      case 'symlink': {
        plan.target = utf8.encode(node.target ?? '');
        plan.size = plan.target.length;
        if (plan.size === 0 || plan.size >= BLKSZ) throw fail(`symlink target of ${node.path} is ${plan.size} bytes, must be 1..4095`, { path: node.path });
        break;
      }
      case 'file': {
        plan.size = node.size;
        if (!Number.isSafeInteger(node.size) || node.size < 0) throw fail(`size ${node.size} of ${node.path} is invalid`, { path: node.path });
        if (node.data !== undefined && node.data.length !== node.size) throw fail(`inline data of ${node.path} is ${node.data.length} bytes, size says ${node.size}`, { path: node.path });
        if (node.size > 0 && node.data === undefined && !node.object) throw fail(`${node.path} has a size but neither object nor data`, { path: node.path });
        if (node.size > 0 && node.data === undefined && opts.metadataOnly) {
          // composefs: a sparse file of the right size, one null chunk (a hole) per chunk
          plan.layout = DataLayout.CHUNK_BASED;
          const bits = Math.max(BLKSZBITS, Math.ceil(Math.log2(node.size)));
          plan.chunkBits = Math.min(bits, BLKSZBITS + EROFS_CHUNK_FORMAT_BLKBITS_MASK);
          plan.inlineSize = Math.ceil(node.size / 2 ** plan.chunkBits) * EROFS_BLOCK_MAP_ENTRY_SIZE;
          chunked = true;
        } else {
          plan.nblocks = Math.ceil(node.size / BLKSZ);
        }
        break;
      }
      case 'char':
      case 'block': {
        const major = node.rdevMajor ?? 0;
        const minor = node.rdevMinor ?? 0;
        if (major < 0 || major > 0xfff || minor < 0 || minor > 0xfffff) throw fail(`device ${major}:${minor} of ${node.path} does not fit Linux dev_t`, { path: node.path });
        plan.rdev = encodeDev(major, minor);
        break;
      }
      case 'fifo':
      case 'socket':
        break;
      default:
        throw fail(`unknown file type ${String(node.type)} of ${node.path}`, { path: node.path });
    }
    if (node.hardlink) links.set(node.hardlink, plan);
    if (parent) parent.entries!.push({ name: name!, inode: plan });
    inodes.push(plan);
  }

  for (const ino of inodes) {
    if (ino.type === 'dir') planDirectory(ino);
    const fitsCompact =
      ino.node.uid <= 0xffff &&
      ino.node.gid <= 0xffff &&
      ino.nlink <= 0xffff &&
      ino.size <= 0xffffffff &&
      ino.mtimeSec === bt.sec &&
      ino.mtimeNsec === bt.nsec;
    ino.extended = !fitsCompact;
    ino.isize = fitsCompact ? COMPACT_INODE_SIZE : EXTENDED_INODE_SIZE;
  }

  // place inodes right after the superblock, 32-byte aligned
  let pos = EROFS_SUPER_OFFSET + EROFS_SB_SIZE;
  for (const ino of inodes) {
    const fixed = ino.isize + ino.xattrSize;
    if (ino.type === 'dir' || ino.type === 'symlink') {
      const tail = ino.size % BLKSZ;
      const full = Math.floor(ino.size / BLKSZ);
      let inline = false;
      if (tail > 0 && fixed + tail <= BLKSZ) {
        const rem = BLKSZ - (pos % BLKSZ);
        // inline data must sit in the same block as its inode (Linux < 6.12 symlinks need it);
        // padding up to a new block is worth it for small tails only, like mkcomposefs
        if (fixed + tail <= rem) inline = true;
        else if (tail <= BLKSZ / 2) {
          pos = alignUp(pos, BLKSZ);
          inline = true;
        }
      }
      ino.layout = inline ? DataLayout.FLAT_INLINE : DataLayout.FLAT_PLAIN;
      ino.inlineSize = inline ? tail : 0;
      ino.nblocks = inline ? full : Math.ceil(ino.size / BLKSZ);
    }
    const total = fixed + ino.inlineSize;
    // keep an inode with its xattrs and inline data inside one block when it can be
    if (total <= BLKSZ && (pos % BLKSZ) + total > BLKSZ) pos = alignUp(pos, BLKSZ);
    ino.offset = pos;
    ino.nid = Math.floor(pos / (1 << EROFS_ISLOTBITS));
    pos = alignUp(pos + total, 32);
  }
  if (inodes[0]!.nid > ROOT_NID_MAX) throw fail('root nid does not fit the superblock');

  // data area: directory/symlink blocks first, then file data, in inode order
  const dataStartBlock = Math.ceil(pos / BLKSZ);
  let blk = dataStartBlock;
  for (const ino of inodes) {
    if (ino.type !== 'dir' && ino.type !== 'symlink') continue;
    if (ino.nblocks > 0) {
      ino.blkaddr = blk;
      blk += ino.nblocks;
    } else ino.blkaddr = EROFS_NULL_ADDR;
  }
  const dirDataBlocks = blk - dataStartBlock;
  for (const ino of inodes) {
    if (ino.type !== 'file' || ino.nblocks === 0) continue;
    ino.blkaddr = blk;
    blk += ino.nblocks;
  }
  if (blk > MAX_BLKADDR) throw fail(`image needs ${blk} blocks, more than a 32-bit block address reaches`);

  return {
    inodes,
    buildTimeSec: bt.sec,
    buildTimeNsec: bt.nsec,
    dataStartBlock,
    dirDataBlocks,
    blocks: blk,
    featureIncompat: chunked ? FEATURE_INCOMPAT_CHUNKED_FILE : 0,
    featureCompatExtra: opts.xattrFilter ? FEATURE_COMPAT_XATTR_FILTER : 0,
  };
}
