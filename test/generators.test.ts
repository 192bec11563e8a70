/**
 * Generator actions end to end: udev's postinst asks for `systemd-hwdb --usr
 * update`, systemd's for `journalctl --update-catalog`, and weld runs the
 * image's own tools in a sandboxed view of the link. The oracle is the same tool run as the installer runs it (dpkg in
 * mmdebstrap's chroot): as root, in a chroot of a `--format dir` copy of the
 * same link. (`systemd-hwdb update --root DIR` of systemd 252 writes DIR into
 * every source name of hwdb.bin, so no installer's image has its bytes.)
 * Fixture tools on busybox check the sandbox and the two-run check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, stageDebs, weld } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// closure of base-files, base-passwd, udev and systemd (bookworm), and busybox for the fixture tools
const PKGS = `adduser base-files base-passwd debconf dmsetup dpkg gawk gcc-12-base libacl1 libapparmor1 libargon2-1 libaudit-common
libaudit1 libblkid1 libbz2-1.0 libc6 libcap-ng0 libcap2 libcrypt1 libcryptsetup12 libdb5.3 libdebconfclient0 libdevmapper1.02.1
libfdisk1 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgpg-error0 libip4tc2 libjson-c5 libkmod2 liblz4-1 liblzma5 libmd0 libmount1
libmpfr6 libp11-kit0 libpam-modules libpam-modules-bin libpam0g libpcre2-8-0 libreadline8 libseccomp2 libselinux1
libsemanage-common libsemanage2 libsepol2 libsigsegv2 libsmartcols1 libssl3 libsystemd-shared libsystemd0 libtinfo6 libudev1
libuuid1 libzstd1 mount passwd readline-common systemd tar udev zlib1g busybox-static`.split(/\s+/);

const UDEV = `name = "udev-small"
format = "deb"
merged-usr = true
packages = ["base-files", "base-passwd", "udev", "systemd"]
exclude = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*"]
[prefer]
"awk" = "gawk"
`;

const canRun = process.getuid?.() === 0 && ['dpkg-deb', 'apt-get', 'cc', 'chroot', 'cmp'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let work = '';
let store = '';
const at = (...p: string[]) => path.join(work, ...p);
const link = (args: string[]) => weld(['link', '--store', store, ...args], { cwd: work, env: { ...process.env, WELD_CACHE: at('cache') } });
const readJson = <T>(f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

interface Report {
  actions: { generators?: { generator: string; tool: string; args: string[]; packages: string[]; outputs: { path: string; size: number; object: string }[] }[] };
  timing: Record<string, number>;
}

/** A fixture .deb that ships /usr/bin/systemd-hwdb as a busybox script (or not), an hwdb source, and udev's postinst step. */
function fakeUdev(dir: string, name: string, tool: string | null): string {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: weld <weld@invalid>\nDescription: weld generator test\n`);
  fs.writeFileSync(path.join(root, 'DEBIAN/postinst'), '#!/bin/sh\nset -e\nsystemd-hwdb --usr update || true\n', { mode: 0o755 });
  fs.mkdirSync(path.join(root, 'lib/udev/hwdb.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'lib/udev/hwdb.d/50-weld.hwdb'), 'usb:v1234*\n ID_VENDOR_FROM_DATABASE=weld\n');
  if (tool !== null) {
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/systemd-hwdb'), `#!/bin/busybox sh\n${tool}`, { mode: 0o755 });
  }
  const out = path.join(dir, `${name}_1.0_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, out]);
  return out;
}

function variant(name: string, pkgs: string[]): string {
  const f = at(`${name}.toml`);
  fs.writeFileSync(f, `name = "${name}"\nformat = "deb"\nmerged-usr = true\npackages = ${JSON.stringify(pkgs)}\n`);
  return f;
}

describe.skipIf(!canRun)('generators', () => {
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-gen-'));
    store = at('store');
    const debs = stageDebs(DEB_DIR, PKGS, at('debs'));
    // the sandbox's view of the tool's environment, written as the tool's output
    const probe = [
      'out=/lib/udev/hwdb.bin',
      'echo "uid=$(busybox id -u) gid=$(busybox id -g) epoch=$SOURCE_DATE_EPOCH" > $out',
      'echo "links=$(busybox ip -o link | busybox wc -l)" >> $out',
      'busybox touch /etc/escaped 2>/dev/null && echo "etc writable" >> $out',
      'busybox touch /var/tmp/escaped 2>/dev/null && echo "var/tmp writable" >> $out',
      'echo "sources=$(busybox ls /lib/udev/hwdb.d)" >> $out',
      'busybox chmod 0444 $out',
    ].join('\n');
    fakeUdev(debs, 'weld-hwdb-probe', probe + '\n');
    const syn = at('syn');
    fs.mkdirSync(syn);
    fakeUdev(syn, 'weld-hwdb-random', 'busybox head -c 32 /dev/urandom > /lib/udev/hwdb.bin\n');
    fakeUdev(syn, 'weld-hwdb-none', null);
    fakeUdev(syn, 'weld-hwdb-fails', 'echo "cannot parse 50-weld.hwdb" >&2; exit 3\n');
    fakeUdev(syn, 'weld-hwdb-hangs', 'busybox sleep 1000 &\nbusybox sleep 1000\n');
    fakeUdev(syn, 'weld-hwdb-stray', 'echo x > /lib/udev/hwdb.bin; echo y > /lib/udev/stray\n');
    const imp = weld(['import', '--store', store, debs, syn]);
    expect(imp.status, imp.stderr).toBe(0);
    fs.writeFileSync(at('udev.toml'), UDEV);
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('classifies udev\'s postinst step as the hwdb generator', () => {
    const r = weld(['show', '--store', store, 'udev', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout.toString()) as { scriptlets: { phase: string; actions: { kind: string }[] }[] };
    const post = j.scriptlets.find((s) => s.phase === 'postinst')!;
    expect(post.actions).toContainEqual({ kind: 'generate', generator: 'hwdb', tool: 'systemd-hwdb', args: ['--usr', 'update'], inputs: ['/etc/udev/hwdb.d', '/lib/udev/hwdb.d'], outputs: ['/lib/udev/hwdb.bin'] });
  });

  it('makes hwdb.bin byte-equal to systemd-hwdb run by the installer', () => {
    const r = link(['--variant', at('udev.toml'), '--format', 'dir', '-o', 'udev.dir', '--report', 'udev.json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = readJson<Report>(at('udev.json'));
    expect(rep.actions.generators!.map((x) => x.generator)).toEqual(['hwdb', 'journal-catalog']);
    const g = rep.actions.generators![0]!;
    expect(g).toMatchObject({ generator: 'hwdb', tool: '/usr/bin/systemd-hwdb', args: ['--usr', 'update'], packages: [expect.stringMatching(/^udev-252/)] });
    expect(g.outputs.map((o) => o.path)).toEqual(['/usr/lib/udev/hwdb.bin']);
    const ours = at('udev.dir/usr/lib/udev/hwdb.bin');
    const st = fs.lstatSync(ours);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o444, 0, 0]);
    expect(st.size).toBeGreaterThan(1_000_000);

    // the oracle: a copy without weld's file, and the tool as dpkg runs it
    run('cp', ['-a', at('udev.dir'), at('oracle.dir')]);
    fs.rmSync(at('oracle.dir/usr/lib/udev/hwdb.bin'));
    run('chroot', [at('oracle.dir'), '/usr/bin/systemd-hwdb', '--usr', 'update']);
    const theirs = at('oracle.dir/usr/lib/udev/hwdb.bin');
    const ost = fs.lstatSync(theirs);
    expect([ost.mode & 0o7777, ost.uid, ost.gid]).toEqual([0o444, 0, 0]);
    expect(run('cmp', [ours, theirs], { allowFail: true }).status).toBe(0);
  }, 300_000);

  it('makes the journal catalog byte-equal to journalctl --update-catalog run by the installer', () => {
    const rep = readJson<Report>(at('udev.json'));
    const g = rep.actions.generators!.find((x) => x.generator === 'journal-catalog')!;
    expect(g).toMatchObject({ tool: '/usr/bin/journalctl', args: ['--update-catalog'], packages: [expect.stringMatching(/^systemd-252/)] });
    expect(g.outputs.map((o) => o.path)).toEqual(['/var/lib/systemd/catalog/database']);
    const ours = at('udev.dir/var/lib/systemd/catalog/database');
    const st = fs.lstatSync(ours);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o644, 0, 0]);
    // the installer's: systemd ships no /var/lib/systemd/catalog, journalctl makes it
    fs.rmSync(at('oracle.dir/var/lib/systemd/catalog'), { recursive: true });
    run('chroot', [at('oracle.dir'), '/usr/bin/journalctl', '--update-catalog']);
    const theirs = at('oracle.dir/var/lib/systemd/catalog/database');
    const ost = fs.lstatSync(theirs);
    expect([ost.mode & 0o7777, ost.uid, ost.gid]).toEqual([0o644, 0, 0]);
    const dir = (p: string) => fs.lstatSync(path.dirname(p));
    expect([dir(ours).mode, dir(ours).uid]).toEqual([dir(theirs).mode, dir(theirs).uid]);
    expect(st.size).toBeGreaterThan(100_000);
    expect(run('cmp', [ours, theirs], { allowFail: true }).status).toBe(0);
  }, 120_000);

  it('runs the tool as nobody, with no network and SOURCE_DATE_EPOCH, writing only the output directory', () => {
    const r = weld(['link', '--store', store, '--variant', variant('probe', ['busybox-static', 'weld-hwdb-probe']), '--format', 'dir', '-o', 'probe.dir'], {
      cwd: work,
      env: { ...process.env, WELD_CACHE: at('cache'), SOURCE_DATE_EPOCH: '1234567890' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(at('probe.dir/usr/lib/udev/hwdb.bin'), 'utf8')).toBe('uid=65534 gid=65534 epoch=1234567890\nlinks=1\nsources=50-weld.hwdb\n');
    expect(fs.existsSync(at('probe.dir/etc/escaped'))).toBe(false);
  }, 120_000);

  it('fails the link when two runs of a generator differ, naming it and the file', () => {
    const r = link(['--variant', variant('random', ['busybox-static', 'weld-hwdb-random']), '--format', 'manifest', '-o', 'random.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Generator hwdb \(weld-hwdb-random-1\.0\.all\) is not reproducible: \/lib\/udev\/hwdb\.bin differs between two runs/);
  }, 120_000);

  it('fails the link when the tool is missing from the image, naming it', () => {
    const r = link(['--variant', variant('none', ['busybox-static', 'weld-hwdb-none']), '--format', 'manifest', '-o', 'none.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Generator hwdb \(weld-hwdb-none-1\.0\.all\) runs systemd-hwdb, which the image does not have/);
  }, 120_000);

  it('fails the link when the tool fails, with its exit status and stderr', () => {
    const r = link(['--variant', variant('fails', ['busybox-static', 'weld-hwdb-fails']), '--format', 'manifest', '-o', 'fails.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Generator hwdb \(weld-hwdb-fails-1\.0\.all\): \/usr\/bin\/systemd-hwdb --usr update exited 3: cannot parse 50-weld\.hwdb/);
  }, 120_000);

  it('kills a tool that runs past the timeout, with all it started', () => {
    const t0 = Date.now();
    const r = weld(['link', '--store', store, '--variant', variant('hangs', ['busybox-static', 'weld-hwdb-hangs']), '--format', 'manifest', '-o', 'hangs.json'], {
      cwd: work,
      env: { ...process.env, WELD_CACHE: at('cache'), WELD_GENERATOR_TIMEOUT: '2' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Generator hwdb \(weld-hwdb-hangs-1\.0\.all\): \/usr\/bin\/systemd-hwdb --usr update ran longer than 2 s/);
    expect(Date.now() - t0).toBeLessThan(60_000);
    // nothing of the sandbox outlives it
    expect(run('sh', ['-c', 'ps -eo args | grep -cE "^(busybox sleep 1000|/bin/busybox sh /usr/bin/systemd-hwdb)" || true']).stdout.toString().trim()).toBe('0');
  }, 120_000);

  it('fails the link when a generator writes a file it does not declare', () => {
    const r = link(['--variant', variant('stray', ['busybox-static', 'weld-hwdb-stray']), '--format', 'manifest', '-o', 'stray.json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Generator hwdb \(weld-hwdb-stray-1\.0\.all\) wrote \/lib\/udev\/stray, which it does not declare/);
  }, 120_000);

  it('builds no view for a variant without generators', () => {
    const r = link(['--variant', variant('plain', ['busybox-static']), '--format', 'manifest', '-o', 'plain.json', '--report', 'plain.report.json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = readJson<Report>(at('plain.report.json'));
    expect(rep.actions.generators).toBeUndefined();
    expect(rep.timing.generators).toBeUndefined();
  }, 120_000);
});
