/**
 * The k8s variant links from Debian bookworm's packages into a sealed DDI
 * (~120 packages, ~160 MB of downloads on a cold cache). Checked with the
 * kernel (mount of the root partition), veritysetup, and Debian's own
 * update-ca-certificates run in an overlay over the mounted image.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, weldAsync } from './helpers/tools.js';
import { fetchK8sDebs } from './helpers/k8s.js';

const canRun = ['dpkg-deb', 'apt-get', 'veritysetup', 'mount'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));



describe.skipIf(!canRun)('the k8s variant', () => {
  let work = '';
  let store = '';
  let report: { rootHash: string; partitions: { start: number; size: number }[]; seal: { objects: number; cachedObjects: number; reusedBlocks: number; hashedBlocks: number; ms: number }; packages: { name: string }[] };
  const mounts: string[] = [];
  const at = (...p: string[]) => path.join(work, ...p);

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-k8s-'));
    store = at('store');
    const imp = await weldAsync(['import', '--store', store, ...fetchK8sDebs()]);
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
    // udev's hwdb, made by the image's own systemd-hwdb at link time (test/generators.test.ts compares its bytes)
    expect(fs.statSync(m('usr/lib/udev/hwdb.bin')).size).toBeGreaterThan(1_000_000);
  });

  it('makes /etc/ssl/certs (bundle, .pem links, hash links) equal to update-ca-certificates run in the image', (ctx) => {
    if (!mounts.length) return ctx.skip();
    for (const d of ['upper', 'wk', 'ov']) fs.mkdirSync(at(d));
    if (run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${at('mnt')},upperdir=${at('upper')},workdir=${at('wk')}`, at('ov')], { allowFail: true }).status !== 0) return ctx.skip();
    mounts.push(at('ov'));
    const certs = at('ov/etc/ssl/certs');
    const list = () => new Map(fs.readdirSync(certs).sort().map((n) => {
      const p = path.join(certs, n);
      return [n, fs.lstatSync(p).isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : `file ${fs.readFileSync(p).toString('base64')}`] as const;
    }));
    const ours = list();
    // OpenSSL's CApath lookups need the hash links: one per certificate
    expect([...ours.keys()].filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n)).length).toBe([...ours.keys()].filter((n) => n.endsWith('.pem')).length);
    for (const n of fs.readdirSync(certs)) fs.rmSync(path.join(certs, n));
    const r = run('chroot', [at('ov'), '/usr/sbin/update-ca-certificates'], { allowFail: true });
    expect(r.status, r.stderr).toBe(0);
    const theirs = list();
    expect([...theirs.keys()]).toEqual([...ours.keys()]);
    for (const [n, v] of theirs) expect(ours.get(n), n).toBe(v);
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
