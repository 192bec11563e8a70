/**
 * The bytecode generator end to end: python3.11's postinsts compile the
 * standard library with py_compile, dh_python3's postinst runs py3compile -p,
 * and weld runs the image's own interpreter in the sandboxed view instead.
 * The oracle is the same tools run as the installer runs them (as root, in a
 * chroot of a `--format dir` copy of the link with its bytecode removed), on
 * the files `dpkg -L` would list (read from the .debs with dpkg-deb -c).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, runAsync, stageDebs } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// closure of base-files, base-passwd and python3-six (bookworm)
const PKGS = `base-files base-passwd dpkg gawk gcc-12-base libacl1 libbz2-1.0 libc6 libcom-err2 libcrypt1 libdb5.3 libdebconfclient0
libexpat1 libffi8 libgcc-s1 libgmp10 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 liblzma5 libmd0 libmpfr6
libncursesw6 libnsl2 libpcre2-8-0 libpython3-stdlib libpython3.11-minimal libpython3.11-stdlib libreadline8 libselinux1 libsigsegv2
libsqlite3-0 libssl3 libtinfo6 libtirpc-common libtirpc3 libuuid1 libzstd1 media-types python3 python3-minimal python3-six python3.11
python3.11-minimal readline-common tar zlib1g`.split(/\s+/);

const canRun = process.getuid?.() === 0 && ['dpkg-deb', 'apt-get', 'cc', 'chroot'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let work = '';
let store = '';
let debs = '';
const at = (...p: string[]) => path.join(work, ...p);
// asynchronous: a link or a compile of the standard library blocking the worker starves vitest's RPC
const weldAsync = (args: string[]) => runAsync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { cwd: work, env: { ...process.env, WELD_CACHE: at('cache') } });
const link = (args: string[]) => weldAsync(['link', '--store', store, ...args]);
async function must(cmd: string, args: string[]): Promise<void> {
  const r = await runAsync(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}… exited ${r.status}: ${r.stderr.slice(-2000)}`);
}
const readJson = <T>(f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

interface Report {
  actions: { generators?: { generator: string; tool: string; args: string[]; packages: string[]; outputs: { path: string; size: number; object: string }[]; cached?: boolean }[] };
}

/** A fixture .deb with one public module, and dh_python3's postinst when `compiled`. */
function fakeModule(dir: string, name: string, compiled: boolean): string {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nDepends: python3\nMaintainer: weld <weld@invalid>\nDescription: weld bytecode test\n`);
  if (compiled) {
    const post = `#!/bin/sh\nset -e\nif command -v py3compile >/dev/null 2>&1; then\n\tpy3compile -p ${name} \nfi\nif command -v pypy3compile >/dev/null 2>&1; then\n\tpypy3compile -p ${name}  || true\nfi\n`;
    fs.writeFileSync(path.join(root, 'DEBIAN/postinst'), post, { mode: 0o755 });
  }
  const mod = name.replace(/-/g, '_');
  fs.mkdirSync(path.join(root, `usr/lib/python3/dist-packages/${mod}`), { recursive: true });
  fs.writeFileSync(path.join(root, `usr/lib/python3/dist-packages/${mod}/__init__.py`), `KINDS = {'a', 'b', 'c', 'd'}\ndef kind(x):\n    return x in KINDS\n`);
  const out = path.join(dir, `${name}_1.0_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, out]);
  return out;
}

/** The .py files dpkg -L would list for a package, as the postinst's sed or py3compile picks them. */
function debPy(pkg: string, test: (p: string) => boolean): string[] {
  const f = fs.readdirSync(debs).find((n) => n.startsWith(`${pkg}_`))!;
  const list = run('dpkg-deb', ['-c', path.join(debs, f)]).stdout.toString().split('\n');
  return list.map((l) => l.split(/\s+/)[5]?.replace(/^\./, '') ?? '').filter((p) => p.endsWith('.py') && test(p));
}

/** path → [mode, uid, gid] of every bytecode file under root */
function pycs(root: string): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  const visit = (rel: string) => {
    for (const n of fs.readdirSync(path.join(root, rel))) {
      const p = `${rel}/${n}`;
      const st = fs.lstatSync(path.join(root, p));
      if (st.isDirectory()) visit(p);
      else if (n.endsWith('.pyc')) out.set(p, [st.mode & 0o7777, st.uid, st.gid]);
    }
  };
  visit('');
  return out;
}

describe.skipIf(!canRun)('bytecode generator', () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-pyc-'));
    store = at('store');
    debs = stageDebs(DEB_DIR, PKGS, at('debs'));
    const fx = at('fx');
    fs.mkdirSync(fx);
    fakeModule(fx, 'weld-py-compiled', true);
    fakeModule(fx, 'weld-py-plain', false);
    // pypy3compile and pypy3 that only say they ran: dh_python3's guard holds, weld makes no PyPy bytecode
    const pypy = path.join(fx, 'weld-pypy');
    fs.mkdirSync(path.join(pypy, 'DEBIAN'), { recursive: true });
    fs.mkdirSync(path.join(pypy, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(pypy, 'DEBIAN/control'), 'Package: weld-pypy\nVersion: 1.0\nArchitecture: all\nMaintainer: weld <weld@invalid>\nDescription: weld bytecode test\n');
    for (const t of ['pypy3compile', 'pypy3']) fs.writeFileSync(path.join(pypy, 'usr/bin', t), '#!/bin/sh\necho ran > /tmp/pypy-ran\n', { mode: 0o755 });
    run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', pypy, path.join(fx, 'weld-pypy_1.0_all.deb')]);
    fs.rmSync(pypy, { recursive: true });
    const imp = await weldAsync(['import', '--store', store, debs, fx]);
    expect(imp.status, imp.stderr).toBe(0);
    const v = (name: string, pkgs: string[]) =>
      fs.writeFileSync(at(`${name}.toml`), `name = "${name}"\nformat = "deb"\nmerged-usr = true\npackages = ${JSON.stringify(pkgs)}\nexclude = ["/usr/share/doc/*", "/usr/share/man/*"]\n`);
    v('py', ['base-files', 'base-passwd', 'python3-six', 'weld-py-compiled', 'weld-py-plain']);
    v('pypy', ['base-files', 'base-passwd', 'python3-six', 'weld-py-compiled', 'weld-pypy']);
    fs.writeFileSync(at('nopy.toml'), fs.readFileSync(at('py.toml'), 'utf8').replace('exclude = [', 'exclude = ["/usr/bin/python3.11", '));
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('compiles what the postinsts compile, equal to py_compile and py3compile run by the installer, byte for byte', async () => {
    const r = await link(['--variant', at('py.toml'), '--format', 'dir', '-o', 'py.dir', '--report', 'py.json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = readJson<Report>(at('py.json'));
    const gens = rep.actions.generators!.filter((g) => g.generator === 'bytecode');
    // one run per interpreter; pypy3compile's guard does not hold
    expect(gens.map((g) => g.tool).sort()).toEqual(['/usr/bin/python3', '/usr/bin/python3.11']);
    expect(gens.find((g) => g.tool === '/usr/bin/python3.11')!.packages.map((p) => p.replace(/-3\.11.*/, '')).sort()).toEqual(['python3.11', 'python3.11-minimal']);
    const ours = pycs(at('py.dir'));

    // the oracle: the postinsts' own commands, as root in a chroot, on dpkg's file lists
    await must('cp', ['-a', at('py.dir'), at('oracle.dir')]);
    run('find', [at('oracle.dir'), '-name', '__pycache__', '-type', 'd', '-prune', '-exec', 'rm', '-rf', '{}', '+']);
    expect(pycs(at('oracle.dir')).size).toBe(0);
    const stdlib = (p: string) => /^\/usr\/lib\/python3\.11\/.*\.py$/.test(p);
    for (const pkg of ['libpython3.11-minimal', 'libpython3.11-stdlib']) {
      await must('chroot', [at('oracle.dir'), '/usr/bin/python3.11', '-E', '-S', '/usr/lib/python3.11/py_compile.py', ...debPy(pkg, stdlib)]);
    }
    const pub = (p: string) => p.startsWith('/usr/lib/python3/dist-packages/');
    const priv = (p: string) => p.startsWith('/usr/share/python3/');
    await must('chroot', [at('oracle.dir'), '/usr/bin/py3compile', ...debPy('python3-six', pub), ...debPy('python3', priv), ...debPy('python3-minimal', priv), '/usr/lib/python3/dist-packages/weld_py_compiled/__init__.py']);
    const theirs = pycs(at('oracle.dir'));

    expect(ours.size).toBeGreaterThan(500);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [p, m] of ours) {
      expect(m, p).toEqual(theirs.get(p));
      expect(fs.readFileSync(at('py.dir', p)).equals(fs.readFileSync(at('oracle.dir', p))), p).toBe(true);
    }
    // the package without a compiling postinst has none
    expect(fs.existsSync(at('py.dir/usr/lib/python3/dist-packages/weld_py_plain/__pycache__'))).toBe(false);
    expect(ours.has('/usr/lib/python3/dist-packages/weld_py_compiled/__pycache__/__init__.cpython-311.pyc')).toBe(true);
    const dir = fs.lstatSync(at('py.dir/usr/lib/python3.11/__pycache__'));
    expect([dir.mode & 0o7777, dir.uid, dir.gid]).toEqual([0o755, 0, 0]);
  }, 600_000);

  it("writes the installer's timestamp headers: PEP 552 flags 0, the source's mtime and size", () => {
    const src = at('py.dir/usr/lib/python3/dist-packages/six.py');
    const h = fs.readFileSync(at('py.dir/usr/lib/python3/dist-packages/__pycache__/six.cpython-311.pyc')).subarray(0, 16);
    const st = fs.statSync(src);
    expect([h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)]).toEqual([0, Math.floor(st.mtimeMs / 1000), st.size]);
  });

  it('fails the link when the interpreter a postinst compiles with is missing, naming it', async () => {
    const r = await link(['--variant', at('nopy.toml'), '--format', 'dir', '-o', 'nopy.dir']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Generator bytecode \(python3\.11-3[^)]*\) runs \/usr\/bin\/python3\.11, which the image does not have/);
  }, 600_000);

  it("runs pypy3compile's step only where pypy3compile is, and then makes no bytecode for it", async () => {
    const r = await link(['--variant', at('pypy.toml'), '--format', 'dir', '-o', 'pypy.dir', '--report', 'pypy.json']);
    expect(r.status, r.stderr).toBe(0);
    const gens = readJson<Report & { actions: { generators: { skipped?: string }[] } }>(at('pypy.json')).actions.generators.filter((g) => g.generator === 'bytecode');
    const pypy = gens.find((g) => g.tool === '/usr/bin/pypy3')!;
    expect(pypy).toMatchObject({ outputs: [], skipped: '/usr/bin/pypy3 is not a CPython interpreter' });
    expect(pypy.packages.map((p) => p.replace(/-1\.\d.*/, '')).sort()).toEqual(['python3-six', 'weld-py-compiled']);
    expect(gens.map((g) => g.tool).sort()).toEqual(['/usr/bin/pypy3', '/usr/bin/python3', '/usr/bin/python3.11']);
  }, 600_000);

  it('gives the same bytes in a second link, from the cache, and runs again when the cache is gone', async () => {
    const objects = (f: string) => readJson<Report>(at(f)).actions.generators!.filter((g) => g.generator === 'bytecode').flatMap((g) => g.outputs.map((o) => `${o.path} ${o.object}`)).sort();
    const cached = (f: string) => readJson<Report>(at(f)).actions.generators!.filter((g) => g.generator === 'bytecode').map((g) => g.cached ?? false);
    expect(cached('py.json')).toEqual([false, false]);
    const r = await link(['--variant', at('py.toml'), '--format', 'dir', '-o', 'py2.dir', '--report', 'py2.json']);
    expect(r.status, r.stderr).toBe(0);
    expect(cached('py2.json')).toEqual([true, true]);
    expect(objects('py2.json')).toEqual(objects('py.json'));
    expect(fs.readFileSync(at('py2.dir/usr/lib/python3.11/__pycache__/os.cpython-311.pyc')).equals(fs.readFileSync(at('py.dir/usr/lib/python3.11/__pycache__/os.cpython-311.pyc')))).toBe(true);
    // the sandbox again, twice, when the cache is gone: the same bytes
    fs.rmSync(at('cache/bytecode'), { recursive: true, force: true });
    const again = await link(['--variant', at('py.toml'), '--format', 'dir', '-o', 'py3.dir', '--report', 'py3.json']);
    expect(again.status, again.stderr).toBe(0);
    expect(cached('py3.json')).toEqual([false, false]);
    expect(objects('py3.json')).toEqual(objects('py.json'));
  }, 600_000);

  it('keys the cache on the sources and uses it only with its objects in the store: a package with other content is compiled anew', async () => {
    const fx = at('fx2');
    fs.mkdirSync(fx);
    const deb = fakeModule(fx, 'weld-py-compiled', true);
    // the same package name and version, another module body
    run('bash', ['-c', `cd "$1" && rm -f *.deb && printf 'X = 2\\n' >> weld-py-compiled/usr/lib/python3/dist-packages/weld_py_compiled/__init__.py && dpkg-deb --root-owner-group -Zgzip -b weld-py-compiled ${path.basename(deb)}`, 'x', fx]);
    const s2 = at('store2');
    const imp = await weldAsync(['import', '--store', s2, debs, fx, path.join(at('fx'), 'weld-py-plain_1.0_all.deb')]);
    expect(imp.status, imp.stderr).toBe(0);
    const r = await weldAsync(['link', '--store', s2, '--variant', at('py.toml'), '--format', 'dir', '-o', 'other.dir', '--report', 'other.json']);
    expect(r.status, r.stderr).toBe(0);
    const gens = readJson<Report>(at('other.json')).actions.generators!.filter((g) => g.generator === 'bytecode');
    // a cached run's objects are in the other store only: both run again
    expect(gens.map((g) => g.cached ?? false)).toEqual([false, false]);
    // the standard library's key is the same, the public modules' is new
    expect(fs.readdirSync(at('cache/bytecode')).length).toBe(3);
    const mod = 'usr/lib/python3/dist-packages/weld_py_compiled/__pycache__/__init__.cpython-311.pyc';
    expect(fs.readFileSync(at('other.dir', mod)).equals(fs.readFileSync(at('py.dir', mod)))).toBe(false);
  }, 600_000);
});
