import { describe, it, expect } from 'vitest';
import type { TreeNode } from '../../model.js';
import { isWeldError } from '../../errors.js';
import { crc32c } from './crc32c.js';
import { BLKSZ, DataLayout, EROFS_SUPER_OFFSET, FEATURE_COMPAT_XATTR_FILTER, SB, decodeDev, encodeDev } from './format.js';
import { encodeXattrName, layoutErofs, xattrNameFilter } from './layout.js';
import { xxh32 } from './xxh32.js';
import { encodeErofs, materialize } from './writer.js';

const BT = 1_000_000;
const root: TreeNode = { path: '/', type: 'dir', mode: 0o40755, uid: 0, gid: 0, mtime: BT, size: 0 };
const dir = (path: string, extra: Partial<TreeNode> = {}): TreeNode => ({ path, type: 'dir', mode: 0o40755, uid: 0, gid: 0, mtime: BT, size: 0, ...extra });
const file = (path: string, size: number, extra: Partial<TreeNode> = {}): TreeNode => ({
  path,
  type: 'file',
  mode: 0o100644,
  uid: 0,
  gid: 0,
  mtime: BT,
  size,
  object: size ? `obj-${path}` : undefined,
  ...extra,
});
const link = (path: string, target: string): TreeNode => ({ path, type: 'symlink', mode: 0o120777, uid: 0, gid: 0, mtime: BT, size: target.length, target });

describe('crc32c', () => {
  it('gives the CRC-32C check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });
});

describe('xxh32', () => {
  // the xxHash reference vectors (seed 0)
  it.each([
    ['', 0x02cc5d05],
    ['a', 0x550d7456],
    ['abc', 0x32d153ff],
    ['Nobody inspects the spammish repetition', 0xe2293b2f],
  ])('xxh32(%j, 0)', (s, want) => {
    expect(xxh32(new TextEncoder().encode(s), 0)).toBe(want);
  });
});

describe('xattr name filter', () => {
  const entry = (name: string) => ({ name, ...encodeXattrName(name, '/x'), value: new Uint8Array(0) });
  // the bit table in the commit message of the xattr name filter's on-disk format patch (linux-erofs, July 2023)
  it.each([
    ['security.ima', 0],
    ['trusted.overlay.nlink', 2],
    ['security.selinux', 11],
    ['trusted.overlay.redirect', 17],
    ['trusted.overlay.opaque', 20],
    ['system.posix_acl_default', 21],
    ['user.mime_type', 23],
    ['security.capability', 29],
    ['system.posix_acl_access', 30],
    ['trusted.overlay.metacopy', 31],
  ])('%s hashes to bit %i', (name, bit) => {
    expect(xattrNameFilter([entry(name)])).toBe(~(1 << bit) >>> 0);
  });

  it('clears one bit per name, and is written only when asked, with its compat feature', () => {
    const xattrs = { 'trusted.overlay.metacopy': new Uint8Array(0), 'trusted.overlay.redirect': new TextEncoder().encode('/ab/cd') };
    const nodes = [root, file('/f', 10, { xattrs })];
    const filtered = layoutErofs(nodes, { buildTime: BT, metadataOnly: true, xattrFilter: true });
    expect(filtered.inodes[1]!.xattrFilter).toBe(~((1 << 31) | (1 << 17)) >>> 0);
    expect(filtered.inodes[0]!.xattrFilter).toBe(0); // no xattrs, no header
    const read = () => new Uint8Array(0);
    for (const on of [true, false]) {
      const img = encodeErofs(nodes, { buildTime: BT, metadataOnly: true, xattrFilter: on });
      const bytes = materialize(img, read);
      const dv = new DataView(bytes.buffer);
      expect((dv.getUint32(EROFS_SUPER_OFFSET + SB.feature_compat, true) & FEATURE_COMPAT_XATTR_FILTER) !== 0).toBe(on);
      const ino = layoutErofs(nodes, { buildTime: BT, metadataOnly: true }).inodes[1]!;
      // h_name_filter is the first word after the inode core
      expect(dv.getUint32(ino.offset + ino.isize, true)).toBe(on ? filtered.inodes[1]!.xattrFilter : 0);
      expect(img.dump().includes('xattr name filter 0x7ffdffff')).toBe(on);
    }
  });
});

describe('device numbers', () => {
  it.each([
    [1, 3],
    [8, 1],
    [259, 131073],
    [4095, 1048575],
  ])('new_encode_dev(%i, %i) round-trips', (major, minor) => {
    expect(decodeDev(encodeDev(major, minor))).toEqual({ major, minor });
  });
  it('keeps small numbers in the old 16-bit form', () => {
    expect(encodeDev(1, 3)).toBe(0x103);
  });
});

describe('invalid trees are format errors', () => {
  const cases: [string, TreeNode[]][] = [
    ['empty tree', []],
    ['root not first', [dir('/a'), root]],
    ['missing parent', [root, file('/a/b', 1)]],
    ['parent is a file', [root, file('/a', 1), file('/a/b', 1)]],
    ['name of 256 bytes', [root, file('/' + 'n'.repeat(256), 1)]],
    ['duplicate name', [root, file('/a', 1), file('/a', 2)]],
    ['dot name', [root, file('/.', 1)]],
    ['trailing slash', [root, file('/a/', 1)]],
    ['xattr without a known prefix', [root, file('/a', 1, { xattrs: { 'system.foo': new Uint8Array(1) } })]],
    ['xattr value too large', [root, file('/a', 1, { xattrs: { 'user.a': new Uint8Array(65536) } })]],
    ['symlink target of 4096 bytes', [root, link('/l', 'x'.repeat(4096))]],
    ['empty symlink target', [root, link('/l', '')]],
    ['size without content', [root, file('/a', 5, { object: undefined })]],
    ['data length mismatch', [root, file('/a', 5, { object: undefined, data: new Uint8Array(4) })]],
    ['hardlink group of mixed types', [root, file('/a', 1, { hardlink: 1 }), link('/b', 'a')].map((n) => (n.path === '/b' ? { ...n, hardlink: 1 } : n))],
    ['device number too large', [root, { ...file('/d', 0), type: 'char', mode: 0o20600, rdevMajor: 4096, rdevMinor: 0 }]],
    ['uid too large', [root, file('/a', 1, { uid: 2 ** 32 })]],
  ];
  it.each(cases)('%s', (_, nodes) => {
    let err: unknown;
    try {
      encodeErofs(nodes, { buildTime: BT });
    } catch (e) {
      err = e;
    }
    expect(isWeldError(err) && err.kind === 'format').toBe(true);
  });
  it('rejects a bad uuid and a long volume name', () => {
    expect(() => encodeErofs([root], { buildTime: BT, uuid: new Uint8Array(15) })).toThrow(/uuid/);
    expect(() => encodeErofs([root], { buildTime: BT, volumeName: 'x'.repeat(17) })).toThrow(/volume name/);
  });
});

describe('layout', () => {
  it('keeps compact inodes only for build-time mtimes and small ids', () => {
    const l = layoutErofs([root, file('/a', 1), file('/b', 1, { mtime: BT + 1 }), file('/c', 1, { uid: 65536 }), file('/d', 2 ** 32)], { buildTime: BT });
    expect(l.inodes.map((i) => i.extended)).toEqual([false, false, true, true, true]);
  });

  it('stores every regular file flat and block-aligned, and metadata-only files as holes', () => {
    const nodes = [root, file('/a', 4097), file('/b', 1, { object: undefined, data: new Uint8Array([7]) }), file('/c', 0)];
    const l = layoutErofs(nodes, { buildTime: BT });
    expect(l.inodes.slice(1).map((i) => [i.layout, i.nblocks])).toEqual([
      [DataLayout.FLAT_PLAIN, 2],
      [DataLayout.FLAT_PLAIN, 1],
      [DataLayout.FLAT_PLAIN, 0],
    ]);
    const m = layoutErofs(nodes, { buildTime: BT, metadataOnly: true });
    // inline data has no object to redirect to, so it stays in the image
    expect(m.inodes.slice(1).map((i) => [i.layout, i.nblocks])).toEqual([
      [DataLayout.CHUNK_BASED, 0],
      [DataLayout.FLAT_PLAIN, 1],
      [DataLayout.FLAT_PLAIN, 0],
    ]);
    expect(m.inodes[1]!.chunkBits).toBe(13);
    expect(m.featureIncompat).toBe(4);
  });

  it('never lets an inode with its xattrs and inline tail straddle a block', () => {
    const nodes: TreeNode[] = [root, dir('/d')];
    for (let i = 0; i < 400; i++) {
      const target = 't'.repeat((i * 97) % 4000 + 1);
      nodes.push({ ...link(`/d/l${String(i).padStart(3, '0')}`, target), mtime: BT + (i % 2), xattrs: i % 3 ? { 'user.k': new Uint8Array(i % 50) } : undefined });
    }
    const l = layoutErofs(nodes, { buildTime: BT });
    let inlined = 0;
    for (const ino of l.inodes) {
      expect(ino.offset % 32).toBe(0);
      const end = ino.offset + ino.isize + ino.xattrSize + ino.inlineSize;
      expect(Math.floor(ino.offset / BLKSZ)).toBe(Math.floor((end - 1) / BLKSZ));
      if (ino.layout === DataLayout.FLAT_INLINE) {
        inlined++;
        expect(ino.inlineSize).toBe(ino.size % BLKSZ);
      } else expect(ino.nblocks).toBe(Math.ceil(ino.size / BLKSZ));
    }
    expect(inlined).toBeGreaterThan(100);
  });

  it('splits a large directory into blocks with sorted entries, none straddling', () => {
    const nodes: TreeNode[] = [root, dir('/d')];
    const names: string[] = [];
    for (let i = 0; i < 2000; i++) names.push(`${'n'.repeat(i % 200)}-${i}`);
    names.push('!bang', '-dash', 'Z');
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of names) nodes.push(file(`/d/${n}`, 0));
    const l = layoutErofs(nodes, { buildTime: BT });
    const d = l.inodes[1]!;
    const order = d.entries!.map((e) => Buffer.from(e.name).toString());
    expect(order).toEqual([...names.slice(0, 2), '.', '..', ...names.slice(2)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const starts = [...d.dirBlockStarts!, d.entries!.length];
    for (let b = 0; b + 1 < starts.length; b++) {
      let used = 0;
      for (let i = starts[b]!; i < starts[b + 1]!; i++) used += 12 + d.entries![i]!.name.length;
      expect(used).toBeLessThanOrEqual(BLKSZ);
    }
    expect(d.size).toBeGreaterThan(20 * BLKSZ);
    // the dump decodes every dirent back, in order
    const dump = encodeErofs(nodes, { buildTime: BT }).dump();
    const decoded = [...dump.matchAll(/dirent\[\d+\] "([^"]*)" nid=\d+ type=\d/g)].map((m) => m[1]);
    expect(decoded.slice(3)).toEqual(order); // after the root's '.', '..', 'd'
  });

  it('counts hardlinks on one inode and subdirectories in nlink', () => {
    const l = layoutErofs([root, dir('/a'), file('/a/x', 3, { hardlink: 9 }), dir('/b'), file('/b/y', 3, { hardlink: 9 }), dir('/b/c')], { buildTime: BT });
    expect(l.inodes.map((i) => [i.path, i.nlink])).toEqual([
      ['/', 4],
      ['/a', 2],
      ['/a/x', 2],
      ['/b', 3],
      ['/b/c', 2],
    ]);
  });
});

describe('writer output', () => {
  const nodes = [root, file('/a', 5000), file('/b', 3, { object: undefined, data: new Uint8Array([1, 2, 3]) }), link('/l', 'a')];

  it('emits gapless extents, zero padding after each object, and file block ranges', () => {
    const img = encodeErofs(nodes, { buildTime: BT });
    const kinds = img.extents.map((e) => [e.kind, e.offset, e.kind === 'bytes' ? e.data.length : e.size]);
    expect(kinds).toEqual([
      ['bytes', 0, 4096],
      ['object', 4096, 5000],
      ['zero', 9096, 3192],
      ['bytes', 12288, 3],
      ['zero', 12291, 4093],
    ]);
    expect(img.fileBlocks).toEqual([
      { start: 1, count: 2, path: '/a' },
      { start: 3, count: 1, path: '/b' },
    ]);
    expect(img.size).toBe(16384);
  });

  it('is deterministic and fills objects through the callback', () => {
    const read = (id: string) => new Uint8Array(5000).fill(id.length);
    const a = materialize(encodeErofs(nodes, { buildTime: BT }), read);
    const b = materialize(encodeErofs(nodes, { buildTime: BT }), read);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(a[4096]).toBe('obj-/a'.length);
    expect(() => materialize(encodeErofs(nodes, { buildTime: BT }), () => new Uint8Array(1))).toThrow(/object/);
  });

  it('dumps the superblock and inodes it wrote', () => {
    const dump = encodeErofs(nodes, { buildTime: BT, volumeName: 'vol' }).dump();
    expect(dump).toMatch(/magic\s+0xe0f5e1e2/);
    expect(dump).toMatch(/root_nid\s+36/);
    expect(dump).toMatch(/"\/l" compact FLAT_INLINE mode=0120777 .* size=1/);
    expect(dump).toMatch(/target "a"/);
  });
});

describe('reader', () => {
  const nodes: TreeNode[] = [
    root,
    dir('/d'),
    file('/d/a', 5000),
    file('/d/b', 3, { object: undefined, data: new Uint8Array([1, 2, 3]) }),
    file('/d/h1', 9000, { hardlink: 1 }),
    file('/d/h2', 9000, { hardlink: 1 }),
    link('/d/long', 'x'.repeat(3000)),
    dir('/e'),
    ...Array.from({ length: 600 }, (_, i) => file(`/e/f${String(i).padStart(4, '0')}`, i % 3 ? 0 : 10 + i)),
  ];
  const img = encodeErofs(nodes, { buildTime: BT });
  const bytes = materialize(img, (id) => new Uint8Array(nodes.find((n) => n.object === id)!.size).fill(9));

  it('walks back every path the writer put in, once per inode', async () => {
    const { walkErofs } = await import('./reader.js');
    const paths = [...walkErofs(bytes)].map((i) => i.path);
    expect(paths).toEqual(nodes.filter((n) => n.path !== '/d/h2').map((n) => n.path));
  });

  it('names the file that owns each data block', async () => {
    const { blockOwner } = await import('./reader.js');
    for (const f of img.fileBlocks) {
      expect(blockOwner(bytes, f.start)).toBe(f.path);
      expect(blockOwner(bytes, f.start + f.count - 1)).toBe(f.path);
    }
    expect(blockOwner(bytes, 0)).toBe(null);
    const long = [...(await import('./reader.js')).walkErofs(bytes)].find((i) => i.path === '/d/long')!;
    expect(blockOwner(bytes, long.blkaddr)).toBe('/d/long');
  });

  it('only ever throws format errors on corrupt images', async () => {
    const { walkErofs } = await import('./reader.js');
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8);
    for (let i = 0; i < 300; i++) {
      const bad = Uint8Array.from(bytes.subarray(0, i % 2 ? bytes.length : 4096 + (rnd() % 8192)));
      for (let k = 0; k < 4; k++) bad[1024 + (rnd() % (img.blocks > 2 ? 3 * 4096 : 3000))] = rnd() & 0xff;
      try {
        for (const _ of walkErofs(bad, { maxInodes: 5000, maxDepth: 32 }));
      } catch (e) {
        if (!(isWeldError(e) && e.kind === 'format')) throw e;
      }
    }
  });
});
