import { describe, expect, it, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { has, ROOT, run } from './helpers/tools.js';
import type { Dep, DepEntry } from '../src/model.js';
import { isWeldError } from '../src/errors.js';
import { packageLabel, resolve, type ResolverPackage } from '../src/linker/resolve.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const ROOTS = ['bash', 'coreutils', 'apt'];
const canRun = has('apt-cache') && has('dpkg-deb') && has('dpkg');

/** A deliberately simple control-field parser (the real .deb reader lives elsewhere). */
function parseRelations(text: string): DepEntry[] {
  if (!text.trim()) return [];
  return text.split(',').map((clause) => {
    const alts = clause.split('|').map((a): Dep => {
      const m = /^\s*([^\s(]+)\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^)\s]+)\s*\))?/.exec(a)!;
      return { name: m[1]!, op: m[2] ?? '', evr: m[3] ?? '' };
    });
    return alts.length === 1 ? alts[0]! : { anyOf: alts };
  });
}

interface Control {
  file: string;
  fields: Record<string, string>;
}

function readControls(files: string[]): Control[] {
  // one shell, one dpkg-deb per package, records separated by a form feed
  const script = 'for f in "$@"; do dpkg-deb -f "$f" Package Version Architecture Depends Pre-Depends Provides; printf "\\f\\n"; done';
  const out = run('sh', ['-c', script, 'sh', ...files]).stdout.toString();
  return out
    .split('\f\n')
    .slice(0, files.length)
    .map((rec, k) => {
      const fields: Record<string, string> = {};
      let last = '';
      for (const line of rec.split('\n')) {
        if (/^\s/.test(line) && last) fields[last] += ' ' + line.trim();
        else {
          const m = /^([\w-]+):\s*(.*)$/.exec(line);
          if (m) fields[(last = m[1]!)] = m[2]!;
        }
      }
      return { file: files[k]!, fields };
    });
}

function toPackage(c: Control): ResolverPackage {
  const v = c.fields.Version!;
  const colon = v.indexOf(':');
  const epoch = colon >= 0 ? Number(v.slice(0, colon)) : null;
  const rest = colon >= 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return {
    key: path.basename(c.file),
    format: 'deb',
    name: c.fields.Package!,
    epoch,
    version: dash >= 0 ? rest.slice(0, dash) : rest,
    release: dash >= 0 ? rest.slice(dash + 1) : '',
    arch: c.fields.Architecture!,
    provides: parseRelations(c.fields.Provides ?? ''),
    requires: parseRelations(c.fields.Depends ?? ''),
    preDepends: parseRelations(c.fields['Pre-Depends'] ?? ''),
    files: [],
  };
}

/**
 * Independent check: every Depends/Pre-Depends clause of every chosen package
 * has an alternative met by the set, with version relations decided by dpkg itself.
 */
function unsatisfiedClauses(set: Control[]): string[] {
  type Offer = { name: string; version: string | null; arch: string };
  const offers: Offer[] = [];
  for (const c of set) {
    offers.push({ name: c.fields.Package!, version: c.fields.Version!, arch: c.fields.Architecture! });
    for (const p of (c.fields.Provides ?? '').split(',').filter((s) => s.trim())) {
      const m = /^\s*(\S+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?/.exec(p)!;
      offers.push({ name: m[1]!, version: m[2] ?? null, arch: c.fields.Architecture! });
    }
  }
  const checks: { clause: string; who: string; alts: { name: string; op: string; evr: string }[] }[] = [];
  for (const c of set)
    for (const field of ['Depends', 'Pre-Depends'])
      for (const clause of (c.fields[field] ?? '').split(',').filter((s) => s.trim()))
        checks.push({
          clause: clause.trim(),
          who: c.fields.Package!,
          alts: clause.split('|').map((a) => {
            const m = /^\s*([^\s(:]+)(?::\S+)?\s*(?:\(\s*(\S+)\s*([^)\s]+)\s*\))?/.exec(a)!;
            return { name: m[1]!, op: m[2] ?? '', evr: m[3] ?? '' };
          }),
        });
  // gather every (version, op, wanted) question and ask dpkg in one batch
  const questions: string[] = [];
  const plan = checks.map((ch) =>
    ch.alts.flatMap((a) =>
      offers
        .filter((o) => o.name === a.name)
        .map((o) => {
          if (!a.op) return -1; // unversioned: any offer
          if (o.version === null) return -2; // unversioned provide never meets a versioned dep
          const op = { '<<': 'lt', '<=': 'le', '=': 'eq', '>=': 'ge', '>>': 'gt', '<': 'le', '>': 'ge' }[a.op]!;
          questions.push(`${o.version} ${op} ${a.evr}`);
          return questions.length - 1;
        }),
    ),
  );
  const answers = questions.length
    ? run('sh', ['-c', 'while read -r a op b; do if dpkg --compare-versions "$a" "$op" "$b"; then echo 1; else echo 0; fi; done'], { input: questions.join('\n') + '\n' })
        .stdout.toString()
        .trim()
        .split('\n')
    : [];
  return checks.filter((ch, k) => !plan[k]!.some((q) => q === -1 || (q >= 0 && answers[q] === '1'))).map((ch) => `${ch.who}: ${ch.clause}`);
}

describe.skipIf(!canRun)('resolve against real Debian bookworm control data', () => {
  let controls: Control[] = [];
  let universe: ResolverPackage[] = [];

  beforeAll(() => {
    // apt's view of the candidate names is only used to know what to download
    const names = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...ROOTS])
      .stdout.toString()
      .split('\n')
      .filter((l) => l && !l.startsWith(' ') && !l.startsWith('<') && !l.includes(':'));
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...new Set(names)]);
    const want = new Set(names);
    const files = readdirSync(DEBS)
      .filter((f) => f.endsWith('.deb') && want.has(f.slice(0, f.indexOf('_'))))
      .map((f) => path.join(DEBS, f));
    controls = readControls(files);
    universe = controls.map(toPackage);
  }, 120_000);

  it('closes bash, coreutils and apt so that every Depends and Pre-Depends is met', () => {
    expect(universe.length).toBeGreaterThan(30);
    const r = resolve(universe, ROOTS, { format: 'deb', arch: 'amd64' });
    const names = r.packages.map((p) => p.name);
    for (const n of [...ROOTS, 'libc6', 'libapt-pkg6.0', 'libstdc++6']) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    const chosen = controls.filter((c) => r.packages.some((p) => p.key === path.basename(c.file)));
    expect(unsatisfiedClauses(chosen)).toEqual([]);
    // the checker is not vacuous: dropping libc6 from a good set breaks it
    expect(unsatisfiedClauses(chosen.filter((c) => c.fields.Package !== 'libc6')).length).toBeGreaterThan(5);
    // every package was pulled in by something
    for (const p of r.packages) expect(r.chosenBy[p.key]!.length).toBeGreaterThan(0);
  });

  it('reports every missing requirement and who needs it', () => {
    const good = resolve(universe, ROOTS, { format: 'deb', arch: 'amd64' });
    const gone = new Set(['libc6', 'libgcc-s1']);
    let missing: { requirement: string; neededBy: string }[] = [];
    try {
      resolve(universe.filter((p) => !gone.has(p.name)), ROOTS, { format: 'deb', arch: 'amd64' });
      expect.unreachable('resolve should fail');
    } catch (e) {
      if (!isWeldError(e)) throw e;
      expect(e.code).toBe('E_UNRESOLVED');
      expect(e.message.split('\n')).toHaveLength(1);
      missing = e.data.missing as typeof missing;
    }
    // expected: each remaining package of the good closure whose own fields name a removed package
    const expected = new Set<string>();
    for (const c of controls) {
      if (gone.has(c.fields.Package!) || !good.packages.some((p) => p.key === path.basename(c.file))) continue;
      const rel = `${c.fields.Depends ?? ''},${c.fields['Pre-Depends'] ?? ''}`;
      for (const clause of rel.split(',')) {
        const alts = clause.split('|').map((a) => a.trim().split(/[\s(:]/)[0]);
        if (alts.length && alts.every((a) => gone.has(a!))) expected.add(`${c.fields.Package}`);
      }
    }
    const neededBy = new Set(missing.map((m) => good.packages.find((p) => packageLabel(p) === m.neededBy)?.name ?? m.neededBy));
    expect(expected.size).toBeGreaterThan(5);
    expect([...neededBy].sort()).toEqual([...expected].sort());
    for (const m of missing) expect(m.requirement).toMatch(/^(libc6|libgcc-s1)\b/);
  });
});
