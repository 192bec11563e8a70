// `npm run bench -- import [--runs N] [--profile]` (issue 2 §9): weld import of Debian bookworm's
// minbase set, as .debs and as alien-converted rpms, against unpacking the same packages one by
// one with `dpkg -x` and `rpm2cpio | cpio -idm`, in the same run and interleaved.
import fs from 'node:fs';
import path from 'node:path';
import {
  CACHE, ROOT, WELD, bash, ensureBuilt, ensureTools, fmtS, fmtX, log, loadavg, machine, machineLine,
  measureInterleaved, minbaseDebs, minbaseRpms, debPayloadBytes, rpmPayloadBytes, fileBytes, q, rel, rmrf, sh, table, writeResults, profileSummary,
} from './lib.mjs';

export async function main(argv) {
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
  const profile = argv.includes('--profile');
  ensureTools();
  ensureBuilt();
  const debs = minbaseDebs();
  const { rpms, failed } = await minbaseRpms(debs);
  const debDir = path.dirname(debs[0]);
  const rpmDir = path.dirname(rpms[0]);
  const work = path.join(CACHE, 'work-import');
  rmrf(work);
  fs.mkdirSync(work, { recursive: true });

  const debPayload = debs.reduce((s, f) => s + debPayloadBytes(f), 0);
  const rpmPayload = rpms.reduce((s, f) => s + rpmPayloadBytes(f), 0);
  const m = machine();

  // Warm stores for the "already imported" runs.
  const warmDeb = path.join(work, 'store-warm-deb');
  const warmRpm = path.join(work, 'store-warm-rpm');
  const weldImport = (store, dir) => `node ${rel(WELD)} import --store ${q(rel(store))} ${q(rel(dir))}`;
  const weldJson = (store, dir) => JSON.parse(sh('node', [WELD, 'import', '--json', '--store', store, dir], { cwd: ROOT, allowFail: true }).stdout);
  const firstDeb = weldJson(warmDeb, debDir);
  const firstRpm = weldJson(warmRpm, rpmDir);
  for (const [what, s] of [['deb', firstDeb], ['rpm', firstRpm]]) {
    const bad = s.packages.filter((p) => p.status === 'failed');
    if (bad.length) log(`weld import of the ${what} set: ${bad.length} failed: ${bad.map((p) => `${path.basename(p.file)} (${p.reason})`).join('; ')}`);
  }

  const coldDeb = path.join(work, 'store-cold-deb');
  const coldRpm = path.join(work, 'store-cold-rpm');
  const out = path.join(work, 'unpacked');
  const dpkgLoop = `for f in ${q(rel(debDir))}/*.deb; do d=${q(rel(out))}/$(basename "$f" .deb); mkdir -p "$d"; dpkg -x "$f" "$d"; done`;
  const cpioLoop = `for f in ${q(rel(rpmDir))}/*.rpm; do d=${q(rel(out))}/$(basename "$f" .rpm); mkdir -p "$d"; (cd "$d" && rpm2cpio "$OLDPWD/$f" | cpio -idm --quiet); done`;
  // weld's exit status is 1 when any package fails; the failure list is logged above, so runs tolerate it.
  const tolerant = (cmd) => `${cmd} 2>/dev/null || [ $? -eq 1 ]`;
  // weld syncs the store's filesystem once per batch (sync -f), so every case starts with no dirty
  // pages left by the previous one; otherwise weld would pay for flushing the unpackers' output.
  const fresh = (dir) => {
    if (dir) rmrf(dir);
    sh('sync');
  };
  const cases = [
    { name: 'weld import (debs, empty store)', command: `rm -rf ${rel(coldDeb)}; ${weldImport(coldDeb, debDir)}`, setup: () => fresh(coldDeb), run: () => bash(tolerant(weldImport(coldDeb, debDir)), { cwd: ROOT }) },
    { name: 'dpkg -x, one by one', command: `rm -rf ${rel(out)}; ${dpkgLoop}`, setup: () => fresh(out), run: () => bash(dpkgLoop, { cwd: ROOT }) },
    { name: 'weld import (debs, already imported)', command: weldImport(warmDeb, debDir), setup: () => fresh(), run: () => bash(tolerant(weldImport(warmDeb, debDir)), { cwd: ROOT }) },
    { name: 'weld import (rpms, empty store)', command: `rm -rf ${rel(coldRpm)}; ${weldImport(coldRpm, rpmDir)}`, setup: () => fresh(coldRpm), run: () => bash(tolerant(weldImport(coldRpm, rpmDir)), { cwd: ROOT }) },
    { name: 'rpm2cpio | cpio -idm, one by one', command: `rm -rf ${rel(out)}; ${cpioLoop}`, setup: () => fresh(out), run: () => bash(cpioLoop, { cwd: ROOT }) },
    { name: 'weld import (rpms, already imported)', command: weldImport(warmRpm, rpmDir), setup: () => fresh(), run: () => bash(tolerant(weldImport(warmRpm, rpmDir)), { cwd: ROOT }) },
  ];
  log(`${runs} interleaved rounds of ${cases.length} cases; load ${loadavg()}`);
  const r = measureInterleaved(cases, { runs });
  const loadAfter = loadavg();
  const [wDeb, dpkg, wDebWarm, wRpm, cpio, wRpmWarm] = r;

  let prof = '';
  if (profile) {
    const dir = path.join(work, 'profile');
    fresh(dir);
    fresh(coldDeb);
    const cmd = `node --cpu-prof --cpu-prof-dir=${rel(dir)} ${rel(WELD)} import --jobs 1 --store ${rel(coldDeb)} ${rel(debDir)}`;
    log(cmd);
    bash(tolerant(cmd), { cwd: ROOT });
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile')));
    const p = profileSummary(file, 15);
    prof = `\n**Profile** (\`${cmd}\`, ${fmtS(p.totalS)} sampled; self time):\n\n` +
      table(['self', 'share', 'function', 'where'], p.top.map((t) => [fmtS(t.selfS), `${(t.share * 100).toFixed(1)}%`, `\`${t.fn}\``, t.where])) + '\n';
  }

  const mbps = (bytes, s) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
  const row = (c, bytes, base, goalNote = '') => [
    c.name, fmtS(c.median), fmtS(c.min), mbps(bytes, c.median), base ? fmtX(c.median / base.median) : '—', goalNote, `\`${c.command}\``,
  ];
  const verdict = (weld, base) => (weld.median <= base.median ? `met (${fmtX(base.median / weld.median)} faster)` : `**not met** (${fmtX(weld.median / base.median)} slower)`);
  const md = `## import (issue 2 §9)

Debian bookworm minbase (${debs.length} packages from \`debootstrap --variant=minbase --print-debs\`),
${(fileBytes(debs) / 1e6).toFixed(1)} MB of .debs holding ${(debPayload / 1e6).toFixed(1)} MB of regular-file payload (sum of \`dpkg-deb -c\` sizes;
weld counts ${(firstDeb.payloadBytes / 1e6).toFixed(1)} MB: dpkg-deb lists a hard link with size 0, weld counts its bytes again, perl-base's /usr/bin/perl5.36.0 and gzip's /bin/uncompress). The same set converted with \`alien --to-rpm --scripts\`: ${rpms.length} rpms
(${(fileBytes(rpms) / 1e6).toFixed(1)} MB, ${(rpmPayload / 1e6).toFixed(1)} MB payload by \`rpm -qp --qf %{FILESIZES}\`; weld counts ${(firstRpm.payloadBytes / 1e6).toFixed(1)} MB)${Object.keys(failed).length ? `; alien failed on ${Object.keys(failed).join(', ')}` : ''}.
weld imported ${firstDeb.added} debs (${firstDeb.failed} failed) and ${firstRpm.added} rpms (${firstRpm.failed} failed).

Goal: import no slower than unpacking the same packages one by one (issue measured dpkg -x 3.0–3.9 s, rpm2cpio|cpio 1.35–1.61 s).
Wall time over ${runs} interleaved rounds (one untimed warm-up), page cache warm; MB/s is payload / median; ratio is time / the unpacker's time.

${table(['case', 'median', 'min', 'throughput', 'vs unpacker', 'goal', 'command (from the checkout)'], [
  row(wDeb, debPayload, dpkg, verdict(wDeb, dpkg)),
  row(dpkg, debPayload, null),
  row(wDebWarm, debPayload, dpkg, 'already imported: skip'),
  row(wRpm, rpmPayload, cpio, verdict(wRpm, cpio)),
  row(cpio, rpmPayload, null),
  row(wRpmWarm, rpmPayload, cpio, 'already imported: skip'),
])}
${prof}
Machine: ${machineLine(m, loadAfter)}.
Other engineers' tests may share this machine; the load average above says how busy it was.

Reproduce: \`npm run bench -- import --runs ${runs}${profile ? ' --profile' : ''}\` (data cached in bench/.cache). weld makes its store durable (one \`sync -f\` of the filesystem per batch of packages); the unpackers do not sync. Each case starts after an untimed \`sync\`.
`;
  writeResults('import', md);
  process.stdout.write(md);
  return 0;
}
