/**
 * The slow tier's container host: the k8s variant, linked from bookworm's
 * .debs, boots under qemu TCG through weld's initramfs into systemd as PID 1,
 * reaches multi-user.target with no failed unit, runs containerd, and runs a
 * container whose root is another weld link (the erofs image of a small
 * variant, handed to the guest as a second read-only disk: guests get no
 * network). The oracles are the image's own systemd and containerd.
 *
 * A check unit the test adds to the variant reports on the serial console
 * (StandardOutput=journal+console) and powers off. For every failed unit it
 * prints the unit's journal lines, and the test fails naming them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootQemu, type BootResult } from '../src/initramfs/qemu.js';
import { ROOT, has, run, weldAsync } from './helpers/tools.js';
import { fetchK8sDebs } from './helpers/k8s.js';

const BOOT_TIMEOUT = 420_000;
/** units allowed to fail, each with its reason; none today */
const ALLOWED_FAILED: Record<string, string> = {};

const canRun = ['qemu-system-x86_64', 'apt-get', 'dpkg-deb'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

const CHECK_SCRIPT = `#!/bin/bash
# weld's boot check: runs once multi-user.target is reached, reports on the console, powers off
say() { echo "WELD-CHECK $*"; }
say "multi-user.target $(systemctl is-active multi-user.target)"
for i in $(seq 120); do
  [ "$(systemctl is-active containerd)" = active ] && [ -S /run/containerd/containerd.sock ] && break
  sleep 1
done
say "containerd $(systemctl is-active containerd)"
systemctl --failed --no-legend --plain | while read -r unit rest; do
  say "failed $unit"
  journalctl -b -u "$unit" --no-pager -o cat | tail -n 20 | sed "s|^|WELD-JOURNAL $unit: |"
done
c=/run/weld-container
mkdir -p $c && mount -t erofs -o ro /dev/vdb $c
say "container root $(ls $c/bin/busybox 2>&1)"
ctr run --rm --rootfs $c weld-check /bin/busybox sh -c 'echo WELD-CONTAINER-$((6 * 7))'
say "ctr exit $?"
say done
systemctl poweroff --no-block
`;

const CHECK_UNIT = `[Unit]
Description=weld boot check
After=multi-user.target containerd.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/weld-boot-check
StandardOutput=journal+console
StandardError=journal+console
`;

/** k8s.toml plus the check unit, enabled for multi-user.target */
function checkVariant(): string {
  const k8s = fs.readFileSync(path.join(ROOT, 'variants/k8s.toml'), 'utf8');
  const toml = (s: string) => JSON.stringify(s);
  return `${k8s.replace(/^name = "k8s"$/m, 'name = "k8s-boot-check"')}
[files."/usr/local/sbin/weld-boot-check"]
content = ${toml(CHECK_SCRIPT)}
mode = "0755"

[files."/usr/lib/systemd/system/weld-boot-check.service"]
content = ${toml(CHECK_UNIT)}

[symlinks]
"/usr/lib/systemd/system/multi-user.target.wants/weld-boot-check.service" = "../weld-boot-check.service"
`;
}

describe.skipIf(!canRun)('the k8s variant boots systemd and runs a container (qemu TCG)', () => {
  let work = '';
  let result: BootResult;
  const at = (...p: string[]) => path.join(work, ...p);
  // the check unit's lines reach the console through journald: "[  96.0] weld-boot-check[514]: WELD-…"
  const lines = () => result.log.split('\n').flatMap((l) => /WELD-.*$/.exec(l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''))?.[0] ?? []);
  const check = (what: string) => lines().find((l) => l.startsWith(`WELD-CHECK ${what}`));

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-boot-k8s-'));
    const store = at('store');
    const imp = await weldAsync(['import', '--store', store, ...fetchK8sDebs(['busybox-static'])]);
    expect(imp.status, imp.stderr).toBe(0);
    fs.writeFileSync(at('k8s-boot-check.toml'), checkVariant());
    const link = await weldAsync(['link', '--store', store, '--variant', at('k8s-boot-check.toml'), '-o', at('root.img'), '--report', at('root.json')]);
    expect(link.status, link.stderr).toBe(0);
    // the container's root: another weld link (the minimal variant), as weld's erofs output, mounted read-only
    const box = await weldAsync(['link', '--store', store, '--variant', 'minimal', '--format', 'erofs', '-o', at('box.erofs')]);
    expect(box.status, box.stderr).toBe(0);
    const ir = await weldAsync(['initramfs', '--store', store, '--variant', at('k8s-boot-check.toml'), '-o', at('initrd.img'), '--kernel', at('vmlinuz')]);
    expect(ir.status, ir.stderr).toBe(0);
    const { rootHash } = JSON.parse(fs.readFileSync(at('root.json'), 'utf8')) as { rootHash: string };
    result = await bootQemu(
      { kernel: at('vmlinuz'), initrd: at('initrd.img'), disk: at('root.img'), extraDisks: [at('box.erofs')], append: `console=ttyS0 panic=-1 roothash=${rootHash}`, timeoutMs: BOOT_TIMEOUT, memoryMiB: 1024, until: /reboot: Power down/ },
      { kernel: /Linux version /, systemd: /systemd\[1\]: .*running in system mode/, multiUser: /WELD-CHECK multi-user\.target active/, containerd: /WELD-CHECK containerd active/, marker: /WELD-CONTAINER-42\b/ },
    );
    fs.writeFileSync(at('serial.log'), result.log);
    if (process.env.WELD_KEEP) console.error(`serial log: ${at('serial.log')}`);
  }, BOOT_TIMEOUT + 300_000);
  afterAll(() => {
    if (work && !process.env.WELD_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });

  it('switches from weld\'s initramfs to systemd as PID 1 and reaches multi-user.target', () => {
    expect(result.timedOut, result.log.split('\n').slice(-40).join('\n')).toBe(false);
    expect(result.marks.systemd, 'systemd never started').toBeDefined();
    expect(check('multi-user.target')).toBe('WELD-CHECK multi-user.target active');
  });

  it('has no failed unit but those listed with their reason', () => {
    const failed = lines().flatMap((l) => /^WELD-CHECK failed (\S+)/.exec(l)?.[1] ?? []);
    const unexpected = failed.filter((u) => !(u in ALLOWED_FAILED));
    const journal = lines().filter((l) => unexpected.some((u) => l.startsWith(`WELD-JOURNAL ${u}:`)));
    expect(unexpected, journal.join('\n')).toEqual([]);
  });

  it('runs containerd, and a container whose root is a weld erofs image from a second disk', () => {
    expect(check('containerd')).toBe('WELD-CHECK containerd active');
    expect(check('ctr exit'), result.log.split('\n').filter((l) => /weld-boot-check/.test(l)).join('\n')).toBe('WELD-CHECK ctr exit 0');
    expect(result.marks.marker, 'the container printed no marker').toBeDefined();
    console.log(`k8s boot under TCG: kernel start → systemd ${(result.marks.systemd! - result.marks.kernel!).toFixed(1)} s, → multi-user.target ${(result.marks.multiUser! - result.marks.kernel!).toFixed(1)} s, → containerd ready ${(result.marks.containerd! - result.marks.kernel!).toFixed(1)} s, → container marker ${(result.marks.marker! - result.marks.kernel!).toFixed(1)} s`);
  });
});
