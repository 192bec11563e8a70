/**
 * Fixed-seed fuzzing of the rpm, deb and cpio readers: zero crashes and zero
 * hangs. Seeds come from scripts/build-fixtures.sh (and the shared corpus
 * when present). A failure prints (seed, iteration); reproduce it with
 * `npm run fuzz -- --target T --seed S --iterations N`.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatError } from '../src/errors.js';
import { fuzz, type FuzzReport, type FuzzTarget } from '../src/fuzz/fuzz.js';
import { fuzzIsolated } from '../src/fuzz/isolated.js';
import { MUTATIONS, mutantFor, mutateOnce, rngFor } from '../src/fuzz/mutate.js';
import { loadSeeds, seedFiles } from '../src/fuzz/seeds.js';
import { ROOT, run } from './helpers/tools.js';

beforeAll(() => {
  run('bash', [path.join(ROOT, 'scripts/build-fixtures.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
}, 600_000);

const SEED = 20240601;
// sized for ~35 s in all (measured here: rpm ~200/s, deb ~120/s, cpio ~800/s)
const BUDGET: Record<FuzzTarget, number> = { rpm: 4000, deb: 1500, cpio: 5000 };

function summary(r: FuzzReport): string {
  return r.crashes.map((c) => `${c.kind} at seed ${c.seed} iteration ${c.iteration} (${c.mutations.join(',')}): ${c.message}\n${c.stack}`).join('\n');
}

describe('mutations', () => {
  it('are a pure function of (seed, iteration)', () => {
    const seeds = [new Uint8Array(Array.from({ length: 600 }, (_, i) => i & 0xff)), new TextEncoder().encode('070701'.repeat(50))];
    for (let i = 0; i < 200; i++) {
      const a = mutantFor(7, i, seeds);
      const b = mutantFor(7, i, seeds);
      expect(Buffer.from(a.input).equals(Buffer.from(b.input))).toBe(true);
      expect(a.mutations).toEqual(b.mutations);
    }
    // and different iterations differ (nearly always)
    const distinct = new Set(Array.from({ length: 200 }, (_, i) => Buffer.from(mutantFor(7, i, seeds).input).toString('hex')));
    expect(distinct.size).toBeGreaterThan(150);
  });

  it('every mutation changes something and never touches the seed', () => {
    const seed = new Uint8Array(Array.from({ length: 256 }, (_, i) => (i * 37) & 0xff));
    seed.set(new TextEncoder().encode('00000123'), 40); // a text number for ascii-number
    const copy = Uint8Array.from(seed);
    const other = new Uint8Array(100).fill(0xaa);
    for (const kind of MUTATIONS) {
      let changed = 0;
      for (let i = 0; i < 20; i++) {
        const out = mutateOnce(seed, kind, rngFor(1, i), other);
        if (!Buffer.from(out).equals(Buffer.from(seed))) changed++;
      }
      expect(changed, kind).toBeGreaterThan(0);
    }
    expect(Buffer.from(seed).equals(Buffer.from(copy))).toBe(true);
  });
});

describe('the fuzzer detects what it should', () => {
  const seeds = [new Uint8Array(64)];
  it('counts format errors as fine and other exceptions as crashes, and saves the input', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weld-fuzz-'));
    try {
      let n = 0;
      const r = await fuzz('rpm', 1, 20, seeds, {
        crashDir: dir,
        reader: async () => {
          n++;
          if (n === 5) throw new TypeError('Cannot read properties of undefined');
          if (n % 2) throw formatError('rpm', 'Cannot read RPM lead: bad magic');
        },
      });
      expect(r.iterations).toBe(20);
      expect(r.crashes.map((c) => [c.kind, c.iteration])).toEqual([['exception', 4]]);
      expect(r.rejected).toBe(9);
      expect(r.accepted).toBe(10);
      expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'rpm-seed1-iter4-exception.bin', 'rpm-seed1-iter4-exception.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a reader that never settles as a hang', async () => {
    const r = await fuzz('cpio', 1, 3, seeds, { timeoutMs: 50, reader: () => new Promise<void>(() => {}) });
    expect(r.crashes.map((c) => c.kind)).toEqual(['hang', 'hang', 'hang']);
  });

  it('reports an unhandled rejection', async () => {
    const r = await fuzz('deb', 1, 2, seeds, {
      reader: async (_input) => {
        void Promise.reject(new RangeError('stray'));
      },
    });
    expect(r.crashes.some((c) => c.kind === 'rejection' && c.message.includes('stray'))).toBe(true);
  });
});

describe('readers under fuzzing (fixed seed)', () => {
  for (const target of ['rpm', 'deb', 'cpio'] as const) {
    it(`${target}: no crashes, no hangs`, async () => {
      const files = seedFiles(target, ROOT);
      expect(files.length).toBeGreaterThan(0);
      const report = await fuzzIsolated(target, SEED, BUDGET[target], loadSeeds(files), { timeoutMs: 15_000, stallMs: 30_000 });
      console.log(`fuzz ${target}: ${report.iterations} iterations, ${files.length} seeds, ${report.accepted} accepted, ${report.rejected} rejected, ${(report.elapsedMs / 1000).toFixed(1)} s`);
      expect(report.iterations).toBe(BUDGET[target]);
      expect(report.crashes, summary(report)).toEqual([]);
      // a fuzz run where nothing is ever accepted or rejected is not exercising the reader
      expect(report.accepted + report.rejected).toBe(BUDGET[target]);
      expect(report.rejected).toBeGreaterThan(0);
    }, 120_000);
  }
});
