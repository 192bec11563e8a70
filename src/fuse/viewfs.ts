/**
 * A read-only filesystem over a resolved tree, answering FUSE requests.
 * Inode numbers are the node's position in the sorted tree (root = 1), so they
 * are stable for a given manifest; hardlinks share the first link's inode.
 * Content comes from the store through the injected `read`.
 */
import type { TreeNode } from '../model.js';
import { bug } from '../errors.js';
import * as P from './protocol.js';

const EIO = 5;
const EBADF = 9;
const EINVAL = 22;
const ENOTDIR = 20;
const EISDIR = 21;
const ERANGE = 34;
const ENOSYS = 38;
const ENODATA = 61;
const EROFS = 30;

/** The tree never changes while mounted: let the kernel cache entries and attributes for a day. */
const VALID_SEC = 86400;

interface Inode {
  node: TreeNode;
  attr: P.Attr;
  /** directories: name (latin1 of the raw bytes) → inode, and the ordered entries */
  children?: Map<string, number>;
  entries?: { name: Uint8Array; ino: number }[];
  parent: number;
  xattrNames?: Uint8Array;
}

export interface ContentReader {
  /** reads up to `length` bytes of an object at `position` into buf[at..]; returns the count */
  read(object: string, buf: Uint8Array, at: number, length: number, position: number): number;
}

const enc = new TextEncoder();
const DT: Record<TreeNode['type'], number> = { file: 8, dir: 4, symlink: 10, char: 2, block: 6, fifo: 1, socket: 12 };

// new_encode_dev, as fuse_fillattr decodes attr.rdev
const encodeDev = (major: number, minor: number) => ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0;

export class ViewFs {
  private readonly inodes: (Inode | undefined)[] = [undefined];
  private readonly totalBlocks: number;
  readonly maxPages = 256;
  initialized = false;
  /** the kernel drops OPEN/OPENDIR (and their RELEASE) after one ENOSYS */
  private noOpen = false;
  private noOpenDir = false;
  /** a tree without any xattr answers GETXATTR with ENOSYS once, and the kernel stops asking */
  private readonly anyXattrs: boolean;

  constructor(
    nodes: readonly TreeNode[],
    private readonly content: ContentReader,
  ) {
    if (!nodes.length || nodes[0]!.path !== '/' || nodes[0]!.type !== 'dir') throw bug('view tree must start with the root directory');
    const byPath = new Map<string, number>();
    const byLink = new Map<number, number>();
    let blocks = 0;
    for (const n of nodes) {
      // latin1 of the raw bytes; an ASCII path is its own key (most are: no Buffer round trip)
      const key = n.pathBytes ? Buffer.from(n.pathBytes).toString('latin1') : ASCII.test(n.path) ? n.path : Buffer.from(n.path, 'utf8').toString('latin1');
      const slash = key.lastIndexOf('/');
      const parentKey = slash <= 0 ? '/' : key.slice(0, slash);
      const parent = key === '/' ? 1 : byPath.get(parentKey);
      if (parent === undefined) throw bug(`view node ${n.path} comes before its parent`);
      let ino: number;
      const linkTo = n.hardlink ? byLink.get(n.hardlink) : undefined;
      if (linkTo !== undefined) {
        ino = linkTo;
        this.inodes[ino]!.attr.nlink++;
      } else {
        ino = this.inodes.length;
        const rdev = n.type === 'char' || n.type === 'block' ? encodeDev(n.rdevMajor ?? 0, n.rdevMinor ?? 0) : 0;
        const size = n.type === 'symlink' ? Buffer.byteLength(n.target ?? '', 'utf8') : n.type === 'file' ? n.size : 0;
        const inode: Inode = { node: n, parent, attr: { ino, size, mtime: n.mtime, mode: n.mode, nlink: n.type === 'dir' ? 2 : 1, uid: n.uid, gid: n.gid, rdev } };
        if (n.type === 'dir') (inode.children = new Map()), (inode.entries = []);
        if (n.xattrs) {
          const names = Object.keys(n.xattrs).sort();
          if (names.length) inode.xattrNames = Buffer.from(names.map((x) => x + '\0').join(''));
        }
        this.inodes.push(inode);
        if (n.hardlink) byLink.set(n.hardlink, ino);
        blocks += Math.ceil(size / 4096);
      }
      byPath.set(key, ino);
      if (key === '/') continue;
      const dir = this.inodes[parent]!;
      if (!dir.children) throw bug(`view node ${n.path} is inside a non-directory`);
      const name = Buffer.from(key.slice(slash + 1), 'latin1');
      dir.children.set(name.toString('latin1'), ino);
      dir.entries!.push({ name, ino });
      if (n.type === 'dir') dir.attr.nlink++;
    }
    this.totalBlocks = blocks;
    this.anyXattrs = this.inodes.some((i) => i?.xattrNames !== undefined);
  }

  get inodeCount(): number {
    return this.inodes.length - 1;
  }

  private inode(nodeid: bigint): Inode | undefined {
    return nodeid < BigInt(this.inodes.length) ? this.inodes[Number(nodeid)] : undefined;
  }

  /** Answers one request; null when the protocol wants no reply (FORGET, INTERRUPT). */
  handle(req: P.Request): Buffer | null {
    const u = req.unique;
    switch (req.opcode) {
      case P.Op.INIT: {
        const k = P.parseInit(req.body);
        this.initialized = true;
        this.noOpen = (k.flags & P.InitFlag.NO_OPEN_SUPPORT) !== 0;
        this.noOpenDir = (k.flags & P.InitFlag.NO_OPENDIR_SUPPORT) !== 0;
        if (k.major !== P.FUSE_KERNEL_VERSION) return P.errorReply(u, EIO);
        return P.initReply(u, k, this.maxPages);
      }
      case P.Op.FORGET:
      case P.Op.BATCH_FORGET:
      case P.Op.INTERRUPT:
        return null;
      case P.Op.DESTROY:
        return P.reply(u, 0).buf;
    }
    const ino = this.inode(req.nodeid);
    if (!ino) return P.errorReply(u, EBADF);
    switch (req.opcode) {
      case P.Op.LOOKUP: {
        if (!ino.children) return P.errorReply(u, ENOTDIR);
        const name = Buffer.from(P.cString(req.body)).toString('latin1');
        const child = name === '.' ? ino.attr.ino : name === '..' ? ino.parent : ino.children.get(name);
        if (child === undefined) return P.entryReply(u, 0, null, VALID_SEC);
        return P.entryReply(u, child, this.inodes[child]!.attr, VALID_SEC);
      }
      case P.Op.GETATTR:
        return P.attrReply(u, ino.attr, VALID_SEC);
      case P.Op.READLINK:
        if (ino.node.type !== 'symlink') return P.errorReply(u, EINVAL);
        return P.bytesReply(u, enc.encode(ino.node.target ?? ''));
      case P.Op.OPEN: {
        if (ino.node.type === 'dir') return P.errorReply(u, EISDIR);
        const flags = new DataView(req.body.buffer, req.body.byteOffset, req.body.byteLength).getUint32(0, true);
        if ((flags & 3) !== 0 || flags & 0o1000) return P.errorReply(u, EROFS); // O_WRONLY/O_RDWR/O_TRUNC
        if (this.noOpen) return P.errorReply(u, ENOSYS);
        return P.openReply(u, 0, P.FOPEN_KEEP_CACHE);
      }
      case P.Op.OPENDIR:
        if (!ino.children) return P.errorReply(u, ENOTDIR);
        if (this.noOpenDir) return P.errorReply(u, ENOSYS);
        return P.openReply(u, 0, P.FOPEN_KEEP_CACHE | P.FOPEN_CACHE_DIR);
      case P.Op.READ:
        return this.read(u, ino, P.parseRead(req.body));
      case P.Op.READDIR:
        return this.readdir(u, ino, P.parseRead(req.body), false);
      case P.Op.READDIRPLUS:
        return this.readdir(u, ino, P.parseRead(req.body), true);
      case P.Op.RELEASE:
      case P.Op.RELEASEDIR:
        return P.reply(u, 0).buf;
      case P.Op.FLUSH:
        // nothing is ever dirty: ENOSYS makes the kernel stop sending FLUSH on close
        return P.errorReply(u, ENOSYS);
      case P.Op.ACCESS:
        // default_permissions: the kernel already checked the mode bits
        return P.reply(u, 0).buf;
      case P.Op.STATFS:
        return P.statfsReply(u, { blocks: this.totalBlocks, files: this.inodeCount });
      case P.Op.GETXATTR: {
        if (!this.anyXattrs) return P.errorReply(u, ENOSYS);
        const { size, name } = P.parseXattrIn(req.body);
        const v = ino.node.xattrs?.[Buffer.from(name).toString('utf8')];
        if (!v) return P.errorReply(u, ENODATA);
        if (size === 0) return P.u32Reply(u, v.length);
        if (size < v.length) return P.errorReply(u, ERANGE);
        return P.bytesReply(u, v);
      }
      case P.Op.LISTXATTR: {
        if (!this.anyXattrs) return P.errorReply(u, ENOSYS);
        const size = P.parseListXattr(req.body);
        const names = ino.xattrNames ?? new Uint8Array(0);
        if (size === 0) return P.u32Reply(u, names.length);
        if (size < names.length) return P.errorReply(u, ERANGE);
        return P.bytesReply(u, names);
      }
      case P.Op.SETATTR:
        return P.errorReply(u, EROFS);
      default:
        return P.errorReply(u, ENOSYS);
    }
  }

  private read(u: bigint, ino: Inode, r: P.ReadIn): Buffer {
    if (ino.node.type !== 'file') return P.errorReply(u, EISDIR);
    const size = ino.attr.size;
    const want = Math.max(0, Math.min(r.size, size - r.offset));
    const buf = P.dataReply(u, want);
    if (want === 0) return buf;
    const n = this.content.read(ino.node.object!, buf, P.OUT_HEADER_SIZE, want, r.offset);
    return n === want ? buf : P.finish(buf, P.OUT_HEADER_SIZE + n);
  }

  /** READDIR, or READDIRPLUS: each entry also carries its lookup reply, so `ls -l` needs no LOOKUP */
  private readdir(u: bigint, ino: Inode, r: P.ReadIn, plus: boolean): Buffer {
    if (!ino.entries) return P.errorReply(u, ENOTDIR);
    const { buf, dv } = P.reply(u, r.size);
    let at = P.OUT_HEADER_SIZE;
    const end = P.OUT_HEADER_SIZE + r.size;
    // offsets: 0 → ".", 1 → "..", 2+i → entries[i]; each dirent's off is the next one's
    for (let i = r.offset; i < ino.entries.length + 2; i++) {
      const e =
        i === 0
          ? { name: DOT, ino: ino.attr.ino }
          : i === 1
            ? { name: DOTDOT, ino: ino.parent }
            : ino.entries[i - 2]!;
      const size = plus ? P.direntPlusSize(e.name.length) : P.direntSize(e.name.length);
      if (at + size > end) break;
      const target = this.inodes[e.ino]!;
      if (plus) {
        // the kernel skips "." and ".."; nodeid 0 says "no entry to instantiate"
        P.writeEntry(dv, at, i < 2 ? 0 : e.ino, i < 2 ? null : target.attr, VALID_SEC);
        at += P.ENTRY_OUT_SIZE;
      }
      at = P.writeDirent(dv, buf, at, { ino: e.ino, off: i + 1, type: DT[target.node.type], name: e.name });
    }
    return P.finish(buf, at);
  }
}

const ASCII = /^[\x00-\x7f]*$/;
const DOT = Uint8Array.of(0x2e);
const DOTDOT = Uint8Array.of(0x2e, 0x2e);
