// `npm run bench -- views [--runs N]`: per-process views (weld run) against the same linked
// tree materialized with `weld link --format dir`, measured in one run, interleaved, medians.
// Needs root (mount namespaces) and a kernel with file-backed EROFS (6.12+).
//
// Protocol: every workload runs twice inside ONE view (or one chroot): the first pass is cold
// for that view (a fresh EROFS/overlay or FUSE superblock, so no dentries or attributes cached;
// store objects stay in the host page cache), the second is steady state. Both are reported.
// The plain directory gets the same /dev as a view (a bind of the host's), so `> /dev/null`
// is the device there too. End to end is wall time and CPU time (user+sys, GNU time) of the
// whole process tree; rpm -i --root of the same set (alien-converted) is measured here too.
// Prints markdown to stdout and keeps a copy in bench/.cache/views-results.md.
import fs from 'node:fs';
import path from 'node:path';
import { CACHE, ROOT, log, machine, machineLine, minbaseDebs, minbaseRpms, q, rel, rmrf, sh, table } from './lib.mjs';

const VARIANT = path.join(ROOT, 'bench/variants/minbase.toml');
const STORE = path.join(CACHE, 'views-store');
const VCACHE = path.join(CACHE, 'views-cache');
const PLAIN = path.join(CACHE, 'views-root');
const OVL_SCRATCH = path.join(CACHE, 'views-ovl');
const env = { ...process.env, WELD_STORE: STORE, WELD_CACHE: VCACHE };
// a private tsc snapshot: neither `npm run build` nor another bench's snapshot can swap it mid-run
const BUILD = path.join(CACHE, 'views-build');
const WELD = path.join(BUILD, 'dist/cli/main.js');

function buildSnapshot() {
  const out = path.join(BUILD, 'dist');
  log(`tsc → ${rel(out)}`);
  rmrf(out);
  fs.mkdirSync(BUILD, { recursive: true });
  // dist code finds variants/ and src/ (the helper's C source) at ../../
  for (const d of ['variants', 'src']) if (!fs.existsSync(path.join(BUILD, d))) fs.symlinkSync(path.join(ROOT, d), path.join(BUILD, d));
  const r = sh(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--outDir', out, '--sourceMap', 'false'], { cwd: ROOT, allowFail: true });
  if (!fs.existsSync(WELD)) throw new Error(`tsc emitted no ${rel(WELD)}: ${r.stdout.split('\n').slice(0, 5).join('\n')}`);
  if (r.status !== 0) log(`tsc reported errors (emitted anyway): ${r.stdout.split('\n').slice(0, 3).join(' | ')}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => `${x.toFixed(1)} ms`;
const ratio = (x, base) => `${(x / base).toFixed(2)}×`;

/** Wall and CPU (user+sys of the whole tree, from GNU time) of one command, in ms. */
function timed(argv) {
  const out = path.join(CACHE, 'views-time.txt');
  const t0 = process.hrtime.bigint();
  const r = sh('/usr/bin/time', ['-f', '%U %S', '-o', out, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const [u, s] = fs.readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}`);
  return { wall, cpu: (u + s) * 1000 };
}

export async function main(argv) {
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 15;
  if (process.geteuid() !== 0) {
    process.stderr.write('bench views: needs root\n');
    return 2;
  }
  buildSnapshot();
  const debs = minbaseDebs();
  const marker = path.join(STORE, `.bench-imported-${debs.length}`);
  if (!fs.existsSync(marker)) {
    const inDir = path.join(CACHE, 'views-debs');
    rmrf(inDir);
    fs.mkdirSync(inDir, { recursive: true });
    for (const d of debs) fs.symlinkSync(d, path.join(inDir, path.basename(d)));
    sh(process.execPath, [WELD, 'import', inDir], { env, allowFail: true });
    fs.mkdirSync(STORE, { recursive: true });
    fs.writeFileSync(marker, '');
  }
  const m = machine();
  const lines = [];
  const say = (s) => (lines.push(s), process.stdout.write(s + '\n'));
  const weld = (...a) => [process.execPath, WELD, ...a];

  // the same linked tree, materialized: the plain-directory baseline
  rmrf(PLAIN);
  sh(process.execPath, [WELD, 'link', '--variant', VARIANT, '--format', 'dir', '-o', PLAIN], { env });
  say(`## views (issue 4): weld run on Debian bookworm minbase (${debs.length} packages)\n`);

  rmrf(path.join(VCACHE, 'views')); // not native/: the helper's one-time cc build is no part of a run
  sh(process.execPath, [WELD, 'run', '--fuse', '--pkg', 'base-files', '--', '/bin/true'], { env, allowFail: true });
  rmrf(path.join(VCACHE, 'views'));
  const cold = timed(weld('run', '--variant', VARIANT, '--', '/bin/true'));
  say(`Cold \`weld run\` (resolve + link + manifest + metadata image into an empty view cache; the helper already built): ${ms(cold.wall)} wall, ${ms(cold.cpu)} CPU.\n`);
  timed(weld('run', '--fuse', '--variant', VARIANT, '--', '/bin/true'));

  // view construction: cache lookup + helper (unshare, erofs, overlay, proc/sys/tmp/dev)
  const tm = { view: [], helper: [], nodeStart: [], total: [] };
  for (let i = 0; i < runs; i++) {
    const r = sh(process.execPath, [WELD, 'run', '--timing', '--variant', VARIANT, '--', '/bin/true'], { env });
    const t = Object.fromEntries([...r.stderr.matchAll(/(\w+) ([\d.]+)/g)].map((x) => [x[1], Number(x[2])]));
    for (const k of Object.keys(tm)) tm[k].push(t[k]);
  }
  say(
    `View construction (cached manifest → mounted root; \`weld run --timing\`, ${runs} runs): median ${ms(median(tm.view))} (helper ${ms(median(tm.helper))}); ` +
      `Node start-up to weld's first line ${ms(median(tm.nodeStart))}, weld's own time from there to CMD's exit ${ms(median(tm.total))}. Goal ≤ 10 ms.\n`,
  );

  // end to end, interleaved
  const e2eCases = [
    ['node -e 0', [process.execPath, '-e', '0']],
    ['weld --version', weld('--version')],
    ['weld run --variant minbase -- /bin/true (kernel view)', weld('run', '--variant', VARIANT, '--', '/bin/true')],
    ['weld run --fuse --variant minbase -- /bin/true', weld('run', '--fuse', '--variant', VARIANT, '--', '/bin/true')],
    ['chroot DIR /bin/true (materialized tree)', ['chroot', PLAIN, '/bin/true']],
  ];
  const e2e = e2eCases.map(() => ({ wall: [], cpu: [] }));
  for (let i = 0; i < runs + 1; i++)
    e2eCases.forEach(([, a], j) => {
      const r = timed(a);
      if (i > 0) e2e[j].wall.push(r.wall), e2e[j].cpu.push(r.cpu);
    });

  // rpm -i --root of the same packages (alien --to-rpm), each into a fresh root
  const { rpms, failed } = await minbaseRpms(debs);
  const rpmRoot = path.join(CACHE, 'views-rpm-root');
  const rpmCmd = (root) => ['rpm', '-i', '--root', root, '--nodeps', '--noscripts', ...rpms];
  const rpmRuns = Math.max(3, Math.min(5, Math.ceil(runs / 5)));
  const rpm = { wall: [], cpu: [] };
  for (let i = 0; i < rpmRuns; i++) {
    rmrf(rpmRoot);
    sh('sync');
    const r = timed(rpmCmd(rpmRoot));
    rpm.wall.push(r.wall), rpm.cpu.push(r.cpu);
  }
  rmrf(rpmRoot);
  const rows = e2eCases.map(([label, a], j) => [label, ms(median(e2e[j].wall)), ms(Math.min(...e2e[j].wall)), ms(median(e2e[j].cpu)), j === 2 || j === 3 ? `${(median(rpm.wall) / median(e2e[j].wall)).toFixed(1)}× faster (medians); ${(Math.min(...rpm.wall) / Math.min(...e2e[j].wall)).toFixed(1)}× (mins); goal ≥ 10×` : '', `\`${a.map((x) => q(rel(x))).join(' ')}\``]);
  rows.push([`rpm -i --root --nodeps --noscripts (${rpms.length} alien rpms, ${rpmRuns} runs)`, ms(median(rpm.wall)), ms(Math.min(...rpm.wall)), ms(median(rpm.cpu)), '', `\`rm -rf R; ${rpmCmd('R').slice(0, 6).join(' ')} bench/.cache/rpms/*.rpm\``]);
  say(`End to end, ${runs} interleaved rounds (one untimed warm-up round); CPU = user+sys of the whole process tree (GNU time):\n`);
  say(table(['case', 'median wall', 'min wall', 'median CPU', 'vs rpm -i', 'command'], rows));
  if (Object.keys(failed).length) say(`\nalien could not convert: ${Object.keys(failed).join(', ')}`);

  // workloads: each run twice inside one view / one chroot, cold pass then steady state
  const work = {
    'ls -lR /usr /etc /var': 'ls -lR /usr /etc /var > /dev/null',
    'find /usr /etc /var -type f -exec cat {} +': 'find /usr /etc /var -type f -exec cat {} + > /dev/null',
  };
  const twice = (cmd) => `for i in 1 2; do s=$(date +%s%N); ${cmd}; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`;
  const kinds = {
    'plain dir (chroot, /dev bound)': (w) => ['unshare', '-m', 'sh', '-c', `mount --bind /dev ${q(PLAIN)}/dev && exec chroot ${q(PLAIN)} /bin/sh -c ${q(twice(w))}`],
    'kernel view (weld run)': (w) => weld('run', '--variant', VARIANT, '--', '/bin/sh', '-c', twice(w)),
    // where the kernel view's cold pass goes: a fresh overlayfs over the plain directory itself (warm ext4 dcache, no EROFS, no xattrs)
    'overlayfs alone over the plain dir (reference)': (w) => [
      'unshare', '-m', 'sh', '-c',
      `mount --make-rprivate / && mount -t tmpfs tmpfs ${q(OVL_SCRATCH)} && mkdir ${q(OVL_SCRATCH)}/empty ${q(OVL_SCRATCH)}/r && ` +
        `mount -t overlay overlay -o ro,lowerdir=${q(PLAIN)}::${q(OVL_SCRATCH)}/empty ${q(OVL_SCRATCH)}/r && mount --bind /dev ${q(OVL_SCRATCH)}/r/dev && ` +
        `exec chroot ${q(OVL_SCRATCH)}/r /bin/sh -c ${q(twice(w))}`,
    ],
    'FUSE view (weld run --fuse)': (w) => weld('run', '--fuse', '--variant', VARIANT, '--', '/bin/sh', '-c', twice(w)),
  };
  fs.mkdirSync(OVL_SCRATCH, { recursive: true });
  const reps = Math.max(5, Math.ceil(runs / 3));
  const wrows = [];
  for (const [label, cmd] of Object.entries(work)) {
    const res = Object.fromEntries(Object.keys(kinds).map((k) => [k, { cold: [], warm: [] }]));
    for (let i = 0; i < reps + 1; i++)
      for (const [k, mk] of Object.entries(kinds)) {
        const out = sh(mk(cmd)[0], mk(cmd).slice(1), { env }).stdout.trim().split('\n').map((x) => Number(x) / 1000);
        if (i > 0) res[k].cold.push(out[0]), res[k].warm.push(out[1]);
      }
    const baseKey = 'plain dir (chroot, /dev bound)';
    const base = res[baseKey];
    // ratios paired by round (the same minute's load on both sides), then their median
    const pairedRatio = (xs, bs) => median(xs.map((x, i) => x / bs[i]));
    for (const [k, r] of Object.entries(res)) {
      const goal = k.startsWith('kernel') ? 1.5 : k.startsWith('FUSE') ? 5 : null;
      const verdict = (xs, bs) => {
        if (k === baseKey) return '—';
        const x = pairedRatio(xs, bs);
        return `${x.toFixed(2)}×${goal && x > goal ? ` (goal ≤ ${goal}×: not met)` : ''}`;
      };
      wrows.push([label, k, ms(median(r.cold)), verdict(r.cold, base.cold), ms(median(r.warm)), verdict(r.warm, base.warm)]);
    }
  }
  say(`\nInside the view vs the plain directory (same tree), ${reps} interleaved rounds (one untimed warm-up); times are medians, "vs plain" the median of the ratios paired by round; timed inside with date +%s%N:\n`);
  say(table(['workload', 'where', 'cold pass', 'vs plain', 'second pass (steady)', 'vs plain'], wrows));
  say(`\nWorkload commands: \`weld run [--fuse] --variant bench/variants/minbase.toml -- /bin/sh -c 'for i in 1 2; do …; done'\` and \`unshare -m sh -c 'mount --bind /dev bench/.cache/views-root/dev && chroot bench/.cache/views-root /bin/sh -c …'\`; the plain dir is \`weld link --variant bench/variants/minbase.toml --format dir -o bench/.cache/views-root\`; the overlayfs reference is \`unshare -m sh -c 'mount -t overlay overlay -o ro,lowerdir=bench/.cache/views-root::EMPTY R && mount --bind /dev R/dev && chroot R /bin/sh -c …'\` (EMPTY, R on a tmpfs).`);
  say(`\nMachine: ${machineLine(m)}.`);
  fs.writeFileSync(path.join(CACHE, 'views-results.md'), lines.join('\n') + '\n');
  log(`wrote ${rel(path.join(CACHE, 'views-results.md'))}`);
  return 0;
}
