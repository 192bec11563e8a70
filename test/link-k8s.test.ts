/**
 * The k8s variant links from Debian bookworm's packages into a sealed DDI
 * (~120 packages, ~160 MB of downloads on a cold cache). Checked with the
 * kernel (mount of the root partition), veritysetup, and Debian's own
 * update-ca-certificates run in an overlay over the mounted image.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// the closure weld resolves for variants/k8s.toml in bookworm (checked by the link below: a missing one fails it)
const PKGS = `adduser base-files base-passwd bash ca-certificates conntrack containerd containernetworking-plugins coreutils cpio dash
dbus dbus-bin dbus-daemon dbus-session-bus-common dbus-system-bus-common debconf debianutils dmsetup dpkg findutils gcc-12-base grep
init-system-helpers initramfs-tools initramfs-tools-core iproute2 iptables klibc-utils kmod libacl1 libapparmor1 libargon2-1 libattr1
libaudit-common libaudit1 libblkid1 libbpf1 libbsd0 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcap2-bin libcom-err2 libcrypt1
libcryptsetup12 libdb5.3 libdbus-1-3 libdebconfclient0 libdevmapper1.02.1 libelf1 libexpat1 libfdisk1 libffi8 libgcc-s1 libgcrypt20
libgmp10 libgpg-error0 libgssapi-krb5-2 libip4tc2 libip6tc2 libjson-c5 libk5crypto3 libkeyutils1 libklibc libkmod2 libkrb5-3
libkrb5support0 liblz4-1 liblzma5 libmd0 libmnl0 libmount1 libncursesw6 libnetfilter-conntrack3 libnfnetlink0 libnftnl11 libp11-kit0
libpam-modules libpam-modules-bin libpam0g libpcre2-8-0 libproc2-0 libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2
libsmartcols1 libssl3 libsystemd-shared libsystemd0 libtinfo6 libtirpc-common libtirpc3 libudev1 libuuid1 libxtables12 libzstd1
linux-base linux-image-amd64 logsave mawk mount netbase openssl passwd procps runc sed systemd systemd-sysv tar udev usr-is-merged
util-linux util-linux-extra zlib1g`.split(/\s+/);

const canRun = ['dpkg-deb', 'apt-get', 'veritysetup', 'mount'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

/** The built CLI, asynchronously: a minute-long spawnSync starves vitest's worker RPC. */
function weldAsync(args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ status: code ?? -1, stderr }));
  });
}

function debFiles(): string[] {
  const names = fs.readdirSync(DEB_DIR);
  const out = PKGS.map((p) => names.find((n) => n.startsWith(`${p}_`) && n.endsWith('.deb')));
  // linux-image-amd64 is a metapackage: its kernel package's name carries the ABI
  const kernel = names.filter((n) => /^linux-image-\d.*-amd64_.*\.deb$/.test(n)).sort().pop();
  return [...out, kernel].map((n) => {
    if (!n) throw new Error('a k8s package is missing from the cache');
    return path.join(DEB_DIR, n);
  });
}

describe.skipIf(!canRun)('the k8s variant', () => {
  let work = '';
  let store = '';
  let report: { rootHash: string; partitions: { start: number; size: number }[]; seal: { objects: number; cachedObjects: number; reusedBlocks: number; hashedBlocks: number; ms: number }; packages: { name: string }[] };
  const mounts: string[] = [];
  const at = (...p: string[]) => path.join(work, ...p);

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-k8s-'));
    store = at('store');
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...PKGS]);
    const imp = await weldAsync(['import', '--store', store, ...debFiles()]);
    expect(imp.status, imp.stderr).toBe(0);
    const r = await weldAsync(['link', '--store', store, '--variant', 'k8s', '-o', at('k8s.img'), '--report', at('r.json')]);
    expect(r.status, r.stderr).toBe(0);
    report = JSON.parse(fs.readFileSync(at('r.json'), 'utf8'));
  }, 300_000);

  afterAll(() => {
    for (const m of mounts.reverse()) spawnSync('umount', [m], { stdio: 'ignore' });
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('seals an image veritysetup accepts', () => {
    const [root, ver] = report.partitions as [{ start: number; size: number }, { start: number; size: number }];
    // the root partition extracted; the verity superblock read in place with --hash-offset
    const data = at('root.part');
    const fd = fs.openSync(at('k8s.img'), 'r');
    const b = Buffer.alloc(root.size);
    fs.readSync(fd, b, 0, root.size, root.start);
    fs.closeSync(fd);
    fs.writeFileSync(data, b);
    expect(run('veritysetup', ['verify', '--hash-offset', String(ver.start), data, at('k8s.img'), report.rootHash], { allowFail: true }).status).toBe(0);
  });

  it('holds containerd, runc, the CNI plugins, iptables, conntrack, the kernel and CA certificates, with containerd enabled', (ctx) => {
    fs.mkdirSync(at('mnt'));
    if (run('mount', ['-t', 'erofs', '-o', 'loop,ro', at('root.part'), at('mnt')], { allowFail: true }).status !== 0) return ctx.skip();
    mounts.push(at('mnt'));
    const m = (p: string) => path.join(at('mnt'), p);
    for (const bin of ['usr/bin/containerd', 'usr/sbin/runc', 'usr/sbin/conntrack', 'usr/sbin/iptables-nft', 'usr/bin/systemctl']) {
      const p = fs.existsSync(m(bin)) ? m(bin) : m(bin.replace('/sbin/', '/bin/'));
      expect(fs.statSync(p).mode & 0o111, bin).not.toBe(0);
    }
    for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) expect(fs.statSync(m(`usr/lib/cni/${plugin}`)).isFile()).toBe(true);
    // iptables is an alternative: nft wins at priority 20, as update-alternatives picks it
    expect(fs.readlinkSync(m('usr/sbin/iptables'))).toBe('/etc/alternatives/iptables');
    expect(fs.readlinkSync(m('etc/alternatives/iptables'))).toBe('/usr/sbin/iptables-nft');
    expect(fs.readdirSync(m('boot')).some((n) => n.startsWith('vmlinuz-'))).toBe(true);
    expect(fs.readdirSync(m('usr/lib/modules')).length).toBeGreaterThan(0);
    expect(fs.readlinkSync(m('etc/systemd/system/multi-user.target.wants/containerd.service'))).toBe('/lib/systemd/system/containerd.service');
    expect(fs.statSync(m('usr/lib/systemd/system/containerd.service')).isFile()).toBe(true);
    expect(fs.readFileSync(m('etc/containerd/config.toml'), 'utf8')).toContain('bin_dir = "/usr/lib/cni"');
    expect(fs.readFileSync(m('etc/os-release'), 'utf8')).toContain('VARIANT_ID=k8s');
    const bundle = fs.readFileSync(m('etc/ssl/certs/ca-certificates.crt'), 'utf8');
    expect(bundle.split('BEGIN CERTIFICATE').length - 1).toBeGreaterThan(100);
  });

  it('writes the CA bundle byte-equal to update-ca-certificates run in the image', (ctx) => {
    if (!mounts.length) return ctx.skip();
    for (const d of ['upper', 'wk', 'ov']) fs.mkdirSync(at(d));
    if (run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${at('mnt')},upperdir=${at('upper')},workdir=${at('wk')}`, at('ov')], { allowFail: true }).status !== 0) return ctx.skip();
    mounts.push(at('ov'));
    const ours = fs.readFileSync(at('ov/etc/ssl/certs/ca-certificates.crt'));
    for (const n of fs.readdirSync(at('ov/etc/ssl/certs'))) fs.rmSync(at('ov/etc/ssl/certs', n));
    const r = run('chroot', [at('ov'), '/usr/sbin/update-ca-certificates'], { allowFail: true });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(at('ov/etc/ssl/certs/ca-certificates.crt')).equals(ours)).toBe(true);
  });

  it('reuses every object\'s cached leaf digests on a relink, and gives the same image', async () => {
    const r = await weldAsync(['link', '--store', store, '--variant', 'k8s', '-o', at('k8s2.img'), '--report', at('r2.json')]);
    expect(r.status, r.stderr).toBe(0);
    const again = JSON.parse(fs.readFileSync(at('r2.json'), 'utf8')) as typeof report;
    expect(again.rootHash).toBe(report.rootHash);
    expect(again.seal.cachedObjects).toBe(again.seal.objects);
    expect(report.seal.cachedObjects).toBeLessThan(report.seal.objects);
    // metadata blocks are hashed each time; object data comes from the cache
    expect(again.seal.hashedBlocks).toBeLessThan(again.seal.reusedBlocks / 10);
    console.log(`k8s seal: first link ${report.seal.ms} ms, relink ${again.seal.ms} ms (${again.seal.reusedBlocks} cached blocks, ${again.seal.hashedBlocks} hashed)`);
  });
});
