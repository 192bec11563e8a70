// Shared helpers for weld's benchmarks: fetching the data sets into bench/.cache,
// timing repeated runs, describing the machine and writing bench/RESULTS.md.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = path.join(ROOT, 'bench/.cache');
export const BUILD = path.join(ROOT, 'bench/.cache/build');
export const WELD = path.join(BUILD, 'dist/cli/main.js');
export const MIRROR = 'http://deb.debian.org/debian';

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

/** Runs a program; throws with the tail of stderr unless allowFail. */
export function sh(cmd, args = [], opts = {}) {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  }
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a bash script (the exact text the results quote); throws on failure. */
export function bash(script, opts = {}) {
  return sh('bash', ['-c', `set -euo pipefail\n${script}`], opts);
}

/** Quotes a word for the shell when it needs it. */
export function q(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${String(word).replace(/'/g, `'\\''`)}'`;
}

/** Makes a path relative to the checkout so quoted commands are reproducible from there. */
export function rel(p) {
  const r = path.relative(ROOT, p);
  return r.startsWith('..') ? p : r;
}

export function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/**
 * Times `run` `runs` times (after `warmup` untimed runs); `setup` runs untimed before each.
 * Returns wall times in seconds with median and min.
 */
export function measure(name, { run, setup, runs = 5, warmup = 1 }) {
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    if (setup) setup(i);
    const t0 = process.hrtime.bigint();
    run(i);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i >= warmup) times.push(s);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const r = { name, times, median, min: sorted[0], max: sorted[sorted.length - 1] };
  log(`${name}: median ${fmtS(r.median)} min ${fmtS(r.min)} (${runs} runs)`);
  return r;
}

/** Interleaves several measurements round by round, so slow drift in machine load hits all alike. */
export function measureInterleaved(cases, { runs = 5, warmup = 1 } = {}) {
  const times = cases.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    cases.forEach((c, k) => {
      if (c.setup) c.setup(i);
      const t0 = process.hrtime.bigint();
      c.run(i);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (i >= warmup) times[k].push(s);
    });
  }
  return cases.map((c, k) => {
    const sorted = [...times[k]].sort((a, b) => a - b);
    const n = sorted.length;
    const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    const r = { name: c.name, command: c.command, times: times[k], median, min: sorted[0], max: sorted[n - 1] };
    log(`${c.name}: median ${fmtS(r.median)} min ${fmtS(r.min)} (${runs} runs)`);
    return r;
  });
}

export function fmtS(s) {
  return s < 0.1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(3)} s`;
}

export function fmtX(x) {
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

export function loadavg() {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}

export function machine() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  return {
    nproc: Number(sh('nproc').stdout.trim()),
    cpu,
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load: loadavg(),
    revision: revision(),
  };
}

export function machineLine(m, loadAfter) {
  return `${m.nproc} CPUs (${m.cpu}), ${m.ramGiB} GiB RAM, ${m.kernel}, node ${m.node}; ${m.date}; weld at ${m.revision}; load average (1/5/15 min) ${m.load} before, ${loadAfter ?? loadavg()} after`;
}

/**
 * Builds weld into a private snapshot (bench/.cache/build/dist), so another engineer's
 * `npm run build` cannot swap files under a running benchmark. variants/ and src/ are linked
 * beside it because dist code finds them at ../../variants and ../../src.
 */
export function ensureBuilt() {
  const out = path.join(BUILD, 'dist');
  log(`tsc → ${rel(out)}`);
  rmrf(out);
  fs.mkdirSync(BUILD, { recursive: true });
  for (const d of ['variants', 'src']) {
    const link = path.join(BUILD, d);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, d), link);
  }
  const r = sh(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--outDir', out, '--sourceMap', 'false'], { cwd: ROOT, allowFail: true });
  if (!fs.existsSync(WELD)) throw new Error(`tsc emitted no ${rel(WELD)}: ${r.stdout.split('\n').slice(0, 5).join('\n')}`);
  // tsc still emits when someone's in-progress file has type errors; say so, the results name the tree
  if (r.status !== 0) log(`tsc reported errors (emitted anyway): ${r.stdout.split('\n').slice(0, 3).join(' | ')}`);
}

/** The commit the benchmark ran on, and whether the working tree differed from it. */
export function revision() {
  const head = sh('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).stdout.trim();
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd: ROOT }).stdout.trim();
  return dirty ? `${head} + uncommitted changes in src/ (${dirty.split('\n').length} files, other engineers' work in progress)` : head;
}

export function ensureTools() {
  sh('bash', [path.join(ROOT, 'scripts/setup-bench.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** The names debootstrap installs for bookworm minbase; asking the mirror takes ~30 s, so cached. */
export function minbaseNames() {
  const file = path.join(CACHE, 'minbase.list');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-bench-dbs-'));
    try {
      log('debootstrap --print-debs (about 30 s)');
      const r = sh('debootstrap', ['--variant=minbase', '--print-debs', 'bookworm', tmp, MIRROR]);
      const names = r.stdout.split(/\s+/).filter(Boolean).sort();
      if (names.length < 50) throw new Error(`debootstrap --print-debs listed only ${names.length} packages`);
      fs.writeFileSync(file, names.join('\n') + '\n');
    } finally {
      rmrf(tmp);
    }
  }
  return fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
}

/** Downloads the minbase .debs into bench/.cache/debs (idempotent); returns their paths, sorted. */
export function minbaseDebs() {
  const names = minbaseNames();
  const dir = path.join(CACHE, 'debs');
  sh('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), dir, ...names], { stdio: ['ignore', 'inherit', 'inherit'] });
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.deb')).sort();
  const byName = new Map(files.map((f) => [f.split('_')[0], f]));
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length) throw new Error(`minbase debs missing after download: ${missing.join(' ')}`);
  return names.map((n) => path.join(dir, byName.get(n)));
}

/**
 * Converts each minbase .deb with `alien --to-rpm --scripts` into bench/.cache/rpms (cached;
 * two at a time). Returns {rpms, failed}: alien cannot convert every package.
 */
export async function minbaseRpms(debs) {
  const dir = path.join(CACHE, 'rpms');
  const work = path.join(CACHE, 'alien-work');
  fs.mkdirSync(dir, { recursive: true });
  const failedFile = path.join(dir, 'FAILED');
  const failedBefore = fs.existsSync(failedFile) ? JSON.parse(fs.readFileSync(failedFile, 'utf8')) : {};
  const done = (deb) => fs.existsSync(path.join(dir, path.basename(deb) + '.rpmname'));
  const todo = debs.filter((d) => !done(d) && !failedBefore[path.basename(d)]);
  const failed = { ...failedBefore };
  if (todo.length) log(`alien --to-rpm --scripts: converting ${todo.length} packages (about 2 s each)`);
  const convert = (deb) =>
    new Promise((resolve) => {
      const wd = path.join(work, path.basename(deb));
      rmrf(wd);
      fs.mkdirSync(wd, { recursive: true });
      const p = spawn('alien', ['--to-rpm', '--scripts', deb], { cwd: wd, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stdout.resume();
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => {
        const out = fs.readdirSync(wd).filter((f) => f.endsWith('.rpm'));
        if (code === 0 && out.length === 1) {
          fs.renameSync(path.join(wd, out[0]), path.join(dir, out[0]));
          fs.writeFileSync(path.join(dir, path.basename(deb) + '.rpmname'), out[0]);
        } else {
          failed[path.basename(deb)] = `alien exited ${code}: ${err.trim().split('\n').slice(-2).join(' ')}`;
        }
        rmrf(wd);
        resolve();
      });
    });
  const queue = [...todo];
  await Promise.all(
    [0, 1].map(async () => {
      while (queue.length) await convert(queue.shift());
    }),
  );
  rmrf(work);
  fs.writeFileSync(failedFile, JSON.stringify(failed, null, 1));
  const rpms = debs.filter(done).map((d) => path.join(dir, fs.readFileSync(path.join(dir, path.basename(d) + '.rpmname'), 'utf8')));
  return { rpms, failed };
}

/** Sum of regular-file sizes a .deb installs, from `dpkg-deb -c` (the oracle's own listing). */
export function debPayloadBytes(deb) {
  let sum = 0;
  for (const line of sh('dpkg-deb', ['-c', deb]).stdout.split('\n')) {
    // -rw-r--r-- root/root     12345 2023-01-01 00:00 ./usr/bin/x
    const m = /^-\S+\s+\S+\s+(\d+)\s/.exec(line);
    if (m) sum += Number(m[1]);
  }
  return sum;
}

/** Sum of regular-file sizes in an rpm, from rpm's own header (ghosts excluded: not in the payload). */
export function rpmPayloadBytes(rpm) {
  const out = sh('rpm', ['-qp', '--qf', '[%{FILEMODES:perms} %{FILESIZES} %{FILEFLAGS:fflags}\\n]', rpm]).stdout;
  let sum = 0;
  for (const line of out.split('\n')) {
    const [perms, size, flags] = line.split(' ');
    if (perms?.startsWith('-') && !(flags ?? '').includes('g')) sum += Number(size);
  }
  return sum;
}

export function fileBytes(files) {
  return files.reduce((s, f) => s + fs.statSync(f).size, 0);
}

/**
 * Replaces this bench's section of bench/RESULTS.md (between <!-- bench:NAME --> markers),
 * keeping the other benches' sections.
 */
export function writeResults(name, markdown) {
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# weld benchmark results\n\nEach section is rewritten by `npm run bench -- NAME`; numbers are wall-clock times.\n';
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text);
  log(`wrote ${rel(file)} (section ${name})`);
}

/** A markdown table from a header row and rows. */
export function table(header, rows) {
  // a | inside a cell (a shell pipe) would split it
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Parses `--runs N` style options shared by the benches. */
export function benchArgs(argv) {
  const opts = { runs: 5, keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') opts.runs = Number(argv[++i]);
    else if (argv[i] === '--keep') opts.keep = true;
    else throw new Error(`unknown option ${argv[i]} (known: --runs N, --keep)`);
  }
  if (!(Number.isInteger(opts.runs) && opts.runs > 0)) throw new Error('--runs needs a positive integer');
  return opts;
}

/**
 * Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), merged by function and
 * location; `(program)`/`(idle)`/`(garbage collector)` are V8's own buckets.
 */
export function profileSummary(file, n = 15) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const self = new Map();
  const dt = new Map();
  // timeDeltas[i] is the time before sample i; charge it to that sample's node
  p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let total = 0;
  for (const node of p.nodes) {
    const us = dt.get(node.id) ?? 0;
    total += us;
    const cf = node.callFrame;
    const url = cf.url.startsWith('file:') ? rel(fileURLToPath(cf.url)) : cf.url;
    const where = url ? `${url}:${cf.lineNumber + 1}` : '(native)';
    const key = `${cf.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + us);
  }
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => {
      const [fn, where] = k.split('\t');
      return { fn, where, selfS: us / 1e6, share: us / Math.max(total, 1) };
    });
  return { totalS: total / 1e6, top };
}
