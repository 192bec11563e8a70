import { describe, expect, it } from 'vitest';
import type { TreeNode } from '../model.js';
import { ViewFs } from './viewfs.js';
import { FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE, InitFlag, Op, parseRequest } from './protocol.js';

const enc = new TextEncoder();
const nodes: TreeNode[] = [
  { path: '/', type: 'dir', mode: 0o40755, uid: 0, gid: 0, mtime: 100, size: 0 },
  { path: '/a', type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: 100, size: 5, object: 'aa'.repeat(32), hardlink: 7, xattrs: { 'user.k': enc.encode('v') } },
  { path: '/b', type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: 100, size: 5, object: 'aa'.repeat(32), hardlink: 7, xattrs: { 'user.k': enc.encode('v') } },
  { path: '/d', type: 'dir', mode: 0o40700, uid: 1, gid: 2, mtime: 200, size: 0 },
  { path: '/d/l', type: 'symlink', mode: 0o120777, uid: 0, gid: 0, mtime: 100, size: 3, target: '../a' },
];

function request(opcode: number, nodeid: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(40 + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(9n, 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  Buffer.from(body).copy(b, 40);
  return b;
}
const view = () => new ViewFs(nodes, { read: (_o, buf, at, len) => (buf.set(enc.encode('hello').subarray(0, len), at), Math.min(len, 5)) });
const handle = (v: ViewFs, b: Buffer) => v.handle(parseRequest(b))!;
const lookup = (v: ViewFs, dir: number, name: string) => {
  const r = handle(v, request(Op.LOOKUP, dir, Buffer.from(name + '\0')));
  return { error: r.readInt32LE(4), nodeid: Number(r.readBigUInt64LE(16)), ino: Number(r.readBigUInt64LE(56)), mode: r.readUInt32LE(56 + 60), nlink: r.readUInt32LE(56 + 64) };
};

describe('ViewFs', () => {
  it('gives hardlinks one inode with nlink 2, and directories 2 + subdirs', () => {
    const v = view();
    const a = lookup(v, 1, 'a');
    const b = lookup(v, 1, 'b');
    expect(a.nodeid).toBe(b.nodeid);
    expect(a.nlink).toBe(2);
    const root = handle(v, request(Op.GETATTR, 1, Buffer.alloc(16)));
    expect(root.readUInt32LE(16 + 16 + 64)).toBe(3);
  });

  it('answers a missing name with a cached negative entry (nodeid 0)', () => {
    const r = lookup(view(), 1, 'nope');
    expect(r.error).toBe(0);
    expect(r.nodeid).toBe(0);
  });

  it('reads, readlinks, lists xattrs and pages readdir by offset', () => {
    const v = view();
    const a = lookup(v, 1, 'a').nodeid;
    const rd = Buffer.alloc(40);
    rd.writeUInt32LE(4096, 16);
    expect(handle(v, request(Op.READ, a, rd)).subarray(16).toString()).toBe('hello');
    const d = lookup(v, 1, 'd').nodeid;
    const l = lookup(v, d, 'l').nodeid;
    expect(handle(v, request(Op.READLINK, l)).subarray(16).toString()).toBe('../a');
    const xin = Buffer.alloc(8);
    xin.writeUInt32LE(64, 0);
    expect(handle(v, request(Op.LISTXATTR, a, xin)).subarray(16).toString()).toBe('user.k\0');
    expect(handle(v, request(Op.GETXATTR, a, Buffer.concat([xin, Buffer.from('user.k\0')]))).subarray(16).toString()).toBe('v');
    expect(handle(v, request(Op.GETXATTR, a, Buffer.concat([xin, Buffer.from('user.x\0')]))).readInt32LE(4)).toBe(-61);
    const names = (off: number) => {
      const r = Buffer.alloc(40);
      r.writeBigUInt64LE(BigInt(off), 8);
      r.writeUInt32LE(4096, 16);
      const out = handle(v, request(Op.READDIR, 1, r));
      const got: string[] = [];
      for (let p = 16; p < out.length; ) {
        const len = out.readUInt32LE(p + 16);
        got.push(out.subarray(p + 24, p + 24 + len).toString());
        p += (24 + len + 7) & ~7;
      }
      return got;
    };
    expect(names(0)).toEqual(['.', '..', 'a', 'b', 'd']);
    expect(names(3)).toEqual(['b', 'd']);
  });

  it('refuses writes with EROFS', () => {
    const v = view();
    const a = lookup(v, 1, 'a').nodeid;
    const open = Buffer.alloc(8);
    open.writeUInt32LE(1, 0); // O_WRONLY
    expect(handle(v, request(Op.OPEN, a, open)).readInt32LE(4)).toBe(-30);
  });

  const init = (v: ViewFs, flags: number) => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(7, 0);
    b.writeUInt32LE(38, 4);
    b.writeUInt32LE(128 * 1024, 8);
    b.writeUInt32LE(flags >>> 0, 12);
    return handle(v, request(Op.INIT, 0, b));
  };

  it('asks only for the INIT flags the kernel offers, and drops OPEN/OPENDIR/FLUSH with ENOSYS when it may', () => {
    const v = view();
    const out = init(v, InitFlag.NO_OPEN_SUPPORT | InitFlag.NO_OPENDIR_SUPPORT | InitFlag.DO_READDIRPLUS | (1 << 2));
    expect(out.readUInt32LE(16 + 12)).toBe(InitFlag.NO_OPEN_SUPPORT | InitFlag.NO_OPENDIR_SUPPORT | InitFlag.DO_READDIRPLUS);
    const a = lookup(v, 1, 'a').nodeid;
    expect(handle(v, request(Op.OPEN, a, Buffer.alloc(8))).readInt32LE(4)).toBe(-38);
    expect(handle(v, request(Op.OPENDIR, 1, Buffer.alloc(8))).readInt32LE(4)).toBe(-38);
    expect(handle(v, request(Op.FLUSH, a, Buffer.alloc(24))).readInt32LE(4)).toBe(-38);
    // a write open is still refused before ENOSYS could make the kernel skip OPEN
    const wr = Buffer.alloc(8);
    wr.writeUInt32LE(2, 0);
    expect(handle(v, request(Op.OPEN, a, wr)).readInt32LE(4)).toBe(-30);
    // an older kernel without NO_OPEN_SUPPORT gets real opens that keep the page cache
    const old = view();
    init(old, 0);
    const o = handle(old, request(Op.OPENDIR, 1, Buffer.alloc(8)));
    expect(o.readInt32LE(4)).toBe(0);
    expect(o.readUInt32LE(16 + 8)).toBe(FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR);
  });

  it('answers READDIRPLUS with each entry\'s lookup reply (nodeid 0 for . and ..)', () => {
    const v = view();
    const r = Buffer.alloc(40);
    r.writeUInt32LE(4096, 16);
    const out = handle(v, request(Op.READDIRPLUS, 1, r));
    const got: { name: string; nodeid: number; ino: number; mode: number; off: number }[] = [];
    for (let p = 16; p < out.length; ) {
      const nodeid = Number(out.readBigUInt64LE(p));
      const mode = out.readUInt32LE(p + 40 + 60);
      const d = p + 128;
      const len = out.readUInt32LE(d + 16);
      got.push({ name: out.subarray(d + 24, d + 24 + len).toString(), nodeid, ino: Number(out.readBigUInt64LE(d)), mode, off: Number(out.readBigUInt64LE(d + 8)) });
      p = d + ((24 + len + 7) & ~7);
    }
    expect(got.map((g) => g.name)).toEqual(['.', '..', 'a', 'b', 'd']);
    expect(got.slice(0, 2).map((g) => g.nodeid)).toEqual([0, 0]);
    for (const g of got.slice(2)) {
      const l = lookup(v, 1, g.name);
      expect(g.nodeid).toBe(l.nodeid);
      expect(g.ino).toBe(l.nodeid);
      expect(g.mode).toBe(l.mode);
    }
    expect(got.map((g) => g.off)).toEqual([1, 2, 3, 4, 5]);
    // a buffer too small for one more entry stops there; the next call resumes by offset
    const small = Buffer.alloc(40);
    small.writeBigUInt64LE(2n, 8);
    small.writeUInt32LE(2 * (128 + 32), 16);
    expect(handle(v, request(Op.READDIRPLUS, 1, small)).length).toBe(16 + 2 * (128 + 32));
  });

  it('answers GETXATTR/LISTXATTR with ENOSYS when no node has xattrs, so the kernel stops asking', () => {
    const bare = new ViewFs(
      nodes.map(({ xattrs: _x, ...n }) => n),
      { read: () => 0 },
    );
    const xin = Buffer.alloc(8);
    xin.writeUInt32LE(64, 0);
    expect(handle(bare, request(Op.GETXATTR, 1, Buffer.concat([xin, Buffer.from('security.selinux\0')]))).readInt32LE(4)).toBe(-38);
    expect(handle(bare, request(Op.LISTXATTR, 1, xin)).readInt32LE(4)).toBe(-38);
    // with xattrs somewhere, a node without one says ENODATA
    expect(handle(view(), request(Op.GETXATTR, 1, Buffer.concat([xin, Buffer.from('security.selinux\0')]))).readInt32LE(4)).toBe(-61);
  });
});
