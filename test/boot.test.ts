/**
 * Boot proof, the slow tier: Debian's kernel under qemu TCG boots the minimal
 * variant's DDI image through weld's initramfs, checks every block it reads
 * with dm-verity, and refuses a tampered image or a wrong root hash. The
 * oracles are the kernel itself (its verity messages and EIO), veritysetup
 * (the tampered image really is corrupt) and dpkg-deb (the bytes read from the
 * sealed root are the package's). One file, sequential tests: each boot takes
 * 15-60 s and they must not compete for the 2 CI cores.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkErofs } from '../src/formats/erofs/reader.js';
import { bootQemu, type BootResult } from '../src/initramfs/qemu.js';
import { ROOT, has, run, weld } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
const BOOT_TIMEOUT = 150_000;
// the minimal variant's closure, plus what the initramfs takes from the store
const MINIMAL = ['base-files', 'base-passwd', 'busybox-static', 'libc6', 'libgcc-s1', 'gcc-12-base', 'mawk', 'libdebconfclient0'];
const INITRAMFS = ['dmsetup', 'libdevmapper1.02.1', 'libselinux1', 'libudev1', 'libpcre2-8-0'];

const canRun = has('qemu-system-x86_64') && has('apt-get') && has('veritysetup') && existsSync(path.join(ROOT, 'dist/cli/main.js'));

let work = '';
let store = '';
let kernelPkg = '';
let rootHash = '';
let report: { rootHash: string; partitions: { start: number; size: number; name: string }[] };

const debOf = (pkg: string) => {
  const r = run('sh', ['-c', `ls ${DEB_DIR}/${pkg}_*.deb`]);
  return r.stdout.toString().trim().split('\n')[0]!;
};
const ok = (r: { status: number; stderr: string }, what: string) => {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${r.stderr}`);
};
/** A script run by the image's own busybox sh after switch_root; the kernel passes words after "--" to init. */
const append = (hash: string, script: string) => {
  if (script.includes('"')) throw new Error('the kernel command line cannot nest double quotes');
  return `console=ttyS0 panic=-1 roothash=${hash} -- /usr/bin/sh -c "${script}; echo WELD-DONE; poweroff -f"`;
};
const boot = (disk: string, script: string, hash = rootHash): Promise<BootResult> =>
  bootQemu({ kernel: path.join(work, 'vmlinuz'), initrd: path.join(work, 'initrd.img'), disk, append: append(hash, script), timeoutMs: BOOT_TIMEOUT, until: /^WELD-DONE\r?$/m }, { kernel: /Linux version /, marker: /^WELD-DONE\r?$/m });
const consoleLines = (log: string) => log.split('\n').filter((l) => !l.startsWith('['));

describe.skipIf(!canRun)('boot a weld image under qemu', () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'weld-boot-'));
    store = path.join(work, 'store');
    // the kernel release is whatever the archive's metapackage points at today
    const deps = run('apt-cache', ['depends', 'linux-image-amd64']).stdout.toString();
    kernelPkg = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1] ?? '';
    expect(kernelPkg).toMatch(/^linux-image-\d/);
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, 'linux-image-amd64', kernelPkg, ...MINIMAL, ...INITRAMFS]);
    const debs = ['linux-image-amd64', kernelPkg, ...MINIMAL, ...INITRAMFS].map(debOf);
    ok(weld(['import', '--store', store, ...debs]), 'weld import');
    const link = weld(['link', '--variant', 'minimal', '--store', store, '-o', path.join(work, 'root.img'), '--report', path.join(work, 'r.json')]);
    ok(link, 'weld link');
    report = JSON.parse(readFileSync(path.join(work, 'r.json'), 'utf8'));
    rootHash = report.rootHash;
    const ir = weld(['initramfs', '--variant', 'minimal', '--store', store, '--kernel', path.join(work, 'vmlinuz'), '--report', path.join(work, 'ir.json')], {
      stdio: ['ignore', openSync(path.join(work, 'initrd.img'), 'w'), 'pipe'],
    });
    ok(ir, 'weld initramfs');
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('bad input is refused before qemu starts', () => {
    let store2 = '';
    beforeAll(() => {
      // a store with the kernel metapackage but not the kernel it names, plus a kernel lacking dm-verity
      store2 = path.join(work, 'store2');
      const fake = path.join(work, 'fake-kernel');
      const rel = '9.9.9-weld-test';
      mkdirSync(path.join(fake, 'DEBIAN'), { recursive: true });
      writeFileSync(path.join(fake, 'DEBIAN/control'), `Package: linux-image-weld-nodmverity\nVersion: 1.0\nArchitecture: amd64\nMaintainer: weld tests <weld@example.invalid>\nDescription: test kernel without dm-verity\n`);
      run('sh', ['-c', `dpkg-deb --fsys-tarfile '${debOf(kernelPkg)}' | tar -x -C '${fake}' --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/drivers/block/virtio_blk.ko' './lib/modules/*/kernel/fs/erofs/*' './lib/modules/*/kernel/drivers/md/dm-mod.ko' './lib/modules/*/kernel/drivers/md/dm-bufio.ko' './lib/modules/*/kernel/lib/libcrc32c.ko' './lib/modules/*/modules.builtin'`]);
      run('sh', ['-c', `cd '${fake}' && mv boot/vmlinuz-* boot/vmlinuz-${rel} && mv lib/modules/* lib/modules/${rel}`]);
      run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', fake, path.join(work, 'linux-image-weld-nodmverity.deb')]);
      ok(weld(['import', '--store', store2, debOf('linux-image-amd64'), path.join(work, 'linux-image-weld-nodmverity.deb'), ...[...MINIMAL, ...INITRAMFS].map(debOf)]), 'weld import');
      const minimal = readFileSync(path.join(ROOT, 'variants/minimal.toml'), 'utf8');
      writeFileSync(path.join(work, 'test-nodmverity.toml'), minimal.replace(/^kernel = .*$/m, 'kernel = "linux-image-weld-nodmverity"'));
      writeFileSync(path.join(work, 'test-noverity.toml'), minimal.replace(/^verity = true$/m, 'verity = false'));
    });
    const initramfs = (variant: string, st = store2) => weld(['initramfs', '--variant', variant, '--store', st, '-o', path.join(work, 'unused.img')]);

    it('a kernel package missing from the store', () => {
      const r = initramfs('minimal');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^weld: Cannot find kernel linux-image-amd64 for variant minimal: the store lacks ${kernelPkg.replace(/[.+]/g, '\\$&')} \\(needed by linux-image-amd64\\)`));
      expect(existsSync(path.join(work, 'unused.img'))).toBe(false);
    });
    it('a kernel whose modules lack dm-verity', () => {
      const r = initramfs(path.join(work, 'test-nodmverity.toml'));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^weld: Kernel linux-image-weld-nodmverity-1\.0\.amd64 \(9\.9\.9-weld-test\) has no module dm_verity: neither a \.ko file nor built in/);
    });
    it('a variant without a verity partition', () => {
      const r = initramfs(path.join(work, 'test-noverity.toml'), store);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^weld: Variant minimal has no verity partition \(layout\.verity = false/);
    });
    it('a variant that names no kernel', () => {
      const minimal = readFileSync(path.join(ROOT, 'variants/minimal.toml'), 'utf8');
      writeFileSync(path.join(work, 'test-nokernel.toml'), minimal.replace(/^kernel = .*\n/m, ''));
      const r = initramfs(path.join(work, 'test-nokernel.toml'), store);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^weld: Variant minimal names no kernel package/);
    });
  });

  it('composes the initramfs from the store: kernel from the metapackage, modules by their .modinfo closure', () => {
    const ir = JSON.parse(readFileSync(path.join(work, 'ir.json'), 'utf8'));
    expect(ir.kernel.via).toEqual(['linux-image-amd64', kernelPkg]);
    const names = ir.modules.map((m: { name: string }) => m.name);
    for (const m of ['virtio_blk', 'virtio_pci', 'erofs', 'dm_mod', 'dm_bufio', 'dm_verity']) expect(names).toContain(m);
    // dependencies load first (the boots below show the kernel accepts this order)
    expect(names.indexOf('dm_mod')).toBeLessThan(names.indexOf('dm_verity'));
    expect(names.indexOf('dm_bufio')).toBeLessThan(names.indexOf('dm_verity'));
    // the gzip newc archive lists what weld reports (GNU cpio as oracle)
    const listing = spawnSync('sh', ['-c', `gzip -dc '${path.join(work, 'initrd.img')}' | cpio -t --quiet`]).stdout.toString().split('\n');
    for (const f of ir.files) expect(listing).toContain(f.path.slice(1));
    expect(listing).toContain('dev/console');
  });

  it('boots the sealed image: verity V, a program from the image prints the marker, /etc is writable', async () => {
    const ex = path.join(work, 'bb');
    run('dpkg-deb', ['-x', debOf('busybox-static'), ex]);
    const bb = createHash('sha256').update(readFileSync(path.join(ex, 'bin/busybox'))).digest('hex');
    const r = await boot(path.join(work, 'root.img'), "echo WELD-MARKER-$(cat /etc/hostname); sha256sum /usr/bin/busybox; echo probe > /etc/weld-probe && echo ETC-WRITABLE-$(cat /etc/weld-probe); grep ' / ' /proc/mounts");
    const out = consoleLines(r.log);
    expect(r.timedOut, r.log).toBe(false);
    expect(out, r.log).toContain('weld-initramfs: dmsetup status: 0 ' + (report.partitions[0]!.size / 512) + ' verity V');
    expect(out).toContain('WELD-MARKER-weld-minimal');
    expect(out.some((l) => l.startsWith(bb + '  /usr/bin/busybox'))).toBe(true);
    expect(out).toContain('ETC-WRITABLE-probe');
    expect(r.log).toMatch(/\/dev\/mapper\/root \/ erofs ro[,\s]/);
    expect(r.log).not.toMatch(/verity.*corrupted/);
    console.log(`boot: kernel start to marker ${(r.marks.marker! - r.marks.kernel!).toFixed(1)} s, qemu ran ${r.seconds} s`);
  });

  it('a byte flipped inside a file: reading it fails with EIO and the kernel reports the corrupt block', async () => {
    const root = report.partitions.find((p) => p.name.startsWith('root-') && !p.name.includes('verity'))!;
    const img = readFileSync(path.join(work, 'root.img'));
    const fsImg = img.subarray(root.start, root.start + root.size);
    // a file with whole data blocks, outside the paths copied into tmpfs at boot and not busybox itself
    const victim = [...walkErofs(fsImg)].find((i) => (i.mode & 0o170000) === 0o100000 && i.nblocks >= 2 && i.path.startsWith('/usr/share/'))!;
    expect(victim).toBeDefined();
    const bad = path.join(work, 'flipped.img');
    copyFileSync(path.join(work, 'root.img'), bad);
    const at = root.start + (victim.blkaddr + 1) * 4096 + 123;
    const fd = openSync(bad, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0]! ^= 0x40;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    // veritysetup agrees the image is now corrupt (exit 2), and names nothing else
    const v = run('veritysetup', ['verify', bad, bad, rootHash, `--data-block-size=4096`, `--hash-offset=${report.partitions[1]!.start}`, `--data-blocks=${root.size / 4096}`], { allowFail: true });
    expect(v.status).toBe(2);
    const r = await boot(bad, `cat ${victim.path} > /dev/null && echo READ-OK || echo READ-FAILED`);
    const out = consoleLines(r.log);
    expect(r.timedOut, r.log).toBe(false);
    expect(out, r.log).toContain('READ-FAILED');
    expect(out).not.toContain('READ-OK');
    expect(r.log).toMatch(/Input\/output error/);
    expect(r.log).toMatch(new RegExp(`device-mapper: verity: \\d+:\\d+: data block ${victim.blkaddr + 1} is corrupted`));
  });

  it('a wrong root hash: the initramfs refuses to mount the root', async () => {
    const wrong = rootHash.slice(0, -1) + (rootHash.endsWith('0') ? '1' : '0');
    const r = await boot(path.join(work, 'root.img'), 'echo WELD-MARKER-SHOULD-NOT-RUN', wrong);
    const out = consoleLines(r.log);
    expect(r.timedOut, r.log).toBe(false);
    expect(out, r.log).toContain('weld-initramfs: FATAL: cannot mount the verity root (wrong root hash or corrupted image)');
    expect(out).not.toContain('WELD-MARKER-SHOULD-NOT-RUN');
    expect(out).not.toContain('WELD-DONE');
    // dm-verity itself rejects the top hash block: the partitions were found, the hash did not match
    expect(r.log).toMatch(/device-mapper: verity: \d+:\d+: metadata block \d+ is corrupted/);
  });
});
