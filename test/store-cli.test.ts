/**
 * The store and the import CLI as a user drives them: idempotence, identity
 * across formats, the JSON contract, bad input, kill -9, concurrency, a full
 * disk, fsck. Real packages: fixture RPMs built here and Debian .debs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, debPath, run, weld } from './helpers/tools.js';

const RPMS = path.join(ROOT, 'fixtures/.cache/rpm');
const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const DEB_NAMES = ['base-passwd', 'mawk', 'libdebconfclient0', 'hostname'];
let tmp: string;
const debFile = (name: string) => debPath(DEBS, name);
const rpmFile = (prefix: string) => path.join(RPMS, fs.readdirSync(RPMS).find((f) => f.startsWith(prefix) && !f.endsWith('.src.rpm'))!);
const store = (name: string) => path.join(tmp, name);
const json = (r: { stdout: Buffer }) => JSON.parse(r.stdout.toString());

function catalogDump(dir: string): string {
  // the catalog's visible state, without import timestamps
  const r = spawnSync(process.execPath, ['-e', `
    const D = require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))});
    const db = new D(process.argv[1], { readonly: true });
    const out = {};
    for (const t of ['packages', 'file_lists', 'link_index', 'objects']) {
      out[t] = db.prepare('SELECT * FROM ' + t).all().map((r) => { delete r.imported_at; return JSON.stringify(r); }).sort();
    }
    console.log(JSON.stringify(out));`, path.join(dir, 'catalog.db')]);
  return r.stdout.toString();
}

beforeAll(() => {
  run('bash', [path.join(ROOT, 'scripts/build-fixtures.sh'), '--no-sparse']);
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...DEB_NAMES]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-store-'));
}, 600_000);

afterAll(() => {
  spawnSync('umount', ['-l', path.join(tmp, 'tiny')]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('weld import', () => {
  it('imports rpm and deb files, reports a JSON summary, and is idempotent', () => {
    const files = [rpmFile('weld-files'), rpmFile('weld-payload-xz'), rpmFile('weld-scripts'), ...DEB_NAMES.map(debFile)];
    const r1 = weld(['import', '--json', '--store', store('a'), ...files]);
    expect(r1.status, r1.stderr).toBe(0);
    const s1 = json(r1);
    expect(s1).toMatchObject({ added: files.length, skipped: 0, failed: 0 });
    for (const k of ['bytesRead', 'objectsNew', 'objectsReused', 'dedupRatio']) expect(typeof s1[k]).toBe('number');
    expect(s1.objectsNew).toBeGreaterThan(10);
    const before = catalogDump(store('a'));
    const objects = fs.readdirSync(path.join(store('a'), 'objects'), { recursive: true }).length;
    const r2 = weld(['import', '--json', '--store', store('a'), ...files]);
    expect(r2.status).toBe(0);
    expect(json(r2)).toMatchObject({ added: 0, skipped: files.length, failed: 0, objectsNew: 0 });
    expect(catalogDump(store('a'))).toBe(before);
    expect(fs.readdirSync(path.join(store('a'), 'objects'), { recursive: true }).length).toBe(objects);
    // objects are read-only and named by their BLAKE3
    const fsck = weld(['fsck', '--json', '--store', store('a')]);
    expect(fsck.status, fsck.stdout.toString()).toBe(0);
    expect(json(fsck)).toMatchObject({ ok: true, errors: [] });
  });

  it('exits 2 on usage errors and 1 when a package fails, importing the rest', () => {
    expect(weld(['import', '--store', store('u')]).status).toBe(2);
    expect(weld(['import', '--bogus', '--store', store('u')]).status).toBe(2);
    expect(weld(['import', '--store', store('u'), path.join(tmp, 'nope.rpm')]).status).toBe(2);
    const bad = path.join(tmp, 'truncated.rpm');
    fs.writeFileSync(bad, fs.readFileSync(rpmFile('weld-files')).subarray(0, 3000));
    const r = weld(['import', '--json', '--store', store('u'), bad, debFile('mawk')]);
    expect(r.status).toBe(1);
    expect(json(r)).toMatchObject({ added: 1, failed: 1 });
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('weld:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/truncated\.rpm/);
    expect(weld(['fsck', '--store', store('u')]).status).toBe(0);
  });

  it('rejects a digest mismatch, hostile paths and bad magic with a one-line error naming the file', () => {
    const good = fs.readFileSync(rpmFile('weld-payload-none'));
    // flip a byte inside the uncompressed payload: a file's digest no longer matches
    const flipped = Buffer.from(good);
    flipped[flipped.length - 600] ^= 0xff;
    fs.writeFileSync(path.join(tmp, 'flipped.rpm'), flipped);
    fs.writeFileSync(path.join(tmp, 'magic.rpm'), Buffer.from('this is not a package at all, really not'));
    // a .deb whose data.tar member escapes the root
    const evil = path.join(tmp, 'evil');
    fs.mkdirSync(path.join(evil, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(path.join(evil, 'DEBIAN/control'), 'Package: evil\nVersion: 1\nArchitecture: all\nMaintainer: x <x@y>\nDescription: evil\n');
    fs.mkdirSync(path.join(evil, 'etc'));
    fs.writeFileSync(path.join(evil, 'etc/x'), 'x');
    run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', evil, path.join(tmp, 'evil-ok.deb')]);
    const tarDir = path.join(tmp, 'evil-tar');
    fs.mkdirSync(tarDir);
    run('sh', ['-c', `cd ${tarDir} && ar x ${path.join(tmp, 'evil-ok.deb')} && gzip -dc data.tar.gz > data.tar && rm data.tar.gz && python3 - <<'PY'
import tarfile, io
t = tarfile.open('data.tar', 'a')
i = tarfile.TarInfo('./../../escape'); i.size = 3
t.addfile(i, io.BytesIO(b'bad'))
t.close()
PY
gzip -9n data.tar && rm -f data.tar && ar rc ${path.join(tmp, 'evil.deb')} debian-binary control.tar.* data.tar.gz`]);
    const r = weld(['import', '--json', '--store', store('h'), path.join(tmp, 'flipped.rpm'), path.join(tmp, 'magic.rpm'), path.join(tmp, 'evil.deb'), debFile('hostname')]);
    expect(r.status).toBe(1);
    const s = json(r);
    expect(s).toMatchObject({ added: 1, failed: 3 });
    const reasons = Object.fromEntries(s.packages.map((p: { file: string; reason: string }) => [path.basename(p.file), p.reason]));
    expect(reasons['flipped.rpm']).toMatch(/flipped\.rpm.*(digest|does not match)/);
    expect(reasons['magic.rpm']).toMatch(/magic\.rpm.*magic/);
    expect(reasons['evil.deb']).toMatch(/evil\.deb.*\.\./);
    for (const why of Object.values(reasons) as (string | null)[]) if (why) expect(why).not.toContain('\n');
    const ls = json(weld(['ls', '--json', '--store', store('h')]));
    expect(ls.map((p: { name: string }) => p.name)).toEqual(['hostname']);
    expect(weld(['fsck', '--store', store('h')]).status).toBe(0);
  });

  it('skips source RPMs on import but inspects them', () => {
    const src = path.join(RPMS, fs.readdirSync(RPMS).find((f) => f.endsWith('.src.rpm'))!);
    const r = weld(['import', '--json', '--store', store('s'), src]);
    expect(r.status).toBe(0);
    expect(json(r)).toMatchObject({ added: 0, skipped: 1 });
    expect(r.stderr + JSON.stringify(json(r))).toMatch(/source RPM/);
    const i = weld(['inspect', '--json', src]);
    expect(i.status).toBe(0);
    expect(json(i).isSource).toBe(true);
  });
});

describe('catalog identity and the JSON contract', () => {
  it('show --files --json prints what inspect --json prints', () => {
    for (const f of [rpmFile('weld-files'), debFile('mawk')]) {
      const insp = json(weld(['inspect', '--json', f]));
      const show = json(weld(['show', insp.name, '--files', '--json', '--store', store('a')]));
      expect(show).toEqual(insp);
      for (const k of ['name', 'epoch', 'version', 'release', 'arch', 'format', 'requires', 'provides', 'scriptlets', 'files']) expect(insp).toHaveProperty(k);
      for (const file of insp.files) expect(Object.keys(file).sort()).toEqual(['caps', 'digest', 'digestAlgo', 'flags', 'group', 'mode', 'mtime', 'object', 'path', 'size', 'target', 'type', 'user']);
    }
  });

  it('keeps an .rpm and a .deb of the same name apart; show needs --format', () => {
    // a .deb named like an rpm fixture
    const d = path.join(tmp, 'same');
    fs.mkdirSync(path.join(d, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(path.join(d, 'DEBIAN/control'), 'Package: weld-md5\nVersion: 0.1-1\nArchitecture: all\nMaintainer: x <x@y>\nDescription: same name\n');
    run('dpkg-deb', ['--root-owner-group', '--build', d, path.join(tmp, 'weld-md5.deb')]);
    expect(weld(['import', '--store', store('i'), rpmFile('weld-md5'), path.join(tmp, 'weld-md5.deb')]).status).toBe(0);
    const amb = weld(['show', 'weld-md5', '--store', store('i')]);
    expect(amb.status).toBe(1);
    expect(amb.stderr).toMatch(/weld-md5.*\(rpm\).*weld-md5.*\(deb\)|weld-md5.*\(deb\).*weld-md5.*\(rpm\)/);
    expect(json(weld(['show', 'weld-md5', '--format', 'deb', '--json', '--store', store('i')])).format).toBe('deb');
    expect(json(weld(['show', 'weld-md5', '--format', 'rpm', '--json', '--store', store('i')])).format).toBe('rpm');
    expect(weld(['show', 'nope', '--store', store('i')]).status).toBe(1);
  });

  it('reports scriptlet actions per kind and lists the opaque ones', () => {
    const r = weld(['scriptlets', '--json', '--store', store('a')]);
    expect(r.status).toBe(0);
    const s = json(r);
    expect(s.scriptlets).toBeGreaterThan(0);
    expect(Object.values(s.counts as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    for (const o of s.opaque) expect(o.reason).toBeTruthy();
  });

  it('finds the store from --store, then $WELD_STORE', () => {
    const env = { ...process.env, WELD_STORE: store('a') };
    const viaEnv = weld(['ls', '--json'], { env });
    expect(viaEnv.status).toBe(0);
    expect(json(viaEnv).length).toBeGreaterThan(3);
    expect(weld(['ls', '--store', path.join(tmp, 'missing')]).status).toBe(1);
  });
});

describe('crashes, concurrency, full disk, corruption', () => {
  it('a kill -9 mid-import leaves no visible package, and fsck removes the temp files', async () => {
    // a package big enough to be caught mid-way: 40 MiB of random data
    const big = path.join(tmp, 'bigpkg');
    fs.mkdirSync(path.join(big, 'DEBIAN'), { recursive: true });
    fs.mkdirSync(path.join(big, 'usr/share/big'), { recursive: true });
    fs.writeFileSync(path.join(big, 'DEBIAN/control'), 'Package: bigpkg\nVersion: 1\nArchitecture: all\nMaintainer: x <x@y>\nDescription: big\n');
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(big, `usr/share/big/f${i}`), crypto.randomBytes(1 << 20));
    run('dpkg-deb', ['--root-owner-group', '-Znone', '--build', big, path.join(tmp, 'big.deb')]);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'import', '--store', store('k'), path.join(tmp, 'big.deb')], { stdio: 'ignore' });
    // wait until it has started writing objects, then kill it
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      const tmpDir = path.join(store('k'), 'tmp');
      const objs = path.join(store('k'), 'objects');
      if ((fs.existsSync(tmpDir) && fs.readdirSync(tmpDir).length) || (fs.existsSync(objs) && fs.readdirSync(objs).length)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(json(weld(['ls', '--json', '--store', store('k')]))).toEqual([]);
    const f = weld(['fsck', '--json', '--store', store('k')]);
    expect(f.status).toBe(0);
    expect(json(f).ok).toBe(true);
    expect(fs.readdirSync(path.join(store('k'), 'tmp'))).toEqual([]);
    const again = weld(['import', '--json', '--store', store('k'), path.join(tmp, 'big.deb')]);
    expect(json(again)).toMatchObject({ added: 1 });
    expect(weld(['fsck', '--store', store('k')]).status).toBe(0);
  });

  it('several imports can run on one store at once', async () => {
    const files = [rpmFile('weld-files'), rpmFile('weld-payload-gzip'), rpmFile('weld-payload-zstd'), ...DEB_NAMES.map(debFile)];
    const runs = Array.from({ length: 4 }, (_, i) =>
      new Promise<number>((resolve) => {
        const c = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'import', '--store', store('c'), ...(i % 2 ? [...files].reverse() : files)], { stdio: 'ignore' });
        c.on('exit', (code) => resolve(code ?? -1));
      }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    expect(json(weld(['ls', '--json', '--store', store('c')]))).toHaveLength(files.length);
    expect(weld(['fsck', '--store', store('c')]).status).toBe(0);
  });

  it('a full disk is a clear error and loses nothing', () => {
    const tiny = path.join(tmp, 'tiny');
    fs.mkdirSync(tiny);
    run('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', tiny]);
    try {
      const ok = weld(['import', '--store', path.join(tiny, 's'), debFile('hostname')]);
      expect(ok.status).toBe(0);
      const big = weld(['import', '--json', '--store', path.join(tiny, 's'), path.join(tmp, 'big.deb')]);
      expect(big.status).toBe(1);
      expect(JSON.stringify(json(big))).toMatch(/no space left on device/);
      expect(json(weld(['ls', '--json', '--store', path.join(tiny, 's')])).map((p: { name: string }) => p.name)).toEqual(['hostname']);
      expect(weld(['fsck', '--store', path.join(tiny, 's')]).status).toBe(0);
    } finally {
      spawnSync('umount', ['-l', tiny]);
    }
  });

  it('fsck finds a corrupted object and a missing one', () => {
    const s = store('a');
    const objs = fs.readdirSync(path.join(s, 'objects')).flatMap((d) => fs.readdirSync(path.join(s, 'objects', d)).map((f) => path.join(s, 'objects', d, f)));
    const victim = objs.find((o) => fs.statSync(o).size > 10)!;
    fs.chmodSync(victim, 0o644);
    const buf = fs.readFileSync(victim);
    buf[0] ^= 1;
    fs.writeFileSync(victim, buf);
    fs.chmodSync(victim, 0o444);
    const r = weld(['fsck', '--store', s]);
    expect(r.status).toBe(1);
    expect(r.stdout.toString()).toMatch(/corrupt/);
    fs.rmSync(victim);
    const r2 = weld(['fsck', '--store', s]);
    expect(r2.status).toBe(1);
    expect(r2.stdout.toString()).toMatch(/missing object/);
  });

  it('fsck finds derived rows that are not what the header gives', () => {
    const s = store('d');
    expect(weld(['import', '--store', s, debFile('mawk')]).status).toBe(0);
    expect(weld(['fsck', '--store', s]).status).toBe(0);
    // what the stale-actions bug looked like: link data the header no longer gives
    const r = spawnSync(process.execPath, ['-e', `
      const D = require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))});
      const db = new D(process.argv[1]);
      const { link } = db.prepare('SELECT link FROM link_index').get();
      db.prepare('UPDATE link_index SET link = ?').run(JSON.stringify({ ...JSON.parse(link), scriptlets: [] }));`, path.join(s, 'catalog.db')]);
    expect(r.status, r.stderr.toString()).toBe(0);
    const f = weld(['fsck', '--store', s]);
    expect(f.status).toBe(1);
    expect(f.stdout.toString()).toMatch(/mawk: its link index is not what its header and file list give/);
  });
});
