// `npm run bench -- views [--runs N]`: per-process views (weld run) against a
// materialized tree. Fetches Debian bookworm minbase into bench/.cache/deb,
// imports it into bench/.cache/views-store, caches views in bench/.cache/views-cache.
// Needs root (mount namespaces) and a kernel with file-backed EROFS (6.12+).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, 'bench/.cache');
const WELD = path.join(ROOT, 'dist/cli/main.js');
const VARIANT = path.join(ROOT, 'bench/variants/minbase.toml');
const env = { ...process.env, WELD_STORE: path.join(CACHE, 'views-store'), WELD_CACHE: path.join(CACHE, 'views-cache') };

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { env, maxBuffer: 1 << 30, encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(2)} ms`;
function timeIt(n, f) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    f();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

export async function main(argv) {
  const runs = Number(argv[argv.indexOf('--runs') + 1]) || 30;
  if (process.geteuid() !== 0) {
    process.stderr.write('bench views: needs root\n');
    return 2;
  }
  const block = /^packages = \[([^\]]*)\]/m.exec(fs.readFileSync(VARIANT, 'utf8'))[1];
  const pkgs = [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1].trim());
  const debDir = path.join(CACHE, 'deb');
  sh('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), debDir, ...pkgs]);
  const marker = path.join(env.WELD_STORE, `.bench-imported-${pkgs.length}`);
  if (!fs.existsSync(marker)) {
    const inDir = path.join(CACHE, 'views-debs');
    fs.rmSync(inDir, { recursive: true, force: true });
    fs.mkdirSync(inDir, { recursive: true });
    for (const p of pkgs) {
      const f = fs.readdirSync(debDir).find((x) => x.startsWith(`${p}_`) && x.endsWith('.deb'));
      fs.symlinkSync(path.join(debDir, f), path.join(inDir, f));
    }
    sh(process.execPath, [WELD, 'import', inDir], { allowFail: true });
    fs.writeFileSync(marker, '');
  }
  const results = [];
  const say = (s) => (results.push(s), process.stdout.write(s + '\n'));
  say(`# weld run views — minbase (${pkgs.length} packages), ${runs} runs each, ${new Date().toISOString()}`);

  // first run: link + manifest + metadata image into the cache
  fs.rmSync(env.WELD_CACHE, { recursive: true, force: true });
  const cold = timeIt(1, () => sh(process.execPath, [WELD, 'run', '--variant', VARIANT, '--', '/bin/true']))[0];
  say(`cold weld run (resolve + link + manifest + metadata image + helper build): ${ms(cold)}`);

  // view construction inside weld run, from the cached manifest/image to a mounted root
  const view = [], helper = [], spawnLat = [];
  for (let i = 0; i < runs; i++) {
    const r = sh(process.execPath, [WELD, 'run', '--timing', '--variant', VARIANT, '--', '/bin/true']);
    const t = Object.fromEntries([...r.stderr.matchAll(/(\w+) ([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
    view.push(t.view), helper.push(t.helper), spawnLat.push(t.spawn);
  }
  say(`view construction (cache lookup + unshare + erofs + overlay + proc/sys/tmp/dev + pivot), weld run --timing: p50 ${ms(pct(view, 50))}, p90 ${ms(pct(view, 90))}; of which helper p50 ${ms(pct(helper, 50))}; helper spawn latency p50 ${ms(pct(spawnLat, 50))}`);

  const e2e = timeIt(runs, () => sh(process.execPath, [WELD, 'run', '--variant', VARIANT, '--', '/bin/true']));
  const node = timeIt(runs, () => sh(process.execPath, ['-e', '0']));
  say(`end to end: weld run --variant minbase -- /bin/true: p50 ${ms(pct(e2e, 50))} (node -e 0 alone: p50 ${ms(pct(node, 50))})`);
  say(`  vs rpm -i --root of the same set (~1400 ms, bench/RESULTS.md): ${(1400 / pct(e2e, 50)).toFixed(1)}x faster`);

  const dir = path.join(CACHE, 'views-root');
  if (!fs.existsSync(path.join(dir, 'usr/bin/true'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    sh(process.execPath, [WELD, 'link', '--variant', VARIANT, '--format', 'dir', '-o', dir], { allowFail: true });
  }
  const chroot = timeIt(runs, () => sh('chroot', [dir, '/bin/true']));
  say(`chroot ${path.relative(ROOT, dir)} /bin/true on a materialized tree: p50 ${ms(pct(chroot, 50))} (weld run is ${ms(pct(e2e, 50) - pct(chroot, 50))} slower, mostly Node start-up)`);

  // inside the view vs the plain directory, timed inside with date +%s%N (warm page cache)
  const work = {
    'ls -lR /usr /etc /var': 'ls -lR /usr /etc /var > /dev/null',
    'find /usr /etc /var -type f -exec cat {} + > /dev/null': 'find /usr /etc /var -type f -exec cat {} + > /dev/null',
  };
  const inner = (cmd) => `s=$(date +%s%N); ${cmd}; e=$(date +%s%N); echo $(( (e - s) / 1000 ))`;
  const reps = Math.max(5, Math.floor(runs / 3));
  for (const [label, cmd] of Object.entries(work)) {
    const measure = (argv) => {
      const xs = [];
      for (let i = 0; i < reps + 1; i++) xs.push(Number(sh(argv[0], [...argv.slice(1), '/bin/sh', '-c', inner(cmd)]).stdout.trim()) / 1000);
      return pct(xs.slice(1), 50);
    };
    const plain = measure(['chroot', dir]);
    const kernel = measure([process.execPath, WELD, 'run', '--variant', VARIANT, '--']);
    const fuse = measure([process.execPath, WELD, 'run', '--fuse', '--variant', VARIANT, '--']);
    say(`${label}: plain dir ${ms(plain)}, kernel view ${ms(kernel)} (${(kernel / plain).toFixed(2)}x), FUSE view ${ms(fuse)} (${(fuse / plain).toFixed(2)}x)`);
  }
  return 0;
}
