/**
 * Structure of a fast link (no timing assertions): resolution reads the link
 * index in one query and decodes no header; each chosen package costs one file list
 * and one link-data read; v1 (msgpack) file list blobs and stores without the index
 * still link to the same tree; the columnar file list blob round-trips every field;
 * the string sort agrees with byte order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FileEntry } from '../src/model.js';
import Database from 'better-sqlite3';
import { Catalog } from '../src/store/catalog.js';
import { decodeFileList, encodeFileList } from '../src/store/filelist.js';
import { Store } from '../src/store/store.js';
import { link } from '../src/linker/link.js';
import { LinkTree, modeOf } from '../src/linker/tree.js';
import { ROOT, has, run, weld } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// the minimal variant's closure, plus libc-bin so the ldconfig action runs
const PKGS = ['base-files', 'base-passwd', 'busybox-static', 'libc6', 'libgcc-s1', 'gcc-12-base', 'mawk', 'libc-bin', 'libdebconfclient0', 'libselinux1', 'libpcre2-8-0'];
const canRun = has('apt-get') && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let tmp: string;
let storeDir: string;
let variant: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-link-perf-'));
  storeDir = path.join(tmp, 'store');
  variant = path.join(tmp, 'small.toml');
  fs.writeFileSync(
    variant,
    `name = "small"\nformat = "deb"\narch = "amd64"\nmerged-usr = true\npackages = ["base-files", "base-passwd", "busybox-static", "libc6", "libc-bin"]\n[prefer]\n"awk" = "mawk"\n`,
  );
  if (!canRun) return;
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...PKGS]);
  const files = PKGS.map((p) => path.join(DEB_DIR, fs.readdirSync(DEB_DIR).find((n) => n.startsWith(`${p}_`) && n.endsWith('.deb'))!));
  const r = weld(['import', '--store', storeDir, ...files]);
  if (r.status !== 0) throw new Error(r.stderr);
}, 600_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const manifestOf = (r: Awaited<ReturnType<typeof link>>) =>
  JSON.stringify(r.nodes.map((n) => ({ ...n, data: n.data ? Buffer.from(n.data).toString('base64') : undefined })));

describe.skipIf(!canRun)('link reads the index, not headers', () => {
  it('decodes no header, and reads one file list and one link entry per chosen package', async () => {
    const store = Store.open(storeDir);
    const spies = {
      header: vi.spyOn(Catalog.prototype, 'header'),
      fileList: vi.spyOn(Catalog.prototype, 'fileList'),
      linkData: vi.spyOn(Catalog.prototype, 'linkData'),
      resolverIndex: vi.spyOn(Catalog.prototype, 'resolverIndex'),
    };
    try {
      const r = await link(store, { variant, sourceDateEpoch: 1 });
      const ids = r.packages.map((p) => p.row.id).sort((a, b) => a - b);
      expect(r.packages.map((p) => p.row.name)).toContain('libc-bin');
      expect(spies.resolverIndex).toHaveBeenCalledTimes(1);
      expect(spies.header).not.toHaveBeenCalled();
      expect(spies.fileList.mock.calls.map((c) => c[0]).sort((a, b) => a - b)).toEqual(ids);
      expect(spies.linkData.mock.calls.map((c) => c[0]).sort((a, b) => a - b)).toEqual(ids);
      expect(r.tree.get('/etc/ld.so.cache')?.type).toBe('file');
      // the header is still there for those who ask (the SBOM), decoded once
      const libc = r.packages.find((p) => p.row.name === 'libc6')!;
      expect(libc.header.name).toBe('libc6');
      expect(spies.header).toHaveBeenCalledTimes(1);
      // the link entry carries what the header has for actions, bodies aside
      expect(libc.link.fileActions).toEqual(libc.header.fileActions ?? []);
      expect(libc.link.scriptlets.map((s) => [s.phase, s.actions])).toEqual(libc.header.scriptlets.map((s) => [s.phase, s.actions]));
    } finally {
      vi.restoreAllMocks();
      store.close();
    }
  });

  it('a store without index rows or with v1 msgpack file lists links to the same tree', async () => {
    let store = Store.open(storeDir);
    const before = manifestOf(await link(store, { variant, sourceDateEpoch: 1 }));
    const v1 = new Packr({ useRecords: true, moreTypes: false });
    const db = new Database(path.join(storeDir, 'catalog.db'));
    const pkgs = db.prepare('SELECT id FROM packages').all() as { id: number }[];
    for (const { id } of pkgs) db.prepare('UPDATE file_lists SET blob = ? WHERE pkg = ?').run(v1.pack({ v: 1, files: store.catalog.fileList(id) }), id);
    db.prepare('DELETE FROM link_index').run();
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    store.close();
    const ro = new Catalog(path.join(storeDir, 'catalog.db'), { readonly: true });
    try {
      // readonly: nothing is backfilled, the resolver falls back to headers
      expect(count('SELECT count(*) AS n FROM link_index')).toBe(0);
      expect(ro.resolverIndex('deb').length).toBe(pkgs.length);
    } finally {
      ro.close();
    }
    store = Store.open(storeDir); // writable open backfills
    try {
      expect(count('SELECT count(*) AS n FROM link_index')).toBe(pkgs.length);
      expect(typeof (db.prepare('SELECT blob FROM file_lists LIMIT 1').get() as { blob: unknown }).blob).not.toBe('string');
      expect(manifestOf(await link(store, { variant, sourceDateEpoch: 1 }))).toBe(before);
    } finally {
      store.close();
      db.close();
    }
  });
});

describe('file list blobs', () => {
  it('the columnar blob round-trips every field, optional ones only when present', () => {
    const base = { user: 'root', group: 'root', size: 0, mtime: 7, digest: '', digestAlgo: '', target: '', flags: [] as string[], caps: '', object: '' };
    const files: FileEntry[] = [
      { ...base, path: '/usr', type: 'dir', mode: 0o40755 },
      { ...base, path: '/usr/bin/a', type: 'file', mode: 0o104755, uid: 0, gid: 5, size: 3, digest: 'ab', digestAlgo: 'md5', object: 'ff'.repeat(32), flags: ['config', 'noreplace'], caps: 'cap_net_raw=ep', hardlink: 1 },
      { ...base, path: '/usr/bin/b', type: 'file', mode: 0o100644, size: 3, object: 'ff'.repeat(32), hardlink: 1, xattrs: { 'user.x': new Uint8Array([0, 1, 255]) } },
      { ...base, path: '/dev/null', type: 'char', mode: 0o20666, rdevMajor: 1, rdevMinor: 3 },
      { ...base, path: '/x\\xff', pathBytes: new Uint8Array([0x2f, 0x78, 0xff]), type: 'symlink', mode: 0o120777, target: 'ü', flags: ['ghost'] },
    ];
    const blob = encodeFileList(files);
    expect(Buffer.isBuffer(blob)).toBe(true); // one msgpack blob of columns
    const back = decodeFileList(blob);
    expect(back).toEqual(files);
    // file lists written as JSON columns by an earlier schema-2 build still decode
    expect(decodeFileList(JSON.stringify(new Packr({ useRecords: true, moreTypes: false }).unpack(blob)))).toEqual(files);
    for (const [i, f] of back.entries()) expect(Object.keys(f).sort()).toEqual(Object.keys(files[i]!).sort());
    // v1 blobs decode as before (msgpack gives Buffers for bytes)
    const plainBytes = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array || (x && x.type === 'Buffer') ? [...Buffer.from(x.data ?? x)] : x)));
    expect(plainBytes(decodeFileList(new Packr({ useRecords: true, moreTypes: false }).pack({ v: 1, files })))).toEqual(plainBytes(files));
  });
});

describe('sorted()', () => {
  it('orders by path bytes: surrogate pairs after U+E000..U+FFFF, raw bytes by value', () => {
    const paths = ['/a', '/a/b', '/a-b', '/a.b', '/\u00e9', '/\uffff', '/\ue000', '/\u{1f600}', '/Z', '/a/\u{10000}', '/a/\ufffd'];
    const build = (raw: boolean) => {
      const t = new LinkTree(0);
      for (const p of paths) t.set({ path: p, type: 'dir', mode: modeOf('dir', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 0, size: 0, origin: 't' });
      if (raw) t.set({ path: '/\\xfe', pathBytes: new Uint8Array([0x2f, 0xfe]), type: 'dir', mode: modeOf('dir', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 0, size: 0, origin: 't' });
      return t;
    };
    for (const raw of [false, true]) {
      const got = build(raw).sorted();
      const want = [...got].sort((a, b) => Buffer.compare(a.pathBytes ? Buffer.from(a.pathBytes) : Buffer.from(a.path), b.pathBytes ? Buffer.from(b.pathBytes) : Buffer.from(b.path)));
      expect(got.map((n) => n.path)).toEqual(want.map((n) => n.path));
    }
    // without raw paths or surrogates the fast string path is taken and still agrees
    const plain = new LinkTree(0);
    for (const p of ['/b', '/a\ue000', '/a\u00ff', '/a/b', '/a-']) plain.mkdir(p, 't');
    // UTF-8: '-' 2d < '/' 2f < U+00FF c3 bf < U+E000 ee 80 80
    expect(plain.sorted().map((n) => n.path)).toEqual(['/', '/a', '/a-', '/a/b', '/a\u00ff', '/a\ue000', '/b']);
  });
});
