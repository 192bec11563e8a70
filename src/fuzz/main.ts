#!/usr/bin/env node
/**
 * npm run fuzz -- --target rpm|cpio|deb|all [--seed N] [--iterations N] [--seconds S]
 *                 [--timeout MS] [--no-corpus] [--in-process]
 * Crashing inputs go to fuzz-crashes/. Exit status 1 when any crash was found.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FUZZ_TARGETS, fuzz, type FuzzTarget } from './fuzz.js';
import { fuzzIsolated } from './isolated.js';
import { loadSeeds, seedFiles } from './seeds.js';
import { runTool } from '../util/exec.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'all' },
      seed: { type: 'string', default: '1' },
      iterations: { type: 'string', default: '10000' },
      seconds: { type: 'string' },
      timeout: { type: 'string', default: '5000' },
      'no-corpus': { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
    },
  });
  const targets: FuzzTarget[] = values.target === 'all' ? [...FUZZ_TARGETS] : [values.target as FuzzTarget];
  if (!targets.every((t) => FUZZ_TARGETS.includes(t))) {
    process.stderr.write(`weld fuzz: unknown target ${values.target} (rpm, cpio, deb, all)\n`);
    return 2;
  }
  const build = runTool(['bash', path.join(ROOT, 'scripts/build-fixtures.sh'), '--no-sparse'], { stdout: 'ignore', stderr: 'inherit', check: false });
  if (build.status !== 0) process.stderr.write('weld fuzz: build-fixtures.sh failed; using whatever seeds exist\n');
  const seed = Number(values.seed);
  const iterations = Number(values.iterations);
  const seconds = values.seconds ? Number(values.seconds) / targets.length : undefined;
  let crashes = 0;
  for (const target of targets) {
    const files = seedFiles(target, ROOT, { corpus: !values['no-corpus'] });
    if (files.length === 0) {
      process.stderr.write(`weld fuzz: no seeds for ${target}; skipped\n`);
      continue;
    }
    const opts = {
      timeoutMs: Number(values.timeout),
      seconds,
      crashDir: path.join(process.cwd(), 'fuzz-crashes'),
      log: (l: string) => process.stderr.write(l + '\n'),
    };
    const run = values['in-process'] ? fuzz : fuzzIsolated;
    let report;
    try {
      report = await run(target, seed, iterations, loadSeeds(files), opts);
    } catch (e) {
      process.stderr.write(`weld fuzz: cannot fuzz ${target}: ${(e as Error).message}\n`);
      crashes++;
      continue;
    }
    crashes += report.crashes.length;
    const rate = report.iterations / Math.max(report.elapsedMs / 1000, 0.001);
    process.stdout.write(
      `${target}: seed ${seed}, ${report.iterations} iterations over ${files.length} seeds in ${(report.elapsedMs / 1000).toFixed(1)} s ` +
        `(${rate.toFixed(0)}/s): ${report.accepted} accepted, ${report.rejected} rejected, ${report.crashes.length} crashes\n`,
    );
  }
  return crashes ? 1 : 0;
}

process.exitCode = await main();
