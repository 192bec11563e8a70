// `npm run bench -- link [--runs N]` (issue 3 §9): weld link of a warm store to a sealed DDI image,
// against (a) rpm -i --root → mkfs.erofs → veritysetup format of the alien-converted set,
// (b) debootstrap --variant=minbase from a local mirror of the same .debs, (c) cat writing the same
// bytes, and (d) the in-process time of `weld link --format manifest --timing`.
import fs from 'node:fs';
import path from 'node:path';
import {
  CACHE, ROOT, WELD, bash, ensureBuilt, ensureTools, fmtS, fmtX, log, loadavg, machine, machineLine, measure,
  measureInterleaved, minbaseDebs, minbaseRpms, q, rel, rmrf, sh, table, writeResults,
} from './lib.mjs';

const MINBASE = path.join(ROOT, 'bench/variants/minbase.toml');
const EXTRA = path.join(CACHE, 'extra-debs');
/** packages weld failed to import while the store was built: file → reason */
const importFailures = new Map();

export async function main(argv) {
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
  const slowRuns = Math.min(runs, 3);
  ensureTools();
  ensureBuilt();
  const debs = minbaseDebs();
  const { rpms } = await minbaseRpms(debs);
  const debDir = path.dirname(debs[0]);
  const rpmDir = path.dirname(rpms[0]);
  const work = path.join(CACHE, 'work-link');
  rmrf(work);
  fs.mkdirSync(work, { recursive: true });
  // Built afresh each run: a store cached across runs breaks when the catalog schema changes.
  const store = path.join(work, 'store');

  // The warm store: minbase, busybox-static for the minimal variant, and whatever of k8s's closure resolves.
  sh('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), EXTRA, 'busybox-static'], { stdio: ['ignore', 'inherit', 'inherit'] });
  importInto(store, [debDir, EXTRA]);
  const k8s = k8sClosure(store);
  const mirror = localMirror([debDir]);
  const m = machine();

  const weld = (args) => `node ${rel(WELD)} ${args}`;
  const imgMinbase = path.join(work, 'minbase.img');
  const imgMinimal = path.join(work, 'minimal.img');
  const imgK8s = path.join(work, 'k8s.img');
  const linkMinbase = weld(`link --store ${rel(store)} --variant ${rel(MINBASE)} -o ${rel(imgMinbase)} --report ${rel(imgMinbase)}.json --timing`);
  let ddiPhases = '';
  const linkMinimal = weld(`link --store ${rel(store)} --variant minimal -o ${rel(imgMinimal)} --report ${rel(imgMinimal)}.json`);
  const linkK8s = weld(`link --store ${rel(store)} --variant k8s -o ${rel(imgK8s)} --report ${rel(imgK8s)}.json`);
  const quiet = (cmd) => `${cmd} 2>/dev/null`;

  // (a) the rpm pipeline, its three stages timed one by one
  const rpmRoot = path.join(work, 'rpm-root');
  const rpmImg = path.join(work, 'rpm.img');
  const stages = {
    'rpm -i': `rpm -i --root ${q(rpmRoot)} --nodeps --noscripts ${rel(rpmDir)}/*.rpm`,
    'mkfs.erofs': `mkfs.erofs ${rel(rpmImg)} ${rel(rpmRoot)}`,
    'veritysetup format': `veritysetup format ${rel(rpmImg)} ${rel(rpmImg)}.hash`,
  };
  const stageTimes = Object.fromEntries(Object.keys(stages).map((k) => [k, []]));
  const rpmPipeline = (i) => {
    for (const [k, cmd] of Object.entries(stages)) {
      const t0 = process.hrtime.bigint();
      bash(`${cmd} >/dev/null 2>&1`, { cwd: ROOT });
      if (i >= 1) stageTimes[k].push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  };
  const copy = path.join(work, 'copy.img');
  // every case starts with no dirty pages from the one before
  const fresh = (...dirs) => {
    for (const d of dirs) rmrf(d);
    sh('sync');
  };
  const cases = [
    { name: 'weld link minbase → DDI', command: linkMinbase, setup: () => fresh(imgMinbase), run: () => (ddiPhases = /timing \(ms\): (.*)/.exec(bash(linkMinbase, { cwd: ROOT }).stderr)?.[1] ?? '') },
    { name: 'weld link minimal → DDI', command: linkMinimal, setup: () => fresh(imgMinimal), run: () => bash(quiet(linkMinimal), { cwd: ROOT }) },
    { name: 'rpm -i → mkfs.erofs → veritysetup', command: `rm -rf ${rel(rpmRoot)}; ${Object.values(stages).join(' && ')}`, setup: () => fresh(rpmRoot, rpmImg), run: rpmPipeline },
    { name: 'cat minbase.img > copy', command: `cat ${rel(imgMinbase)} > ${rel(copy)}`, setup: () => fresh(copy), run: () => bash(`cat ${rel(imgMinbase)} > ${rel(copy)}`, { cwd: ROOT }) },
    { name: 'cat minbase.img > copy; sync copy', command: `cat ${rel(imgMinbase)} > ${rel(copy)}; sync ${rel(copy)}`, setup: () => fresh(copy), run: () => bash(`cat ${rel(imgMinbase)} > ${rel(copy)}; sync ${rel(copy)}`, { cwd: ROOT }) },
  ];
  if (k8s.ok) cases.push({ name: 'weld link k8s → DDI', command: linkK8s, setup: () => fresh(imgK8s), run: () => bash(quiet(linkK8s), { cwd: ROOT }) });
  // the image cat copies must exist before round one
  bash(quiet(linkMinbase), { cwd: ROOT });
  log(`${runs} interleaved rounds of ${cases.length} cases; load ${loadavg()}`);
  const r = measureInterleaved(cases, { runs });
  const [wMinbase, wMinimal, rpmPipe, cat, catSync] = r;
  const wK8s = k8s.ok ? r[5] : null;

  // (b) debootstrap from the local mirror: ~15-60 s a run, so fewer rounds
  const dbsRoot = path.join(work, 'debootstrap-root');
  const dbsCmd = `debootstrap --variant=minbase --no-check-gpg bookworm ${rel(dbsRoot)} file://${mirror}`;
  const dbs = measure('debootstrap --variant=minbase (local mirror)', {
    runs: slowRuns,
    warmup: 0,
    setup: () => fresh(dbsRoot),
    run: () => bash(`${dbsCmd} >/dev/null 2>&1`, { cwd: ROOT }),
  });
  dbs.command = `rm -rf ${rel(dbsRoot)}; ${dbsCmd}`;
  rmrf(dbsRoot);

  // (d) the in-process link time next to the whole command and node's own start-up
  const manifestOut = path.join(work, 'minbase.manifest.json');
  const manifestCmd = weld(`link --store ${rel(store)} --variant ${rel(MINBASE)} --format manifest --timing -o ${rel(manifestOut)}`);
  const inProcess = [];
  let phases = '';
  const [manifest, nodeStart] = measureInterleaved(
    [
      {
        name: 'weld link --format manifest (whole command)',
        command: manifestCmd,
        run: (i) => {
          const err = bash(manifestCmd, { cwd: ROOT }).stderr;
          const t = /total ([\d.]+)/.exec(err);
          if (!t) throw new Error('weld link --timing printed no total');
          phases = /timing \(ms\): (.*)/.exec(err)?.[1] ?? '';
          if (i >= 1) inProcess.push(Number(t[1]) / 1000);
        },
      },
      { name: 'node -e 0', command: 'node -e 0', run: () => sh('node', ['-e', '0']) },
    ],
    { runs },
  );
  const inSorted = [...inProcess].sort((a, b) => a - b);
  const inMedian = inSorted[Math.floor((inSorted.length - 1) / 2)];
  const loadAfter = loadavg();

  // The images must be good, or the times mean nothing.
  const check = sh('node', [WELD, 'verify', imgMinbase, '--report', `${imgMinbase}.json`], { cwd: ROOT, allowFail: true });
  const report = JSON.parse(fs.readFileSync(`${imgMinbase}.json`, 'utf8'));
  const imgSize = fs.statSync(imgMinbase).size;
  const extra = fs.readdirSync(EXTRA).filter((f) => f.endsWith('.deb')).length;
  if (k8s.ok) {
    const k = JSON.parse(fs.readFileSync(`${imgK8s}.json`, 'utf8'));
    const v = sh('node', [WELD, 'verify', imgK8s, '--report', `${imgK8s}.json`], { cwd: ROOT, allowFail: true }).status;
    k8s.note = `links: ${k.packages.length} packages, ${k.files} files, ${(fs.statSync(imgK8s).size / 1e6).toFixed(1)} MB DDI, \`weld verify\` exit ${v}. No baseline tool builds this image here, so its time has no ratio.`;
  }
  const rpmImgSize = fs.statSync(rpmImg).size + fs.statSync(`${rpmImg}.hash`).size;

  const med = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const faster = (base, w, goal) => {
    const x = base.median / w.median;
    return [fmtX(x), x >= goal ? `met (goal ≥ ${goal}×)` : `**not met** (goal ≥ ${goal}×)`];
  };
  const [xRpm, gRpm] = faster(rpmPipe, wMinbase, 10);
  const [xDbs, gDbs] = faster(dbs, wMinbase, 50);
  const catRatio = wMinbase.median / cat.median;
  const catSyncRatio = wMinbase.median / catSync.median;
  const row = (c, ratio = '—', goal = '') => [c.name, fmtS(c.median), fmtS(c.min), String(c.times.length), ratio, goal, `\`${c.command}\``];
  const md = `## link (issue 3 §9)

Warm store (${rel(store)}) holding Debian bookworm minbase (${debs.length} .debs) + ${extra} more .debs in bench/.cache/extra-debs (busybox-static${k8s.ok ? ' and the rest of the k8s closure' : ' and what of the k8s closure was found'}).
weld's minbase image: ${report.files} files, ${(imgSize / 1e6).toFixed(1)} MB DDI (EROFS + dm-verity), \`weld verify\` exit ${check.status}${check.status === 0 ? ' (good)' : ' (**bad image**)'}.
The rpm pipeline's image: ${(rpmImgSize / 1e6).toFixed(1)} MB (EROFS + separate hash file) from ${rpms.length} alien-converted rpms.
Wall time, median and min of the runs (one untimed warm-up for the interleaved cases; debootstrap has none); ratio = baseline time / weld minbase time.

${table(['case', 'median', 'min', 'runs', 'weld minbase is', 'goal', 'command (from the checkout)'], [
  row(wMinbase),
  row(wMinimal),
  ...(wK8s ? [row(wK8s)] : []),
  row(rpmPipe, `${xRpm} faster`, gRpm),
  ...Object.entries(stageTimes).map(([k, xs]) => [`  stage: ${k}`, fmtS(med(xs)), fmtS(Math.min(...xs)), String(xs.length), '', '', `\`${stages[k]}\``]),
  row(dbs, `${xDbs} faster`, gDbs),
  row(cat, `${fmtX(catRatio)} cat's time`, catRatio <= 2 ? 'met (goal ≤ 2×)' : '**not met** (goal ≤ 2×)'),
  row(catSync, `${fmtX(catSyncRatio)} its time`, 'for reference: the copy made durable'),
])}

Phases of \`weld link minbase → DDI\` (its \`--timing\`, last run, ms): ${ddiPhases}.

In-process time of \`weld link --format manifest\` for minbase (its own \`--timing\` total): median ${fmtS(inMedian)}, min ${fmtS(inSorted[0])} — goal ≤ 50 ms: ${inMedian <= 0.05 ? 'met' : '**not met**'}.
Phases of the last run (ms): ${phases}.

${table(['case', 'median', 'min', 'runs', 'command'], [
  ['in-process (--timing total)', fmtS(inMedian), fmtS(inSorted[0]), String(inSorted.length), `\`${manifestCmd}\``],
  [manifest.name, fmtS(manifest.median), fmtS(manifest.min), String(manifest.times.length), `\`${manifest.command}\``],
  [nodeStart.name, fmtS(nodeStart.median), fmtS(nodeStart.min), String(nodeStart.times.length), '`node -e 0`'],
])}

k8s: ${k8s.note}
${importFailures.size ? `\nweld import failed on ${importFailures.size} packages while the store was built: ${[...importFailures].map(([f, r]) => `${f} (${r})`).join('; ')}\n` : ''}
Machine: ${machineLine(m, loadAfter)}.
Other engineers' tests may share this machine; the load average above says how busy it was.
Each case starts after an untimed \`sync\` and after removing its previous output. No case syncs its output (weld only with \`--sync\`), as rpm, mkfs.erofs, veritysetup and debootstrap do not; weld's file data is copied by its copy_file_range helper while the image is sealed.

Reproduce: \`npm run bench -- link --runs ${runs}\` (data cached in bench/.cache; the debootstrap mirror is bench/.cache/mirror, made with apt-ftparchive).
`;
  writeResults('link', md);
  process.stdout.write(md);
  return check.status === 0 ? 0 : 1;
}

/** weld import of dirs into store; exit 1 (some package failed) is logged, not fatal. */
function importInto(store, dirs) {
  const r = sh('node', [WELD, 'import', '--json', '--store', store, ...dirs.filter((d) => fs.existsSync(d))], { cwd: ROOT, allowFail: true });
  if (r.status !== 0 && r.status !== 1) throw new Error(`weld import exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  const s = JSON.parse(r.stdout);
  const bad = s.packages.filter((p) => p.status === 'failed');
  if (bad.length) log(`weld import: ${bad.length} failed: ${bad.map((p) => `${path.basename(p.file)} (${p.reason})`).join('; ')}`);
  for (const p of bad) importFailures.set(path.basename(p.file), String(p.reason).split('\n')[0].slice(0, 200));
  return s;
}

/**
 * Fetches k8s's closure by following `weld link --format manifest`'s list of missing
 * requirements, a bounded number of rounds. Returns whether k8s links and why not.
 */
function k8sClosure(store) {
  const tries = new Map();
  const known = { has: (n) => (tries.get(n) ?? 0) >= 2, add: (n) => tries.set(n, (tries.get(n) ?? 0) + 1) };
  let fetched = 0;
  for (let round = 0; round < 15; round++) {
    const r = sh('node', [WELD, 'link', '--store', store, '--variant', 'k8s', '--format', 'manifest', '-o', path.join(CACHE, 'k8s.manifest.json')], { cwd: ROOT, allowFail: true });
    if (r.status === 0) return { ok: true, fetched, note: 'links' };
    const msg = r.stderr.trim().split('\n').find((l) => l.startsWith('weld:')) ?? r.stderr.trim();
    if (!/Cannot resolve \d+ requirement/.test(msg)) return { ok: false, fetched, note: `does not link yet: \`${msg.slice(0, 400)}\`` };
    const wanted = new Set();
    const list = msg.slice(msg.indexOf(': ', msg.indexOf('requirement')));
    for (const [, req] of list.matchAll(/(?:: |, )([^,]+?) \(needed by [^)]*\)/g)) {
      for (const alt of req.split('|')) {
        const name = alt.trim().split(/[\s(:]/)[0];
        if (name && !known.has(name)) {
          wanted.add(name);
          break;
        }
      }
    }
    if (!wanted.size) return { ok: false, fetched, note: `does not link: requirements stay unresolved after fetching them: \`${msg.slice(0, 400)}\`` };
    log(`k8s round ${round + 1}: fetching ${wanted.size} packages`);
    for (const name of wanted) {
      known.add(name);
      const got = fetchDeb(name) || providers(name).some((p) => !known.has(p) && (known.add(p), fetchDeb(p)));
      if (got) fetched++;
      else log(`k8s: no package or provider for ${name}`);
    }
    importInto(store, [EXTRA]);
  }
  return { ok: false, fetched, note: 'does not link: the closure did not close within 15 rounds.' };
}

function fetchDeb(name) {
  return sh('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), EXTRA, name], { allowFail: true }).status === 0;
}

/** Real packages that Provide a virtual name, from apt's cache. */
function providers(name) {
  const out = sh('apt-cache', ['showpkg', name], { allowFail: true }).stdout;
  const i = out.indexOf('Reverse Provides:');
  if (i < 0) return [];
  return [...new Set(out.slice(i).split('\n').slice(1).map((l) => l.trim().split(' ')[0]).filter(Boolean))];
}

/** A file:// apt repository of the given .debs that debootstrap can install from offline. */
function localMirror(dirs) {
  const mirror = path.join(CACHE, 'mirror');
  const pool = path.join(mirror, 'pool/main');
  const release = path.join(mirror, 'dists/bookworm/Release');
  const debs = dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.deb')).map((f) => path.join(d, f)));
  const have = fs.existsSync(pool) ? fs.readdirSync(pool).sort().join('\n') : '';
  if (fs.existsSync(release) && have === debs.map((f) => path.basename(f)).sort().join('\n')) return mirror;
  rmrf(mirror);
  fs.mkdirSync(pool, { recursive: true });
  for (const f of debs) fs.linkSync(f, path.join(pool, path.basename(f)));
  const bin = path.join(mirror, 'dists/bookworm/main/binary-amd64');
  fs.mkdirSync(bin, { recursive: true });
  bash(
    `cd ${q(mirror)}
apt-ftparchive packages pool > dists/bookworm/main/binary-amd64/Packages
gzip -kn dists/bookworm/main/binary-amd64/Packages
apt-ftparchive ${['Suite=bookworm', 'Codename=bookworm', 'Components=main', 'Architectures=amd64'].map((o) => `-o APT::FTPArchive::Release::${o}`).join(' ')} release dists/bookworm > Release.tmp
mv Release.tmp dists/bookworm/Release`,
  );
  return mirror;
}
