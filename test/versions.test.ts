import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/fuzz/mutate.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { has, run } from './helpers/tools.js';
import { compareEVR, parseEVR, rpmvercmp } from '../src/formats/rpm/evr.js';
import { dpkgCompareVersions, dpkgVercmp } from '../src/formats/deb/version.js';

// deterministic, so a failure reproduces
const prng = mulberry32;

function gen(rand: () => number, alphabet: string[], min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  let s = '';
  for (let k = 0; k < n; k++) s += alphabet[Math.floor(rand() * alphabet.length)]!;
  return s;
}

/** b is often a small edit of a, so comparisons reach deep segments */
function mutate(rand: () => number, a: string, alphabet: string[]): string {
  const r = rand();
  const p = Math.floor(rand() * (a.length + 1));
  const c = alphabet[Math.floor(rand() * alphabet.length)]!;
  if (r < 0.15) return a;
  if (r < 0.45) return a.slice(0, p) + c + a.slice(p);
  if (r < 0.7) return a.slice(0, p) + c + a.slice(p + 1);
  if (r < 0.85) return a.slice(0, p) + a.slice(p + 1);
  return a.slice(0, p);
}

const RPM_ALPHA = [...'0123456789', '0', '1', '00', '10', ...'abzAZ', 'rc', 'git', '.', '.', '~', '~', '^', '^', '+', '_'];
const DPKG_ALPHA = [...'0123456789', '0', '00', '1', ...'abzAZ', 'rc', '.', '.', '~', '~', '+'];

const RPM_TRICKY: [string, string][] = [
  ['1.0~rc1', '1.0'], ['1.0^', '1.0'], ['1.0^git1', '1.0.1'], ['1.0^git1', '1.0~rc1'], ['1.0^git1', '1.0'],
  ['1.0', '1.0.0'], ['1.01', '1.1'], ['1.a', '1.1'], ['1.0a', '1.0'], ['a', '1'], ['1..0', '1.0'],
  ['1_0', '1.0'], ['~', '~~'], ['^', '~'], ['1.0^', '1.0^~'], ['1.0~^', '1.0~'], ['0001', '1'],
  ['99999999999999999999', '100000000000000000000'], ['2.0', '2_0'], ['1.0+', '1.0'], ['abc', 'ABC'], ['1a', '1.a'],
];
const RPM_EVR_TRICKY: [string, string][] = [
  ['1:1.0', '2.0'], ['0:1.0', '1.0'], [':1', '0:1'], ['a:1', '1'], ['1.0-1', '1.0'], ['1.0-1', '1.0-2'],
  ['1.0-1.el9', '1.0-1.el9_1'], ['2:1-1', '10:1-1'], ['1-2-3', '1-2'], ['010:1', '10:1'],
];
const DPKG_TRICKY: [string, string][] = [
  ['1.0~rc1', '1.0'], ['1.0~~', '1.0~'], ['1.0~~a', '1.0~'], ['1.0a', '1.0+'], ['1.0', '1.0-0'], ['0:1.0', '1.0'],
  ['1:0.1', '2.0'], ['1.0-1~bpo1', '1.0-1'], ['1.2.3', '1.2.3a'], ['1a', '1+'], ['1.0.0', '1.0'], ['00', '0'],
  ['1.01', '1.1'], ['1.0-1-1', '1.0-1'], ['2.30-1+deb12u1', '2.30-1'], ['1:2.36-9+deb12u4', '2.36-9+deb12u4'],
  ['1.0+dfsg', '1.0'], ['1.0.a', '1.0a'], ['1Z', '1a'], ['9', '10'],
];

function rpmPairs(): [string, string][] {
  const rand = prng(0x7270_6d21);
  const out: [string, string][] = [...RPM_TRICKY];
  while (out.length < 2500) {
    const a = gen(rand, RPM_ALPHA, 1, 10);
    out.push([a, rand() < 0.7 ? mutate(rand, a, RPM_ALPHA) : gen(rand, RPM_ALPHA, 1, 10)]);
  }
  // rpm.vercmp parses EVR: keep plain-version pairs free of ':' and '-', and non-empty
  return out.filter(([a, b]) => a && b);
}

function rpmEvrPairs(): [string, string][] {
  const rand = prng(0x6576_7221);
  const evr = (): string => {
    const e = rand() < 0.3 ? `${gen(rand, [...'0120'], 0, 2)}:` : '';
    const r = rand() < 0.7 ? `-${gen(rand, RPM_ALPHA, 1, 5)}` : '';
    return e + gen(rand, RPM_ALPHA, 1, 6) + r;
  };
  const out: [string, string][] = [...RPM_EVR_TRICKY];
  while (out.length < 2000) {
    const a = evr();
    out.push([a, rand() < 0.6 ? mutate(rand, a, [...RPM_ALPHA, '-', ':']) : evr()]);
  }
  return out.filter(([a, b]) => a && b);
}

function dpkgPairs(): [string, string][] {
  const rand = prng(0x6470_6b67);
  const ver = (): string => {
    const e = rand() < 0.2 ? `${Math.floor(rand() * 3)}:` : '';
    const up = String(Math.floor(rand() * 10)) + gen(rand, DPKG_ALPHA, 0, 8);
    const rev = rand() < 0.6 ? `-${gen(rand, DPKG_ALPHA, 1, 5)}` : '';
    return e + up + rev;
  };
  const out: [string, string][] = [...DPKG_TRICKY];
  while (out.length < 2500) {
    const a = ver();
    let b = rand() < 0.7 ? mutate(rand, a, DPKG_ALPHA) : ver();
    // keep b valid for dpkg: starts with a digit after any epoch, no empty revision
    if (!/^(\d+:)?\d[A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$/.test(b)) b = ver();
    out.push([a, b]);
  }
  return out;
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Runs rpm once: a Lua chunk compares every pair with rpm.vercmp. */
function rpmOracle(pairs: [string, string][]): number[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'weld-vercmp-'));
  try {
    const data = path.join(dir, 'pairs.txt');
    writeFileSync(data, pairs.map(([a, b]) => `${a}\t${b}\n`).join(''));
    const lua = path.join(dir, 'cmp.lua');
    writeFileSync(
      lua,
      `local out = {}
for line in io.lines(${JSON.stringify(data)}) do
  local a, b = line:match("^([^\\t]*)\\t(.*)$")
  out[#out + 1] = tostring(rpm.vercmp(a, b))
end
print(table.concat(out, "\\n"))
`,
    );
    const r = run('rpm', ['--eval', `%{lua: dofile(${JSON.stringify(lua)})}`]);
    return r.stdout.toString().trim().split('\n').map(Number);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one shell that asks dpkg --compare-versions about every pair. */
function dpkgOracle(pairs: [string, string][]): number[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'weld-vercmp-'));
  try {
    const data = path.join(dir, 'pairs.txt');
    writeFileSync(data, pairs.map(([a, b]) => `${a} ${b}\n`).join(''));
    const script = `while read -r a b; do
  if dpkg --compare-versions "$a" lt "$b"; then echo -1
  elif dpkg --compare-versions "$a" eq "$b"; then echo 0
  else echo 1; fi
done < "$1"`;
    const r = run('sh', ['-c', script, 'sh', data]);
    return r.stdout.toString().trim().split('\n').map(Number);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function disagreements(pairs: [string, string][], want: number[], ours: (a: string, b: string) => number): string[] {
  expect(want.length).toBe(pairs.length);
  const bad: string[] = [];
  pairs.forEach(([a, b], k) => {
    const got = sign(ours(a, b));
    if (got !== want[k]) bad.push(`${a} vs ${b}: tool ${want[k]}, weld ${got}`);
  });
  return bad;
}

describe.skipIf(!has('rpm'))('rpmvercmp against rpm 4.18 (rpm.vercmp in Lua)', () => {
  it('agrees on generated plain versions', () => {
    const pairs = rpmPairs();
    expect(pairs.length).toBeGreaterThanOrEqual(2000);
    const bad = disagreements(pairs, rpmOracle(pairs), (a, b) => {
      // rpm.vercmp parses EVR, so compare what it compares
      return a.includes(':') || a.includes('-') || b.includes(':') || b.includes('-') ? compareEVR(parseEVR(a), parseEVR(b)) : rpmvercmp(a, b);
    });
    expect(bad).toEqual([]);
  });

  it('agrees on generated epoch:version-release pairs (compareEVR)', () => {
    const pairs = rpmEvrPairs();
    expect(pairs.length).toBeGreaterThanOrEqual(1900);
    const bad = disagreements(pairs, rpmOracle(pairs), (a, b) => compareEVR(parseEVR(a), parseEVR(b)));
    expect(bad).toEqual([]);
  });

  it('gets the distribution of results spread, not one-sided', () => {
    const want = rpmOracle(rpmPairs());
    for (const v of [-1, 0, 1]) expect(want.filter((x) => x === v).length).toBeGreaterThan(100);
  });
});

describe.skipIf(!has('dpkg'))('dpkgVercmp against dpkg --compare-versions', () => {
  it('agrees on generated versions', () => {
    const pairs = dpkgPairs();
    expect(pairs.length).toBeGreaterThanOrEqual(2000);
    const want = dpkgOracle(pairs);
    for (const v of [-1, 0, 1]) expect(want.filter((x) => x === v).length).toBeGreaterThan(100);
    expect(disagreements(pairs, want, dpkgVercmp)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!has('dpkg'))('dpkgCompareVersions against dpkg --compare-versions', () => {
  it('agrees on every relation, with empty and <unknown> sides', () => {
    const versions = ['', '<unknown>', '1.0-1', '~1', '1:0.9'];
    const ops = ['lt', 'le', 'eq', 'ne', 'ge', 'gt', 'lt-nl', 'le-nl', 'ge-nl', 'gt-nl', '<', '<=', '<<', '=', '>', '>=', '>>'];
    const cases: [string, string, string][] = [];
    for (const a of versions) for (const op of ops) for (const b of versions) cases.push([a, op, b]);
    const dir = mkdtempSync(path.join(tmpdir(), 'weld-vercmp-'));
    try {
      const data = path.join(dir, 'cases.txt');
      writeFileSync(data, cases.map((c) => c.join('|') + '\n').join(''));
      const script = `while IFS='|' read -r a op b; do
  if dpkg --compare-versions "$a" "$op" "$b" 2>/dev/null; then echo 1; else echo 0; fi
done < "$1"`;
      const want = run('sh', ['-c', script, 'sh', data]).stdout.toString().trim().split('\n');
      expect(want.length).toBe(cases.length);
      const bad = cases.filter(([a, op, b], k) => dpkgCompareVersions(a, op, b) !== (want[k] === '1')).map((c) => c.join(' '));
      expect(bad).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses an unknown relation and a version dpkg cannot parse', () => {
    expect(() => dpkgCompareVersions('1', 'lq', '2')).toThrow(/unknown relation 'lq'/);
    expect(() => dpkgCompareVersions('', 'lt', '1 0')).toThrow(/embedded spaces/);
  });
});
