/**
 * Oracle tests for weld's EROFS writer: fsck.erofs (erofs-utils 1.5) must
 * accept and extract the image, and the kernel's erofs (loop mount) and
 * overlayfs must show exactly the tree that went in.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, lstatSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TreeNode } from '../src/model.js';
import { encodeErofs, materialize, type ErofsImage } from '../src/formats/erofs/writer.js';
import { layoutErofs } from '../src/formats/erofs/layout.js';
import { EROFS_SUPER_OFFSET, FEATURE_COMPAT_XATTR_FILTER, SB, XATTR_FILTER_SEED } from '../src/formats/erofs/format.js';
import { xxh32 } from '../src/formats/erofs/xxh32.js';
import { blake3Hex } from '../src/store/hash.js';
import { has, run } from './helpers/tools.js';

const isRoot = process.getuid?.() === 0;
const haveTools = has('fsck.erofs') && has('getfattr') && has('setcap');
const utf8 = new TextEncoder();
const BUILD_TIME = 1_700_000_000;

const S_IF: Record<TreeNode['type'], number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

function pathBytes(n: TreeNode): Uint8Array {
  return n.pathBytes ?? utf8.encode(n.path);
}

function sortTree(nodes: TreeNode[]): TreeNode[] {
  return nodes.sort((a, b) => Buffer.compare(pathBytes(a), pathBytes(b)));
}

/** deterministic pseudo-random bytes (xorshift32), so content is not all zeros */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** security.capability bytes for cap_net_raw=ep, as setcap writes them */
function capNetRaw(dir: string): Uint8Array {
  const f = path.join(dir, 'cap-probe');
  writeFileSync(f, '');
  run('setcap', ['cap_net_raw=ep', f]);
  const out = run('getfattr', ['-n', 'security.capability', '-e', 'hex', '--absolute-names', f]).stdout.toString();
  const hex = /security\.capability=0x([0-9a-f]+)/.exec(out)![1]!;
  return Buffer.from(hex, 'hex');
}

interface Fixture {
  nodes: TreeNode[];
  objects: Map<string, Uint8Array>;
}

function buildTree(cap: Uint8Array): Fixture {
  const objects = new Map<string, Uint8Array>();
  const nodes: TreeNode[] = [];
  const dir = (p: string, extra: Partial<TreeNode> = {}) =>
    nodes.push({ path: p, type: 'dir', mode: 0o040755, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0, ...extra });
  const file = (p: string, content: Uint8Array, extra: Partial<TreeNode> = {}) => {
    const id = blake3Hex(content);
    objects.set(id, content);
    nodes.push({ path: p, type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: BUILD_TIME, size: content.length, object: content.length ? id : undefined, ...extra });
  };
  dir('/');
  dir('/big', { mtime: BUILD_TIME - 5 });
  // ~3000 entries: the directory spans many blocks
  for (let i = 0; i < 3000; i++) {
    const name = `entry-${String(i).padStart(5, '0')}${'x'.repeat(i % 37)}`;
    if (i % 100 === 0) dir(`/big/${name}`);
    else nodes.push({ path: `/big/${name}`, type: 'fifo', mode: 0o010600, uid: i, gid: i, mtime: BUILD_TIME + i, size: 0 });
  }
  dir('/files');
  [0, 1, 4095, 4096, 4097, 1024 * 1024 + 3].forEach((n, i) => file(`/files/size-${n}`, bytesOf(n, 1000 + i), { mtime: BUILD_TIME + 100 * i }));
  nodes.push({ path: '/files/inline-data', type: 'file', mode: 0o100600, uid: 1, gid: 2, mtime: BUILD_TIME, size: 5000, data: bytesOf(5000, 77) });
  file('/files/setuid', bytesOf(100, 5), { mode: 0o104755, mtime: 0 });
  file('/files/setgid', bytesOf(101, 6), { mode: 0o102755, mtime: 2 ** 33 });
  file('/files/bigids', bytesOf(102, 7), { uid: 70000, gid: 70001 });
  file('/files/ping', bytesOf(300, 8), { mode: 0o100755, xattrs: { 'security.capability': cap } });
  file('/files/xattrs', bytesOf(10, 9), {
    xattrs: {
      'user.comment': utf8.encode('hello world'),
      'user.empty': new Uint8Array(0),
      'trusted.weld': bytesOf(300, 10),
      'security.capability': cap,
    },
  });
  file('/files/hard-a', bytesOf(4200, 11), { hardlink: 7, mtime: 12345 });
  file('/hl/hard-b', bytesOf(4200, 11), { hardlink: 7, mtime: 12345 });
  file('/files/hard-c', bytesOf(4200, 11), { hardlink: 7, mtime: 12345 });
  dir('/hl', { mode: 0o041777 });
  dir('/dev', { xattrs: { 'user.dir': utf8.encode('on a directory') } });
  nodes.push({ path: '/dev/null', type: 'char', mode: 0o020666, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0, rdevMajor: 1, rdevMinor: 3 });
  nodes.push({ path: '/dev/sda1', type: 'block', mode: 0o060660, uid: 0, gid: 6, mtime: BUILD_TIME, size: 0, rdevMajor: 8, rdevMinor: 1 });
  nodes.push({ path: '/dev/wide', type: 'char', mode: 0o020600, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0, rdevMajor: 259, rdevMinor: 131073 });
  nodes.push({ path: '/dev/fifo', type: 'fifo', mode: 0o010644, uid: 0, gid: 0, mtime: BUILD_TIME + 1, size: 0 });
  nodes.push({ path: '/dev/sock', type: 'socket', mode: 0o140755, uid: 0, gid: 0, mtime: BUILD_TIME + 2, size: 0 });
  dir('/links');
  const link = (p: string, target: string, extra: Partial<TreeNode> = {}) =>
    nodes.push({ path: p, type: 'symlink', mode: 0o120777, uid: 0, gid: 0, mtime: BUILD_TIME, size: utf8.encode(target).length, target, ...extra });
  link('/links/short', '../files/size-1');
  link('/links/mid', 'm/'.repeat(1000)); // 2000 bytes: inline after padding
  link('/links/long3000', 'n/'.repeat(1500)); // too big to inline: a block of its own
  link('/links/max', 'a/'.repeat(2047) + 'z', { mtime: 99, uid: 5 }); // 4095 bytes
  dir('/names');
  file(`/names/${'L'.repeat(255)}`, bytesOf(33, 12));
  nodes.push({
    path: '/names/\\xff\\xfe-bin',
    pathBytes: Buffer.concat([utf8.encode('/names/'), Buffer.from([0xff, 0xfe]), utf8.encode('-bin')]),
    type: 'file',
    mode: 0o100644,
    uid: 0,
    gid: 0,
    mtime: BUILD_TIME,
    size: 4,
    data: utf8.encode('raw\n'),
  });
  file('/names/\u00e9t\u00e9', bytesOf(3, 13));
  file('/names/-dash', bytesOf(3, 14)); // sorts before '.'
  let p = '';
  for (const c of ['a', 'b', 'c', 'd', 'e', 'f']) {
    p += `/nest${c}`;
    dir(p, { mtime: BUILD_TIME - c.charCodeAt(0) });
  }
  file(`${p}/leaf`, bytesOf(7, 15));
  return { nodes: sortTree(nodes), objects };
}

function readObjects(objects: Map<string, Uint8Array>) {
  return (id: string) => {
    const o = objects.get(id);
    if (!o) throw new Error(`no object ${id}`);
    return o;
  };
}

/** fsck.erofs 1.5 exits 0 even on a bad checksum, so its stderr counts too */
function fsckClean(args: string[]): void {
  const r = run('fsck.erofs', args, { allowFail: true });
  const out = r.stdout.toString() + r.stderr;
  expect(out).not.toMatch(/<E>|<W>/);
  expect(r.status).toBe(0);
}

function mount(args: string[]): void {
  run('mount', args);
}
function umount(dir: string): void {
  run('umount', ['-l', dir], { allowFail: true });
}

function contentOf(n: TreeNode, objects: Map<string, Uint8Array>): Uint8Array {
  if (n.data) return n.data;
  return n.object ? objects.get(n.object)! : new Uint8Array(0);
}

/** parses `getfattr -R -d -m - -e hex` into path → name → hex */
function xattrsUnder(root: string): Map<string, Map<string, string>> {
  const out = run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root]).stdout.toString('latin1');
  const res = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      cur = new Map();
      res.set(line.slice(8), cur);
    } else if (line && cur) {
      const eq = line.indexOf('=');
      if (eq < 0) cur.set(line, '');
      else cur.set(line.slice(0, eq), line.slice(eq + 1).replace(/^0x/, '').replace(/^""$/, ''));
    }
  }
  return res;
}

/** Compares every node of the tree with what the mounted filesystem shows. */
function checkMounted(mnt: string, fx: Fixture, opts: { metadata?: boolean } = {}): void {
  const { nodes, objects } = fx;
  const subdirs = new Map<string, number>();
  const linkCount = new Map<number, number>();
  const children = new Map<string, Buffer[]>();
  for (const n of nodes) {
    const b = Buffer.from(pathBytes(n));
    if (n.path === '/') continue;
    const slash = b.lastIndexOf(0x2f);
    const parent = slash === 0 ? '/' : b.subarray(0, slash).toString('latin1');
    if (n.type === 'dir') subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    if (n.hardlink) linkCount.set(n.hardlink, (linkCount.get(n.hardlink) ?? 0) + 1);
    children.set(parent, [...(children.get(parent) ?? []), b.subarray(slash + 1)]);
  }
  const inoOfLink = new Map<number, bigint>();
  const seenXattrs = xattrsUnder(mnt);
  for (const n of nodes) {
    const rel = Buffer.from(pathBytes(n));
    const key = rel.toString('latin1');
    const p = Buffer.concat([Buffer.from(mnt), n.path === '/' ? Buffer.alloc(0) : rel]);
    const st = lstatSync(p, { bigint: true });
    const where = n.path;
    expect(Number(st.mode), where).toBe(n.mode);
    expect(Number(st.mode) & 0o170000, where).toBe(S_IF[n.type]);
    expect(Number(st.uid), where).toBe(n.uid);
    expect(Number(st.gid), where).toBe(n.gid);
    expect(st.mtimeNs, where).toBe(BigInt(n.mtime) * 1_000_000_000n);
    if (n.type === 'dir') {
      expect(Number(st.nlink), where).toBe(2 + (subdirs.get(key) ?? 0));
      const names = (readdirSync(p, { encoding: 'buffer' }) as Buffer[]).map((x) => x.toString('latin1')).sort();
      expect(names, where).toEqual((children.get(key) ?? []).map((x) => x.toString('latin1')).sort());
    } else {
      expect(Number(st.nlink), where).toBe(n.hardlink ? linkCount.get(n.hardlink) : 1);
    }
    if (n.type === 'file') {
      expect(Number(st.size), where).toBe(n.size);
      expect(Buffer.compare(readFileSync(p), Buffer.from(contentOf(n, objects))), where).toBe(0);
    }
    if (n.type === 'symlink') {
      expect(Number(st.size), where).toBe(n.size);
      expect((readlinkSync(p, { encoding: 'buffer' }) as Buffer).toString(), where).toBe(n.target);
    }
    if (n.type === 'char' || n.type === 'block') {
      // glibc dev_t: major = bits 8..19 (+32..), minor = bits 0..7 and 20..
      const rdev = Number(st.rdev);
      expect(((rdev >>> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff, where).toBe(n.rdevMajor);
      expect((rdev & 0xff) | ((rdev >>> 12) & ~0xff), where).toBe(n.rdevMinor);
    }
    if (n.hardlink) {
      const ino = inoOfLink.get(n.hardlink);
      if (ino === undefined) inoOfLink.set(n.hardlink, st.ino);
      else expect(st.ino, where).toBe(ino);
    }
    {
      const got = seenXattrs.get(mnt + (n.path === '/' ? '' : n.path)) ?? new Map();
      // overlayfs hides its own trusted.overlay.* xattrs in the composed view
      const shown = Object.entries(n.xattrs ?? {}).filter(([k]) => !(opts.metadata && k.startsWith('trusted.overlay.')));
      const want = new Map(shown.map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
      expect(Object.fromEntries(got), where).toEqual(Object.fromEntries(want));
    }
  }
}

describe.skipIf(!isRoot || !haveTools)('EROFS writer against fsck.erofs and the kernel', () => {
  let tmp: string;
  let fx: Fixture;
  let image: ErofsImage;
  let img: string;
  let bytes: Uint8Array;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'weld-erofs-'));
    fx = buildTree(capNetRaw(tmp));
    image = encodeErofs(fx.nodes, { buildTime: BUILD_TIME, uuid: bytesOf(16, 3), volumeName: 'weld-test' });
    bytes = materialize(image, readObjects(fx.objects));
    img = path.join(tmp, 'root.img');
    writeFileSync(img, bytes);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lays out a well-formed image: extents cover it, file data is block-aligned', () => {
    expect(image.size % 4096).toBe(0);
    expect(image.size).toBe(image.blocks * 4096);
    let at = 0;
    for (const e of image.extents) {
      expect(e.offset).toBe(at);
      at += e.kind === 'bytes' ? e.data.length : e.size;
      if (e.kind === 'object') expect(e.offset % 4096).toBe(0);
    }
    expect(at).toBe(image.size);
    const big = image.fileBlocks.find((f) => f.path === '/files/size-1048579')!;
    expect(big.count).toBe(257);
    // the object's bytes sit at its first block, zero-padded to the block end
    const obj = fx.objects.get(fx.nodes.find((n) => n.path === '/files/size-1048579')!.object!)!;
    expect(Buffer.compare(Buffer.from(bytes.subarray(big.start * 4096, big.start * 4096 + obj.length)), Buffer.from(obj))).toBe(0);
    expect(bytes.subarray(big.start * 4096 + obj.length, (big.start + big.count) * 4096).every((b) => b === 0)).toBe(true);
  });

  it('is deterministic', () => {
    const again = materialize(encodeErofs(buildTree(capNetRaw(tmp)).nodes, { buildTime: BUILD_TIME, uuid: bytesOf(16, 3), volumeName: 'weld-test' }), readObjects(fx.objects));
    expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
  });

  it('passes fsck.erofs and its dump.erofs superblock agrees with ours', () => {
    fsckClean([img]);
    const sb = run('dump.erofs', ['-s', img]).stdout.toString();
    const dump = image.dump();
    expect(sb).toMatch(new RegExp(`inode count:\\s+${/inos\s+(\d+)/.exec(dump)![1]}\\n`));
    expect(sb).toMatch(new RegExp(`Filesystem blocks:\\s+${image.blocks}\\n`));
    expect(sb).toMatch(/features:\s+sb_csum mtime/);
    expect(dump).toMatch(/root_nid\s+36/);
    expect(dump).toMatch(/volume_name\s+"weld-test"/);
  });

  it('dumps inodes as dump.erofs decodes them', () => {
    const ours = new Map<string, RegExpExecArray>();
    for (const m of image.dump().matchAll(/^inode nid=(\d+) @\d+ ("[^\n]*?") (compact|extended) (\w+) mode=0(\d+) nlink=(\d+) uid=(\d+) gid=(\d+) size=(\d+)/gm))
      ours.set(JSON.parse(m[2]!) as string, m);
    const layouts: Record<string, string> = { FLAT_PLAIN: '0', FLAT_INLINE: '2', CHUNK_BASED: '4' };
    const sample = ['/', '/big', '/files/size-0', '/files/size-4097', '/files/bigids', '/files/xattrs', '/files/hard-a', '/links/short', '/links/max', '/links/long3000', '/dev/wide', '/dev/sock', '/nesta/nestb/nestc'];
    for (const p of sample) {
      const m = ours.get(p)!;
      const theirs = run('dump.erofs', [`--path=${p}`, img]).stdout.toString();
      expect(theirs, p).toMatch(new RegExp(`NID: ${m[1]}\\s+Links: ${m[6]}\\s+Layout: ${layouts[m[4]!]}\\b`));
      expect(theirs, p).toMatch(new RegExp(`Size: ${m[9]}\\b`));
      expect(theirs, p).toMatch(new RegExp(`Inode size: ${m[3] === 'compact' ? 32 : 64}\\b`));
      expect(theirs, p).toMatch(new RegExp(`Uid: ${m[7]}\\s+Gid: ${m[8]}\\s+Access: 0*${(Number.parseInt(m[5]!, 8) & 0o7777).toString(8)}/`));
    }
  });

  it('extracts with fsck.erofs --extract to the same contents', () => {
    const out = path.join(tmp, 'extract');
    fsckClean([`--extract=${out}`, img]);
    for (const n of fx.nodes) {
      const p = Buffer.concat([Buffer.from(out), n.path === '/' ? Buffer.alloc(0) : Buffer.from(pathBytes(n))]);
      const st = lstatSync(p);
      expect(st.mode & 0o170000, n.path).toBe(S_IF[n.type]);
      if (n.type === 'file') expect(Buffer.compare(readFileSync(p), Buffer.from(contentOf(n, fx.objects))), n.path).toBe(0);
      if (n.type === 'symlink') expect(readlinkSync(p), n.path).toBe(n.target);
    }
  });

  it('reads back an image mkfs.erofs made from the extracted tree', async () => {
    const { walkErofs, blockOwner } = await import('../src/formats/erofs/reader.js');
    const src = path.join(tmp, 'extract');
    if (!lstatSync(src, { throwIfNoEntry: false })) fsckClean([`--extract=${src}`, img]);
    const mk = path.join(tmp, 'mkfs.img');
    // mkfs.erofs 1.5 here fails with ENOENT on the 255-byte name (seen, not ours: the kernel reads it), so leave it out
    const longName = `/names/${'L'.repeat(255)}`;
    rmSync(path.join(src, longName), { force: true });
    run('mkfs.erofs', ['-T', String(BUILD_TIME), mk, src]);
    const theirs = new Uint8Array(readFileSync(mk));
    const got = [...walkErofs(theirs)];
    // fsck.erofs 1.5 extracts hardlinks as separate files, so every path is there
    const names = (xs: string[]) => xs.sort();
    expect(names(got.map((i) => i.path))).toEqual(names(fx.nodes.map((n) => n.path).filter((p) => p !== longName)));
    const big = got.find((i) => i.path === '/files/size-1048579')!;
    expect(blockOwner(theirs, big.blkaddr + 100)).toBe('/files/size-1048579');
  });

  it('mounts with the kernel and shows every node as written', () => {
    const mnt = path.join(tmp, 'mnt');
    mkdirSync(mnt);
    mount(['-t', 'erofs', '-o', 'ro', img, mnt]);
    try {
      checkMounted(mnt, fx);
      expect(run('getcap', [path.join(mnt, 'files/ping')]).stdout.toString()).toMatch(/cap_net_raw=ep/);
    } finally {
      umount(mnt);
    }
  });

  it('keeps every xattr readable through the name filter, and the kernel goes by its bits', () => {
    const opts = { buildTime: BUILD_TIME, xattrFilter: true, checksum: false };
    const filtered = materialize(encodeErofs(fx.nodes, opts), readObjects(fx.objects));
    const fimg = path.join(tmp, 'filter.img');
    writeFileSync(fimg, filtered);
    fsckClean([fimg]);
    const mnt = path.join(tmp, 'mnt-filter');
    mkdirSync(mnt);
    // a wrong hash would mark a present name absent (31 chances in 32 per name): getfattr -d would miss it
    mount(['-t', 'erofs', '-o', 'ro', fimg, mnt]);
    try {
      checkMounted(mnt, fx);
    } finally {
      umount(mnt);
    }
    // set user.comment's bit by hand: the kernel must then call it absent, unless the feature bit is off
    const ino = layoutErofs(fx.nodes, opts).inodes.find((i) => i.path === '/files/xattrs')!;
    const bit = xxh32(utf8.encode('comment'), (XATTR_FILTER_SEED + 1) >>> 0) & 31;
    const dv = new DataView(filtered.buffer, filtered.byteOffset);
    dv.setUint32(ino.offset + ino.isize, dv.getUint32(ino.offset + ino.isize, true) | (1 << bit), true);
    const compatAt = EROFS_SUPER_OFFSET + SB.feature_compat;
    for (const honored of [true, false]) {
      if (!honored) dv.setUint32(compatAt, dv.getUint32(compatAt, true) & ~FEATURE_COMPAT_XATTR_FILTER, true);
      writeFileSync(fimg, filtered);
      mount(['-t', 'erofs', '-o', 'ro', fimg, mnt]);
      try {
        const f = path.join(mnt, 'files/xattrs');
        const comment = run('getfattr', ['--only-values', '-n', 'user.comment', f], { allowFail: true });
        expect(comment.status !== 0, `filter honored: ${honored}`).toBe(honored);
        if (honored) expect(comment.stderr).toMatch(/No such attribute/);
        expect(run('getfattr', ['--only-values', '-n', 'user.dir', path.join(mnt, 'dev')]).status).toBe(0);
        expect(run('getfattr', ['--only-values', '-e', 'text', '-n', 'trusted.weld', f]).status).toBe(0);
      } finally {
        umount(mnt);
      }
    }
  });

  it('refuses to mount when the superblock checksum is wrong', () => {
    const bad = Buffer.from(bytes);
    bad[4000] = bad[4000]! ^ 1; // block 0 past the superblock is covered by the checksum
    const badImg = path.join(tmp, 'bad.img');
    writeFileSync(badImg, bad);
    const r = run('fsck.erofs', [badImg], { allowFail: true });
    expect(r.stderr + r.stdout.toString()).toMatch(/chksum/);
    const mnt = path.join(tmp, 'mnt-bad');
    mkdirSync(mnt);
    try {
      expect(run('mount', ['-t', 'erofs', '-o', 'ro', badImg, mnt], { allowFail: true }).status).not.toBe(0);
    } finally {
      umount(mnt);
    }
  });

  it('composes a metadata-only image with an object directory through overlayfs', () => {
    const objDir = path.join(tmp, 'objects');
    const files = fx.nodes.filter((n) => n.type === 'file' && n.object);
    const meta: TreeNode[] = fx.nodes
      .filter((n) => !n.path.startsWith('/big/'))
      .map((n) => {
        if (n.type !== 'file' || !n.object) return n;
        const rel = `/${n.object.slice(0, 2)}/${n.object.slice(2)}`;
        return { ...n, xattrs: { ...n.xattrs, 'trusted.overlay.metacopy': new Uint8Array(0), 'trusted.overlay.redirect': utf8.encode(rel) } };
      });
    for (const n of files) {
      mkdirSync(path.join(objDir, n.object!.slice(0, 2)), { recursive: true });
      writeFileSync(path.join(objDir, n.object!.slice(0, 2), n.object!.slice(2)), fx.objects.get(n.object!)!);
    }
    const mimg = encodeErofs(meta, { buildTime: BUILD_TIME, metadataOnly: true });
    expect(mimg.extents.some((e) => e.kind === 'object')).toBe(false);
    expect(mimg.size).toBeLessThan(64 * 1024);
    const metaPath = path.join(tmp, 'meta.img');
    writeFileSync(metaPath, materialize(mimg, () => new Uint8Array(0)));
    fsckClean([metaPath]);
    const m = path.join(tmp, 'M');
    const view = path.join(tmp, 'VIEW');
    mkdirSync(m);
    mkdirSync(view);
    mount(['-t', 'erofs', '-o', 'ro', metaPath, m]);
    try {
      // the metadata image alone: right sizes, holes read as zeros
      const sz = lstatSync(path.join(m, 'files/size-4097'));
      expect(sz.size).toBe(4097);
      expect(readFileSync(path.join(m, 'files/size-4097')).every((b) => b === 0)).toBe(true);
      mount(['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${m}::${objDir},metacopy=on,redirect_dir=follow`, view]);
      try {
        checkMounted(view, { nodes: meta, objects: fx.objects }, { metadata: true });
      } finally {
        umount(view);
      }
    } finally {
      umount(m);
    }
  });
});

describe('EROFS writer speed', () => {
  it('lays out ~10 000 nodes quickly', () => {
    const nodes: TreeNode[] = [{ path: '/', type: 'dir', mode: 0o040755, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0 }];
    for (let d = 0; d < 500; d++) {
      const dir = `/usr/share/d${String(d).padStart(4, '0')}`;
      nodes.push({ path: dir, type: 'dir', mode: 0o040755, uid: 0, gid: 0, mtime: BUILD_TIME + d, size: 0 });
      for (let f = 0; f < 19; f++) {
        const size = (d * 19 + f) * 37 % 20000;
        nodes.push({ path: `${dir}/file-${f}.txt`, type: 'file', mode: 0o100644, uid: 0, gid: 0, mtime: BUILD_TIME - f, size, object: size ? `${d}-${f}` : undefined, xattrs: f === 3 ? { 'user.x': new Uint8Array(8) } : undefined });
      }
    }
    nodes.splice(1, 0, { path: '/usr', type: 'dir', mode: 0o040755, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0 }, { path: '/usr/share', type: 'dir', mode: 0o040755, uid: 0, gid: 0, mtime: BUILD_TIME, size: 0 });
    sortTree(nodes);
    encodeErofs(nodes, { buildTime: BUILD_TIME }); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const img = encodeErofs(nodes, { buildTime: BUILD_TIME });
      let n = 0;
      for (const _ of img.extents) n++;
      times.push(performance.now() - t0);
      expect(n).toBeGreaterThan(nodes.length / 2);
    }
    times.sort((a, b) => a - b);
    // best of 7: the CI box is shared, the best run is the least disturbed one
    console.log(`erofs: ${nodes.length} nodes laid out and written in ${times[0]!.toFixed(1)} ms (best of 7; median ${times[3]!.toFixed(1)} ms)`);
    expect(times[0]).toBeLessThan(1000);
  });
});
