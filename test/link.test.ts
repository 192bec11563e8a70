/**
 * `weld link` end to end on real Debian bookworm packages, checked with the
 * real tools: sfdisk reads the DDI's GPT, veritysetup verifies (and rejects
 * flipped) partitions, fsck.erofs checks the filesystem, the kernel mounts it
 * and the mounted tree is compared with the link's manifest, ldconfig writes
 * the same ld.so.cache, tar lists and extracts the tar output.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, debPath, has, run, weld } from './helpers/tools.js';
import type { ManifestNode } from '../src/linker/output/manifest.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// closure of variants/minimal.toml plus the `svc` test variant below (bookworm), kernel excluded
const PKGS = `adduser base-files base-passwd bash busybox-static coreutils cron cron-daemon-common dbus dbus-bin dbus-daemon
dbus-session-bus-common dbus-system-bus-common debconf debianutils dmsetup dpkg gawk gcc-12-base init-system-helpers libacl1
libapparmor1 libargon2-1 libattr1 libaudit-common libaudit1 libblkid1 libbsd0 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2
libcbor0.8 libcom-err2 libcrypt1 libcryptsetup12 libdb5.3 libdbus-1-3 libdebconfclient0 libdevmapper1.02.1 libedit2 libexpat1
libfdisk1 libffi8 libfido2-1 libgcc-s1 libgcrypt20 libgmp10 libgpg-error0 libgssapi-krb5-2 libip4tc2 libjson-c5 libk5crypto3
libkeyutils1 libkmod2 libkrb5-3 libkrb5support0 liblz4-1 liblzma5 libmd0 libmount1 libmpfr6 libncursesw6 libnsl2 libp11-kit0
libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0 libproc2-0 libreadline8 libseccomp2 libselinux1
libsemanage-common libsemanage2 libsepol2 libsigsegv2 libsmartcols1 libssl3 libsystemd-shared libsystemd0 libtinfo6
libtirpc-common libtirpc3 libudev1 libuuid1 libwrap0 libzstd1 mawk mount openssh-client openssh-server openssh-sftp-server
passwd procps readline-common runit-helper sensible-utils systemd sysvinit-utils tar ucf usr-is-merged zlib1g`.split(/\s+/);

const SVC = `name = "svc"
format = "deb"
packages = ["base-files", "base-passwd", "bash", "coreutils", "libc-bin", "mawk", "gawk", "dbus", "cron", "systemd", "openssh-server", "passwd"]
exclude = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*"]
[prefer]
"awk" = "mawk"
`;

const canRun = ['dpkg-deb', 'apt-get', 'sfdisk', 'veritysetup', 'fsck.erofs', 'ldconfig', 'getfattr', 'tar'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let work = '';
let store = '';
const at = (...p: string[]) => path.join(work, ...p);
const link = (args: string[], env: Record<string, string> = {}) => weld(['link', '--store', store, ...args], { cwd: work, env: { ...process.env, ...env } });

const debFile = (pkg: string) => debPath(DEB_DIR, pkg);

/** A tiny .deb built by dpkg-deb: files under /usr/share/NAME, an optional postinst. */
function buildDeb(dir: string, name: string, files: Record<string, string>, postinst?: string, depends?: string, control = ''): string {
  const root = path.join(dir, name);
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: weld <weld@invalid>\nDescription: weld link test\n${depends ? `Depends: ${depends}\n` : ''}${control}`);
  if (postinst) fs.writeFileSync(path.join(root, 'DEBIAN/postinst'), postinst, { mode: 0o755 });
  for (const [p, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), c);
  }
  const out = path.join(dir, `${name}_1.0_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, out]);
  return out;
}

function writeVariant(name: string, text: string): string {
  const f = at('variants', `${name}.toml`);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
}

const objectPath = (id: string) => path.join(store, 'objects', id.slice(0, 2), id.slice(2));

const readJson = <T>(f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

/** every xattr under a directory, via getfattr (path → name → hex) */
function xattrsUnder(dir: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  const r = run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], { allowFail: true });
  let cur = '';
  for (const l of r.stdout.toString().split('\n')) {
    if (l.startsWith('# file: ')) cur = '/' + path.relative(dir, l.slice(8));
    else if (l.includes('=') && cur) {
      const [k, v] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
      out.set(cur, { ...(out.get(cur) ?? {}), [k]: v.replace(/^0x/, '') });
    }
  }
  return out;
}

/** Compares a real directory tree (mounted image, dir output) with the manifest: every field the kernel shows. */
function compareTree(dir: string, nodes: ManifestNode[], opts: { mtimes: boolean }): void {
  const want = new Map(nodes.map((n) => [n.path, n]));
  const seen: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const p = rel === '/' ? `/${name}` : `${rel}/${name}`;
      seen.push(p);
      const st = fs.lstatSync(path.join(dir, p));
      if (st.isDirectory()) walk(p);
    }
  };
  walk('/');
  expect(seen.sort()).toEqual([...want.keys()].filter((p) => p !== '/').sort());
  const xattrs = xattrsUnder(dir);
  for (const n of nodes) {
    const full = path.join(dir, n.path);
    const st = fs.lstatSync(full);
    const got = { path: n.path, mode: st.mode, uid: st.uid, gid: st.gid, size: st.isDirectory() ? 0 : st.size };
    expect(got).toEqual({ path: n.path, mode: n.mode, uid: n.uid, gid: n.gid, size: n.type === 'dir' ? 0 : n.size });
    if (opts.mtimes && n.type !== 'symlink') expect([n.path, st.mtimeMs / 1000]).toEqual([n.path, n.mtime]);
    if (n.type === 'symlink') expect([n.path, fs.readlinkSync(full)]).toEqual([n.path, n.target]);
    if (n.type === 'file' && n.size > 0) {
      const a = fs.readFileSync(full);
      const b = fs.readFileSync(objectPath(n.object!));
      expect([n.path, a.equals(b)]).toEqual([n.path, true]);
    }
    const gx = Object.fromEntries(Object.entries(xattrs.get(n.path) ?? {}).filter(([k]) => !k.startsWith('security.selinux')));
    expect([n.path, gx]).toEqual([n.path, n.xattrs ?? {}]);
  }
}

function partitions(img: string) {
  const j = readJson<{ partitiontable: { label: string; id: string; sectorsize?: number; partitions: { node: string; start: number; size: number; type: string; uuid: string; name: string; attrs?: string }[] } }>(
    (() => {
      const f = img + '.sfdisk.json';
      fs.writeFileSync(f, run('sfdisk', ['--json', img]).stdout);
      return f;
    })(),
  );
  return j.partitiontable;
}

/** Copies byte range [start, start+size) of a file to a new file. */
function extract(img: string, start: number, size: number, out: string): string {
  const fd = fs.openSync(img, 'r');
  const b = Buffer.alloc(size);
  fs.readSync(fd, b, 0, size, start);
  fs.closeSync(fd);
  fs.writeFileSync(out, b);
  return out;
}

function flipByte(src: string, dst: string, offset: number): void {
  fs.copyFileSync(src, dst);
  const fd = fs.openSync(dst, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0xff;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

describe.skipIf(!canRun)('weld link on Debian bookworm packages', () => {
  let report: { rootHash: string; salt: string; dataBlocks: number; hashStartBlock: number; table: string; partitions: { type: string; uuid: string; start: number; size: number }[]; packages: { name: string }[] };
  let manifest: { nodes: ManifestNode[]; sourceDateEpoch: number };

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-link-'));
    store = at('store');
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...PKGS]);
    const synth = at('synth');
    fs.mkdirSync(synth);
    buildDeb(synth, 'weld-conflict-a', { 'usr/share/weld-conflict/same': 'same\n', 'usr/share/weld-conflict/data': 'from a\n' });
    buildDeb(synth, 'weld-conflict-b', { 'usr/share/weld-conflict/same': 'same\n', 'usr/share/weld-conflict/data': 'from b\n' });
    buildDeb(synth, 'weld-opaque', { 'usr/share/weld-opaque/x': 'x\n' }, '#!/bin/sh\nset -e\nfrobnicate --now /etc/weld\n');
    buildDeb(synth, 'weld-needy', { 'usr/share/weld-needy/x': 'x\n' }, undefined, 'libc6, no-such-a (>= 1.0), no-such-b | no-such-c');
    buildDeb(synth, 'weld-breaker', { 'usr/share/weld-breaker/x': 'x\n' }, undefined, undefined, 'Breaks: weld-conflict-a (<< 2)\nConflicts: weld-conflict-b\n');
    const r = weld(['import', '--store', store, ...PKGS.map(debFile), synth]);
    expect(r.status, r.stderr).toBe(0);
    writeVariant('svc', SVC);
    const m = link(['--variant', 'minimal', '-o', 'm.img', '--report', 'r.json', '--lock', 'm.lock', '--sbom', 'm.spdx.json']);
    expect(m.status, m.stderr).toBe(0);
    report = readJson(at('r.json'));
    const mf = link(['--variant', 'minimal', '--format', 'manifest', '-o', 'm.manifest.json']);
    expect(mf.status, mf.stderr).toBe(0);
    manifest = readJson(at('m.manifest.json'));
  }, 600_000);

  afterAll(() => {
    if (!work) return;
    spawnSync('umount', [at('mnt')], { stdio: 'ignore' });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('writes a report with the root hash, salt, table and partitions, and prints the hash to stderr', () => {
    expect(report.rootHash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.salt).toMatch(/^[0-9a-f]+$/);
    expect(report.hashStartBlock).toBe(1);
    expect(report.table).toContain(` ${report.rootHash} ${report.salt}`);
    expect(report.table.startsWith(`0 ${report.dataBlocks * 8} verity 1 `)).toBe(true);
    expect(report.packages.map((p) => p.name)).toContain('busybox-static');
    const again = link(['--variant', 'minimal', '-o', 'm2.img']);
    expect(again.stderr).toContain(`root hash: ${report.rootHash}`);
    expect(again.stderr).toContain(`verity table: ${report.table}`);
  });

  it('lays the DDI out as sfdisk reads it: root then root-verity, 1 MiB aligned, uuids from the root hash', () => {
    const t = partitions(at('m.img'));
    expect(t.label).toBe('gpt');
    expect(t.partitions).toHaveLength(2);
    const [root, ver] = t.partitions as [typeof t.partitions[0], typeof t.partitions[0]];
    expect(root.type.toLowerCase()).toBe('4f68bce3-e8cd-4db1-96e7-fbcaf984b709');
    expect(ver.type.toLowerCase()).toBe('2c7357ed-ebd2-46d9-aec1-23d437ec2bf5');
    expect(root.uuid.toLowerCase().replace(/-/g, '')).toBe(report.rootHash.slice(0, 32));
    expect(ver.uuid.toLowerCase().replace(/-/g, '')).toBe(report.rootHash.slice(32, 64));
    expect((root.start * 512) % (1 << 20)).toBe(0);
    expect((ver.start * 512) % (1 << 20)).toBe(0);
    expect(ver.start).toBeGreaterThan(root.start);
    expect(root.size * 512).toBe(report.dataBlocks * 4096);
    expect(root.name).toBe('root-x86-64');
    expect(report.partitions.map((p) => [p.start, p.size])).toEqual([
      [root.start * 512, root.size * 512],
      [ver.start * 512, ver.size * 512],
    ]);
    // fixed disk GUID: derived, so two links agree
    expect(partitions(at('m2.img')).id).toBe(t.id);
  });

  it('is a Discoverable Disk Image to systemd-dissect: root and root-verity found, verity usable with the root hash', () => {
    // systemd-container is installed by scripts/setup.sh; systemd-dissect reads the image through loop devices
    const r = run('systemd-dissect', ['--json=short', `--root-hash=${report.rootHash}`, at('m.img')]);
    const d = JSON.parse(r.stdout.toString()) as { hostname: string; osRelease: string[]; mounts: { designator: string; partition_uuid: string; fstype: string; verity: string | null }[] };
    const byRole = Object.fromEntries(d.mounts.map((m) => [m.designator, m]));
    expect(byRole.root?.fstype).toBe('erofs');
    expect(byRole.root?.verity).toBe('yes');
    expect(byRole.root?.partition_uuid.replace(/-/g, '')).toBe(report.rootHash.slice(0, 32));
    expect(byRole['root-verity']?.partition_uuid.replace(/-/g, '')).toBe(report.rootHash.slice(32, 64));
    expect(d.hostname).toBe('weld-minimal');
    expect(d.osRelease).toContain('ID=weld');
  });

  it('is accepted by veritysetup verify and fsck.erofs, and rejected after a flipped data or hash byte', () => {
    const [root, ver] = report.partitions as [{ start: number; size: number }, { start: number; size: number }];
    const data = extract(at('m.img'), root.start, root.size, at('root.part'));
    const hash = extract(at('m.img'), ver.start, ver.size, at('verity.part'));
    expect(run('veritysetup', ['verify', data, hash, report.rootHash], { allowFail: true }).status).toBe(0);
    // the superblock carries the salt and sizes: veritysetup reads them back
    const dump = run('veritysetup', ['dump', hash]).stdout.toString();
    expect(dump).toMatch(new RegExp(`Salt:\\s+${report.salt}`));
    expect(dump).toMatch(new RegExp(`Data blocks:\\s+${report.dataBlocks}`));
    expect(run('fsck.erofs', [data], { allowFail: true }).status).toBe(0);
    flipByte(data, at('root.bad'), root.size - 4096 * 3 + 17);
    expect(run('veritysetup', ['verify', at('root.bad'), hash, report.rootHash], { allowFail: true }).status).not.toBe(0);
    flipByte(hash, at('verity.bad'), 4096 + 5);
    expect(run('veritysetup', ['verify', data, at('verity.bad'), report.rootHash], { allowFail: true }).status).not.toBe(0);
  });

  it('weld verify exits 0 when good, 2 on a corrupt data block (naming its file), 2 on a corrupt hash, 1 on a wrong root hash', () => {
    expect(weld(['verify', at('m.img'), '--root-hash', report.rootHash]).status).toBe(0);
    expect(weld(['verify', at('m.img'), '--report', at('r.json')]).status).toBe(0);
    const [root, ver] = report.partitions as [{ start: number; size: number }, { start: number; size: number }];
    // a byte inside the largest regular file: its block is named after that file
    const big = manifest.nodes.filter((n) => n.type === 'file').sort((a, b) => b.size - a.size)[0]!;
    const content = fs.readFileSync(objectPath(big.object!));
    const img = fs.readFileSync(at('root.part'));
    const where = img.indexOf(content.subarray(0, 4096));
    expect(where).toBeGreaterThan(0);
    flipByte(at('m.img'), at('m.data-bad.img'), root.start + where + 100);
    const d = weld(['verify', at('m.data-bad.img'), '--root-hash', report.rootHash]);
    expect(d.status).toBe(2);
    expect(d.stderr).toContain(big.path);
    flipByte(at('m.img'), at('m.hash-bad.img'), ver.start + 4096 + 9);
    expect(weld(['verify', at('m.hash-bad.img'), '--root-hash', report.rootHash]).status).toBe(2);
    const wrong = report.rootHash.slice(0, 63) + (report.rootHash[63] === '0' ? '1' : '0');
    expect(weld(['verify', at('m.img'), '--root-hash', wrong]).status).toBe(1);
  });

  it('mounts with the kernel, and the mounted tree is the manifest: types, modes, owners, sizes, content, targets, xattrs', (ctx) => {
    fs.mkdirSync(at('mnt'), { recursive: true });
    const m = run('mount', ['-t', 'erofs', '-o', 'loop,ro', at('root.part'), at('mnt')], { allowFail: true });
    if (m.status !== 0) return ctx.skip();
    try {
      compareTree(at('mnt'), manifest.nodes, { mtimes: true });
      const osr = fs.readFileSync(at('mnt/etc/os-release'), 'utf8');
      expect(osr).toContain('VARIANT_ID=minimal');
      expect(fs.readFileSync(at('mnt/etc/machine-id'), 'utf8')).toBe('');
      expect(fs.readlinkSync(at('mnt/bin'))).toBe('usr/bin');
      expect(fs.readlinkSync(at('mnt/usr/bin/sh'))).toBe('busybox');
    } finally {
      run('umount', [at('mnt')], { allowFail: true });
    }
  });

  it('is reproducible: a second link, a pipe to stdout, and a relink with the lock are byte-identical', () => {
    const h = sha(at('m.img'));
    expect(sha(at('m2.img'))).toBe(h);
    const p = spawnSync('sh', ['-c', `"${process.execPath}" "${path.join(ROOT, 'dist/cli/main.js')}" link --store "${store}" --variant minimal | cat > piped.img`], { cwd: work });
    expect(p.status, p.stderr?.toString()).toBe(0);
    expect(sha(at('piped.img'))).toBe(h);
    const lock = readJson<{ packages: { digest: string }[]; salt: string; sourceDateEpoch: number }>(at('m.lock'));
    expect(lock.packages.length).toBe(report.packages.length);
    expect(lock.salt).toBe(report.salt);
    const l = link(['--variant', 'minimal', '--lock', 'm.lock', '-o', 'm3.img']);
    expect(l.status, l.stderr).toBe(0);
    expect(sha(at('m3.img'))).toBe(h);
  });

  it('honours SOURCE_DATE_EPOCH for mtimes', () => {
    const r = link(['--variant', 'minimal', '--format', 'manifest', '-o', 'sde.json'], { SOURCE_DATE_EPOCH: '1000000000' });
    expect(r.status, r.stderr).toBe(0);
    const m = readJson<{ nodes: ManifestNode[]; sourceDateEpoch: number }>(at('sde.json'));
    expect(m.sourceDateEpoch).toBe(1000000000);
    // generated files and directories take the epoch
    expect(m.nodes.find((n) => n.path === '/etc/passwd')!.mtime).toBe(1000000000);
    expect(m.nodes.find((n) => n.path === '/')!.mtime).toBe(1000000000);
    expect(manifest.nodes.find((n) => n.path === '/etc/passwd')!.mtime).not.toBe(1000000000);
    const other = link(['--variant', 'minimal', '-o', 'sde.img'], { SOURCE_DATE_EPOCH: '1000000000' });
    expect(other.status).toBe(0);
    expect(sha(at('sde.img'))).not.toBe(sha(at('m.img')));
  });

  it('writes a tar that tar lists and extracts to the manifest', () => {
    const r = link(['--variant', 'minimal', '--format', 'tar', '-o', 'm.tar']);
    expect(r.status, r.stderr).toBe(0);
    const listed = run('tar', ['-tf', at('m.tar')]).stdout.toString().trim().split('\n').map((l) => l.replace(/^\.\/?/, '/').replace(/(.)\/$/, '$1'));
    expect(listed.sort()).toEqual(manifest.nodes.map((n) => n.path).filter((p) => p !== '/').sort());
    fs.mkdirSync(at('untar'));
    run('tar', ['-xpf', at('m.tar'), '--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', at('untar')]);
    const nodes = manifest.nodes.filter((n) => n.path !== '/');
    // tar restores every mtime but the root's; the root dir is compared without it
    compareTree(at('untar'), [{ ...manifest.nodes[0]!, mode: fs.lstatSync(at('untar')).mode, uid: 0, gid: 0 }, ...nodes], { mtimes: false });
    for (const n of nodes.filter((x) => x.type !== 'symlink')) expect([n.path, fs.lstatSync(at('untar', n.path)).mtimeMs / 1000]).toEqual([n.path, n.mtime]);
  });

  it("applies base-files' postinst file operations as the script itself does (the real script, run with DPKG_ROOT, is the oracle)", () => {
    const ref = at('bf-ref');
    const ctl = at('bf-ctl');
    fs.mkdirSync(ref);
    run('dpkg-deb', ['-x', debFile('base-files'), ref]);
    run('dpkg-deb', ['-e', debFile('base-files'), ctl]);
    const s = spawnSync('sh', ['-c', `umask 022; exec sh "$0" configure ""`, path.join(ctl, 'postinst')], { env: { ...process.env, DPKG_ROOT: ref } });
    expect(s.status, s.stderr.toString()).toBe(0);
    const w = link(['--variant', 'minimal', '--format', 'dir', '-o', 'bf.dir', '--report', 'bf.json']);
    expect(w.status, w.stderr).toBe(0);
    const paths = ['/var/run', '/var/lock', '/var/spool/mail', '/etc/dpkg/origins/default', '/root/.bashrc', '/root/.profile', '/etc/profile', '/etc/motd', '/var/log/wtmp', '/var/log/btmp', '/var/log/lastlog', '/usr/local/man'];
    // directories made under `[ ! -d … ]` guards, chowned and chmodded after (2775 root:mail, 1777), and /usr/local's staff branch not taken
    paths.push('/var/mail', '/run/lock', '/mnt', '/srv', '/opt', '/media', '/usr/local', '/usr/local/bin', '/usr/local/share/man');
    const describe = (root: string, p: string) => {
      const st = fs.lstatSync(path.join(root, p), { throwIfNoEntry: false });
      if (!st) return 'missing';
      const what = st.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(root, p))}` : st.isFile() ? `file ${sha(path.join(root, p))}` : st.isDirectory() ? 'dir' : 'other';
      return `${what} mode ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    };
    for (const p of paths) expect(describe(at('bf.dir'), p), p).toBe(describe(ref, p));
    const rep = readJson<{ actions: { files: { applied: number } } }>(at('bf.json'));
    expect(rep.actions.files.applied).toBeGreaterThan(10);
  });

  it('a package classified by an older weld gets a warning at link time, and weld import of its file classifies it again', async () => {
    const { Store } = await import('../src/store/store.js');
    const st = Store.open(store);
    let id: number;
    try {
      const row = st.catalog.listPackages().find((r) => r.name === 'base-files')!;
      id = row.id;
      const h = st.catalog.header(id);
      // what a classifier before file operations stored: no symlink/copy/file/rmdir actions
      const old = h.scriptlets.map((x) => ({ ...x, actions: x.actions.filter((a) => !['symlink', 'copy', 'file', 'rmdir'].includes(a.kind)) }));
      st.catalog.updateScriptlets(id, old, 1);
    } finally {
      st.close();
    }
    const before = link(['--variant', 'minimal', '--format', 'manifest', '-o', 'stale.json']);
    expect(before.status, before.stderr).toBe(0);
    expect(before.stderr).toMatch(/1 packages were classified by an older weld.*base-files/);
    expect(readJson<{ nodes: ManifestNode[] }>(at('stale.json')).nodes.find((n) => n.path === '/var/run')!.type).toBe('dir');
    const again = weld(['import', '--store', store, debFile('base-files')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/classified again/);
    const after = link(['--variant', 'minimal', '--format', 'manifest', '-o', 'stale.json']);
    expect(after.stderr).not.toMatch(/older weld/);
    expect(readJson<{ nodes: ManifestNode[] }>(at('stale.json')).nodes.find((n) => n.path === '/var/run')).toMatchObject({ type: 'symlink', target: '/run' });
  });

  it('writes valid SPDX 2.3 listing every package with version, license and digest', () => {
    const s = readJson<{ spdxVersion: string; dataLicense: string; SPDXID: string; documentNamespace: string; creationInfo: { created: string }; packages: { SPDXID: string; name: string; versionInfo: string; licenseDeclared: string; checksums: { algorithm: string; checksumValue: string }[] }[]; files: { fileName: string }[]; relationships: unknown[] }>(at('m.spdx.json'));
    expect(s.spdxVersion).toBe('SPDX-2.3');
    expect(s.dataLicense).toBe('CC0-1.0');
    expect(s.SPDXID).toBe('SPDXRef-DOCUMENT');
    expect(s.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ids = new Set<string>();
    for (const p of s.packages) {
      expect(p.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(ids.has(p.SPDXID)).toBe(false);
      ids.add(p.SPDXID);
    }
    for (const want of report.packages) {
      const p = s.packages.find((x) => x.name === want.name)!;
      expect(p, want.name).toBeDefined();
      expect(p.versionInfo).toBeTruthy();
      expect(p.licenseDeclared).toBeTruthy();
      expect(p.checksums[0]!.checksumValue).toBe(sha(debFile(want.name)));
    }
    expect(s.files.map((f) => f.fileName)).toEqual(expect.arrayContaining(['./etc/passwd', './etc/os-release', './etc/machine-id']));
  });

  describe('a service host (systemd, dbus, cron, openssh-server)', () => {
    let svc: { nodes: ManifestNode[] };
    beforeAll(() => {
      const r = link(['--variant', at('variants/svc.toml'), '--format', 'dir', '-o', 'svc.dir']);
      expect(r.status, r.stderr).toBe(0);
      const m = link(['--variant', at('variants/svc.toml'), '--format', 'manifest', '-o', 'svc.json']);
      expect(m.status, m.stderr).toBe(0);
      svc = readJson(at('svc.json'));
    }, 120_000);

    it('writes the directory as the manifest says', () => {
      compareTree(at('svc.dir'), svc.nodes, { mtimes: true });
    });

    it('writes /etc/ld.so.cache byte-equal to ldconfig -X -r DIR', () => {
      const r = run('ldconfig', ['-X', '-r', at('svc.dir'), '-C', '/etc/ld.so.cache.check'], { allowFail: true });
      expect(r.status, r.stderr).toBe(0);
      const ours = fs.readFileSync(at('svc.dir/etc/ld.so.cache'));
      expect(ours.length).toBeGreaterThan(1000);
      expect(fs.readFileSync(at('svc.dir/etc/ld.so.cache.check')).equals(ours)).toBe(true);
    });

    it('keeps ELF facts per package, so a relink reads no library; a damaged cache entry is recomputed', async () => {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(path.join(store, 'catalog.db'));
      try {
        const rows = db.prepare('SELECT package, data FROM package_elf').all() as { package: number; data: string }[];
        expect(rows.length).toBeGreaterThan(5);
        expect(rows.some((r) => Object.values(JSON.parse(r.data) as Record<string, unknown>).some((v) => v !== null && (v as { soname?: string }).soname === 'libsystemd.so.0'))).toBe(true);
        // wrong shapes (not facts readElfDynamic could give) must not be trusted
        const upd = db.prepare('UPDATE package_elf SET data = ? WHERE package = ?');
        for (const r of rows) upd.run(JSON.stringify(Object.fromEntries(Object.keys(JSON.parse(r.data) as object).map((k) => [k, { elfClass: 99 }]))), r.package);
      } finally {
        db.close();
      }
      const want = fs.readFileSync(at('svc.dir/etc/ld.so.cache'));
      for (const out of ['svc-damaged.dir', 'svc-cached.dir']) {
        const r = link(['--variant', at('variants/svc.toml'), '--format', 'dir', '-o', out]);
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(at(out, 'etc/ld.so.cache')).equals(want), out).toBe(true);
        fs.rmSync(at(out), { recursive: true, force: true });
      }
    }, 120_000);

    it('adds the packages\' system users and groups with deterministic ids in 100-999, keeping base-passwd\'s', () => {
      const passwd = fs.readFileSync(at('svc.dir/etc/passwd'), 'utf8').trim().split('\n').map((l) => l.split(':'));
      const group = fs.readFileSync(at('svc.dir/etc/group'), 'utf8').trim().split('\n').map((l) => l.split(':'));
      const master = fs.readFileSync(at('svc.dir/usr/share/base-passwd/passwd.master'), 'utf8').trim().split('\n').map((l) => l.split(':'));
      for (const m of master) expect(passwd.find((p) => p[0] === m[0])?.slice(2)).toEqual(m.slice(2));
      for (const name of ['messagebus', 'sshd', 'systemd-network']) {
        const u = passwd.find((p) => p[0] === name);
        expect(u, name).toBeDefined();
        expect(Number(u![2])).toBeGreaterThanOrEqual(100);
        expect(Number(u![2])).toBeLessThanOrEqual(999);
      }
      // adduser --system without --group: primary group nogroup (openssh-server's sshd)
      expect(passwd.find((p) => p[0] === 'sshd')![3]).toBe('65534');
      // adduser takes ids from 100 up, systemd-sysusers from 999 down; each tool's home and shell
      const byName = (n: string) => passwd.find((p) => p[0] === n)!;
      expect(Number(byName('messagebus')[2])).toBeLessThan(110);
      expect(Number(byName('systemd-network')[2])).toBeGreaterThan(990);
      expect(byName('messagebus').slice(5)).toEqual(['/nonexistent', '/usr/sbin/nologin']);
      expect(byName('sshd').slice(5)).toEqual(['/run/sshd', '/usr/sbin/nologin']);
      expect(byName('systemd-network').slice(4)).toEqual(['systemd Network Management', '/', '/usr/sbin/nologin']);
      for (const name of ['crontab', '_ssh', 'messagebus', 'systemd-journal']) expect(group.some((g) => g[0] === name), name).toBe(true);
      const uids = passwd.map((p) => Number(p[2]));
      expect(new Set(uids).size).toBe(uids.length);
      // shadow has an entry per user; files owned by the new accounts carry their ids
      const shadow = fs.readFileSync(at('svc.dir/etc/shadow'), 'utf8').trim().split('\n').map((l) => l.split(':')[0]);
      expect(shadow.sort()).toEqual(passwd.map((p) => p[0]).sort());
      const again = link(['--variant', at('variants/svc.toml'), '--format', 'manifest', '-o', 'svc2.json']);
      expect(again.status).toBe(0);
      expect(sha(at('svc2.json'))).toBe(sha(at('svc.json')));
    });

    it('resolves alternatives to the highest priority (gawk over mawk, as their postinst priorities say)', () => {
      const prio = (pkg: string) => {
        const dir = at(`ctrl-${pkg}`);
        run('dpkg-deb', ['-e', debFile(pkg), dir]);
        const m = /update-alternatives (?:--quiet )?--install \/usr\/bin\/awk awk \/usr\/bin\/\S+ (\d+)/.exec(fs.readFileSync(path.join(dir, 'postinst'), 'utf8'));
        return Number(m![1]);
      };
      expect(prio('gawk')).toBeGreaterThan(prio('mawk'));
      expect(fs.readlinkSync(at('svc.dir/usr/bin/awk'))).toBe('/etc/alternatives/awk');
      expect(fs.readlinkSync(at('svc.dir/etc/alternatives/awk'))).toBe('/usr/bin/gawk');
    });

    it('enables services as systemd wants symlinks', () => {
      const wants = at('svc.dir/etc/systemd/system/multi-user.target.wants');
      for (const unit of ['cron.service', 'ssh.service']) {
        const t = fs.readlinkSync(path.join(wants, unit));
        // as deb-systemd-helper and systemctl --root name it on merged /usr (mmdebstrap of bookworm agrees)
        expect(t).toBe(`/lib/systemd/system/${unit}`);
        expect(fs.lstatSync(path.join(at('svc.dir'), t)).isFile()).toBe(true);
      }
      // ssh.service's [Install] Alias=sshd.service
      expect(fs.readlinkSync(at('svc.dir/etc/systemd/system/sshd.service'))).toBe('/lib/systemd/system/ssh.service');
      // ssh.socket ships disabled, and would compete with ssh.service for port 22
      // (weld-ssh-keygen.service is wanted by ssh.socket, so ssh.socket.wants/ may exist: that enables nothing)
      const sys = at('svc.dir/etc/systemd/system');
      const enabled = fs.readdirSync(sys).flatMap((n) => (n.endsWith('.wants') || n.endsWith('.requires') ? fs.readdirSync(path.join(sys, n)) : [n]));
      expect(enabled.filter((n) => n === 'ssh.socket')).toEqual([]);
      expect(fs.existsSync(at('svc.dir/etc/systemd/system/sockets.target.wants/ssh.socket'))).toBe(false);
    });
  });

  describe('bad input', () => {
    it('a broken TOML file or an unknown key is a one-line error naming the file', () => {
      const f = writeVariant('broken', 'name = "broken"\npackages = [\n');
      const r = link(['--variant', f, '--format', 'manifest']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^weld: Cannot read variant .*broken\.toml/);
      const g = writeVariant('unknown', 'format = "deb"\npackages = ["busybox-static"]\npakages = ["x"]\n');
      const u = link(['--variant', g, '--format', 'manifest']);
      expect(u.status).toBe(1);
      expect(u.stderr).toContain('pakages is not a variant key');
      const n = link(['--variant', 'no-such-variant', '--format', 'manifest']);
      expect(n.status).toBe(1);
      expect(n.stderr).toContain('known variants');
    });

    it('an unknown package lists every missing requirement and who needs it', () => {
      const f = writeVariant('missing', 'format = "deb"\npackages = ["busybox-static", "no-such-package"]\n');
      const r = link(['--variant', f, '--format', 'manifest']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('no-such-package');
      expect(r.stdout.length).toBe(0);
      const g = writeVariant('missing2', 'format = "deb"\npackages = ["weld-needy"]\n');
      const n = link(['--variant', g, '--format', 'manifest']);
      expect(n.status).toBe(1);
      expect(n.stderr).toMatch(/Cannot resolve 2 requirements/);
      expect(n.stderr).toMatch(/no-such-a \(>= 1\.0\) \(needed by weld-needy/);
      expect(n.stderr).toMatch(/no-such-b \| no-such-c \(needed by weld-needy/);
    });

    it('a timezone the image cannot hold, or one that is not a zone name, is a clear error', () => {
      const f = writeVariant('tz', 'format = "deb"\npackages = ["base-files"]\ntimezone = "Europe/Paris"\n');
      const r = link(['--variant', f, '--format', 'manifest', '-o', 'tz.json']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/timezone Europe\/Paris, but the image has no \/usr\/share\/zoneinfo\/Europe\/Paris/);
      const g = writeVariant('tz2', 'format = "deb"\npackages = ["base-files"]\ntimezone = "../../etc/shadow"\n');
      expect(link(['--variant', g, '--format', 'manifest', '-o', 'tz.json']).stderr).toMatch(/timezone must be a zoneinfo name/);
      expect(fs.existsSync(at('tz.json'))).toBe(false);
    });

    it('files owned by accounts no package in the closure defines: the error names the package in the store that does', () => {
      // base-files ships /var/mail root:mail and /usr/local root:staff; base-passwd's masters define both
      const f = writeVariant('nopasswd', 'format = "deb"\npackages = ["base-files", "bash", "coreutils"]\n');
      const r = link(['--variant', f, '--format', 'manifest', '-o', 'nopasswd.json']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/^weld: Files are owned by names no package or variant defines: group mail, group staff; base-passwd in the store defines group mail, group staff: add "base-passwd" to packages$/m);
      expect(fs.existsSync(at('nopasswd.json'))).toBe(false);
    });

    it('a package conflict (Conflicts, versioned Breaks) names both packages; ignore-conflicts waives it', () => {
      const f = writeVariant('breaks', 'format = "deb"\npackages = ["weld-breaker", "weld-conflict-a", "weld-conflict-b"]\n[conflicts]\n"/usr/share/weld-conflict/data" = "weld-conflict-b"\n');
      const r = link(['--variant', f, '--format', 'manifest', '-o', 'breaks.json']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/2 package conflicts/);
      expect(r.stderr).toMatch(/weld-breaker-1\.0 breaks weld-conflict-a \(<< 2\), which weld-conflict-a-1\.0 satisfies/);
      expect(r.stderr).toMatch(/weld-breaker-1\.0 conflicts with weld-conflict-b, which weld-conflict-b-1\.0 satisfies/);
      expect(fs.existsSync(at('breaks.json'))).toBe(false);
      const g = writeVariant('breaks-waived', fs.readFileSync(f, 'utf8').replace('[conflicts]', 'ignore-conflicts = ["weld-breaker"]\n[conflicts]'));
      const w = link(['--variant', g, '--format', 'manifest', '-o', 'breaks.json']);
      expect(w.status, w.stderr).toBe(0);
    });

    it('a file conflict names both packages, identical files are fine, and the variant can name a winner', () => {
      const f = writeVariant('conflict', 'format = "deb"\npackages = ["weld-conflict-a", "weld-conflict-b"]\n');
      const r = link(['--variant', f, '--format', 'manifest', '-o', 'conflict.json']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('/usr/share/weld-conflict/data');
      expect(r.stderr).toContain('weld-conflict-a');
      expect(r.stderr).toContain('weld-conflict-b');
      expect(r.stderr).not.toContain('/usr/share/weld-conflict/same');
      expect(fs.existsSync(at('conflict.json'))).toBe(false);
      const g = writeVariant('conflict-won', 'format = "deb"\npackages = ["weld-conflict-a", "weld-conflict-b"]\n[conflicts]\n"/usr/share/weld-conflict/data" = "weld-conflict-b"\n');
      const w = link(['--variant', g, '--format', 'dir', '-o', 'won.dir']);
      expect(w.status, w.stderr).toBe(0);
      expect(fs.readFileSync(at('won.dir/usr/share/weld-conflict/data'), 'utf8')).toBe('from b\n');
    });

    it('strict = true fails on opaque scriptlets, listing them; without it they go to the report', () => {
      const f = writeVariant('lax', 'format = "deb"\npackages = ["weld-opaque"]\n');
      const ok = link(['--variant', f, '--format', 'manifest', '-o', 'lax.json', '--report', 'lax.report.json']);
      expect(ok.status, ok.stderr).toBe(0);
      const rep = readJson<{ actions: { opaque: { package: string; phase: string; reason: string }[] } }>(at('lax.report.json'));
      expect(rep.actions.opaque.some((o) => o.package.startsWith('weld-opaque') && o.phase === 'postinst' && o.reason.includes('frobnicate'))).toBe(true);
      const g = writeVariant('strict', 'format = "deb"\nstrict = true\npackages = ["weld-opaque"]\n');
      const r = link(['--variant', g, '--format', 'manifest', '-o', 'strict.json']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/strict.*weld-opaque.*postinst/);
      expect(fs.existsSync(at('strict.json'))).toBe(false);
    });

    it('a link killed with -9 leaves no output and no copier running; the next link removes its temp file', async () => {
      const dead = spawnSync('true').pid!;
      fs.writeFileSync(at('.killed.img.weld-' + dead), 'stale');
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'link', '--store', store, '--variant', 'minimal', '-o', 'killed.img'], { cwd: work, stdio: 'ignore' });
      // kill it once its temp file exists (mid-write); a link that wins the race is killed after it
      const tmp = at('.killed.img.weld-' + child.pid);
      for (let i = 0; i < 400 && !fs.existsSync(tmp) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 5));
      const midWrite = fs.existsSync(tmp);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      if (midWrite) expect(fs.existsSync(at('killed.img'))).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
      expect(run('pgrep', ['-f', `weld-copy-.* ${store}`], { allowFail: true }).stdout.toString()).toBe('');
      const again = link(['--variant', 'minimal', '-o', 'killed.img']);
      expect(again.status, again.stderr).toBe(0);
      expect(fs.readdirSync(work).filter((n) => n.startsWith('.killed.img.weld-'))).toEqual([]);
    });

    it('a full disk is a clear error, a non-zero exit, and leaves no output file', (ctx) => {
      const dir = at('tiny');
      fs.mkdirSync(dir);
      if (run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { allowFail: true }).status !== 0) return ctx.skip();
      try {
        const r = link(['--variant', 'minimal', '-o', path.join(dir, 'm.img'), '--report', path.join(dir, 'r.json')]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/^weld: .*no space left on device/m);
        expect(fs.readdirSync(dir)).toEqual([]);
      } finally {
        run('umount', [dir], { allowFail: true });
      }
    });
  });
});
