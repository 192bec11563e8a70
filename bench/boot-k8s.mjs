// `npm run bench -- boot-k8s`: boots the k8s variant's sealed DDI image under qemu TCG with
// Debian's kernel and weld's initramfs, and shows in the serial log that containerd and runc
// ran from the verity root. Records the boot time (kernel start to marker) and the image size.
// Not a test: it downloads the variant's closure (~100 .debs) into bench/.cache/boot-k8s.
import fs from 'node:fs';
import path from 'node:path';
import { CACHE, ROOT, WELD, ensureBuilt, log, sh, rel, revision, writeResults, table } from './lib.mjs';

const DIR = path.join(CACHE, 'boot-k8s');
const DEBS = path.join(DIR, 'debs');
const STORE = path.join(DIR, 'store');
const INITRAMFS_PKGS = ['busybox-static', 'dmsetup', 'libdevmapper1.02.1', 'libselinux1', 'libudev1', 'libpcre2-8-0'];

export async function main() {
  ensureBuilt();
  const { bootQemu } = await import(path.join(path.dirname(WELD), '../initramfs/qemu.js'));
  const { parse } = await import('smol-toml');
  const variant = parse(fs.readFileSync(path.join(ROOT, 'variants/k8s.toml'), 'utf8'));
  fs.mkdirSync(DEBS, { recursive: true });

  // the variant's Depends/Pre-Depends closure as apt computes it (real package names only)
  const roots = [...variant.packages, ...INITRAMFS_PKGS];
  const dep = sh('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...roots]);
  const names = [...new Set(dep.stdout.split('\n').filter((l) => /^[a-z0-9]/.test(l)).map((l) => l.trim()))].sort();
  log(`fetching ${names.length} .debs into ${rel(DEBS)}`);
  sh('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...names], { stdio: ['ignore', 'inherit', 'inherit'] });
  const weld = (args, opts = {}) => sh('node', [WELD, ...args], { cwd: ROOT, ...opts });
  log('weld import');
  weld(['import', '--store', STORE, DEBS], { allowFail: true });

  const img = path.join(DIR, 'k8s.img');
  const t0 = performance.now();
  weld(['link', '--variant', 'k8s', '--store', STORE, '-o', img, '--report', path.join(DIR, 'k8s.report.json')]);
  const linkS = (performance.now() - t0) / 1000;
  const rep = JSON.parse(fs.readFileSync(path.join(DIR, 'k8s.report.json'), 'utf8'));
  const t1 = performance.now();
  weld(['initramfs', '--variant', 'k8s', '--store', STORE, '-o', path.join(DIR, 'initrd.img'), '--kernel', path.join(DIR, 'vmlinuz'), '--report', path.join(DIR, 'initramfs.report.json')]);
  const irS = (performance.now() - t1) / 1000;
  const ir = JSON.parse(fs.readFileSync(path.join(DIR, 'initramfs.report.json'), 'utf8'));

  // bash from the image runs both tools; sysrq powers off without an init system
  const script = 'export PATH=/usr/sbin:/usr/bin; echo WELD-K8S-UP; containerd --version; runc --version; cat /etc/hostname; echo WELD-DONE; echo o > /proc/sysrq-trigger';
  log('booting under qemu TCG');
  const r = await bootQemu(
    { kernel: path.join(DIR, 'vmlinuz'), initrd: path.join(DIR, 'initrd.img'), disk: img, append: `console=ttyS0 panic=-1 roothash=${rep.rootHash} -- /usr/bin/bash -c "${script}"`, timeoutMs: 300_000, memoryMiB: 1024, until: /^WELD-DONE\r?$/m },
    { kernel: /Linux version /, marker: /^WELD-DONE\r?$/m },
  );
  fs.writeFileSync(path.join(DIR, 'serial.log'), r.log);
  const lines = r.log.split('\n').filter((l) => !l.startsWith('['));
  const containerd = lines.find((l) => /^containerd /.test(l));
  const runc = lines.find((l) => /^runc version/.test(l));
  const verity = lines.find((l) => l.includes('dmsetup status'));
  if (!containerd || !runc || r.marks.marker === undefined) {
    log(`boot did not show both versions (timed out: ${r.timedOut}); serial log in ${rel(path.join(DIR, 'serial.log'))}`);
    log(lines.slice(-30).join('\n'));
    return 1;
  }
  const bootS = r.marks.marker - r.marks.kernel;
  const md = `## boot-k8s: the k8s variant boots under qemu TCG (${new Date().toISOString().slice(0, 10)}, ${revision()})

${table(
  ['what', 'value'],
  [
    ['packages linked', rep.packages.length],
    ['DDI image size', `${(rep.size / 1048576).toFixed(1)} MiB (root ${(rep.partitions[0].size / 1048576).toFixed(1)} MiB + verity ${(rep.partitions[1].size / 1024).toFixed(0)} KiB)`],
    ['initramfs size', `${(ir.size / 1048576).toFixed(1)} MiB gzip, kernel ${ir.kernel.release}, ${ir.modules.length} modules`],
    ['weld link k8s', `${linkS.toFixed(1)} s`],
    ['weld initramfs', `${irS.toFixed(1)} s`],
    ['kernel start → marker (TCG)', `${bootS.toFixed(1)} s`],
  ],
)}

Serial log excerpt:
\`\`\`
${verity}
${containerd}
${runc}
\`\`\``;
  writeResults('boot-k8s', md);
  log(md);
  return 0;
}
