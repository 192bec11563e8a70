/**
 * Mutation fuzzer for weld's package readers. The rule (after composefs-rs):
 * errors are fine, crashes are bugs. A reader may reject any input with a
 * WeldError of kind `format`; any other exception, an unhandled rejection, or
 * a reader that does not settle within the deadline is a bug.
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { isWeldError } from '../errors.js';
import type { Limits } from '../model.js';
import { hashOnlySink } from '../store/sink.js';
import { blake3 } from '../store/hash.js';
import { mutantFor, type Mutation } from './mutate.js';

export type FuzzTarget = 'rpm' | 'cpio' | 'deb';
export const FUZZ_TARGETS: readonly FuzzTarget[] = ['rpm', 'cpio', 'deb'];

/** Small limits, so decompression bombs and huge counts are cheap to reject. */
const FUZZ_LIMITS: Limits = {
  maxHeaderBytes: 1 << 20,
  maxHeaderEntries: 4096,
  maxPayloadBytes: 16 << 20,
  maxRatio: 200,
  maxPathLength: 1024,
  maxPathDepth: 64,
};

export interface Crash {
  target: FuzzTarget;
  seed: number;
  iteration: number;
  kind: 'exception' | 'rejection' | 'hang';
  message: string;
  stack: string;
  /** index of the seed input the mutant came from, and what was done to it */
  from: number;
  mutations: Mutation[];
  input: Uint8Array;
  /** where the input was saved, when a crash directory was given */
  file?: string;
}

export interface FuzzReport {
  target: FuzzTarget;
  seed: number;
  /** iterations actually run (fewer than asked when `seconds` ran out) */
  iterations: number;
  /** inputs the reader accepted, and inputs it rejected with a format error */
  accepted: number;
  rejected: number;
  crashes: Crash[];
  elapsedMs: number;
}

export interface FuzzOptions {
  /** a reader that has not settled after this long is a hang (ms) */
  timeoutMs?: number;
  /** stop early after this many seconds */
  seconds?: number;
  limits?: Limits;
  /** save each crashing input here (with a .txt beside it) */
  crashDir?: string;
  /** first iteration number (a restarted worker resumes here) */
  startIteration?: number;
  /** called before each input runs; the isolated runner uses it as a heartbeat */
  onIteration?: (iteration: number) => void;
  /** a reader to use instead of the target's own (tests of the fuzzer itself) */
  reader?: Reader;
  /** progress and crash lines; default silent */
  log?: (line: string) => void;
}

/** Feeds one input to a target reader and drains everything it produces. */
export type Reader = (input: Uint8Array, limits: Limits) => Promise<void>;

/** Splits input into uneven chunks, so chunk-boundary bugs get exercised. */
async function* chunked(input: Uint8Array): AsyncGenerator<Uint8Array> {
  let at = 0;
  let i = 0;
  while (at < input.length) {
    const n = 1 + ((i++ * 7919 + 509) % 8191);
    yield input.subarray(at, at + n);
    at += n;
  }
}

/** Loads the reader for a target (lazily: the readers are other modules). */
async function loadReader(target: FuzzTarget): Promise<Reader> {
  switch (target) {
    case 'rpm': {
      const { readRpm } = await import('../importer/rpm.js');
      return async (input, limits) => {
        await readRpm(chunked(input), { sink: hashOnlySink(), where: 'fuzz.rpm', limits });
      };
    }
    case 'deb': {
      const { readDeb } = await import('../importer/deb.js');
      return async (input, limits) => {
        await readDeb(chunked(input), { sink: hashOnlySink(), where: 'fuzz.deb', limits });
      };
    }
    case 'cpio': {
      const { readCpio } = await import('../formats/cpio/read.js');
      return async (input, limits) => {
        let total = 0;
        for await (const entry of readCpio(chunked(input), { maxNameLength: limits.maxPathLength, where: 'fuzz.cpio', strippedSize: () => 0 })) {
          // read every other body, skip the rest, so both paths run
          if (entry.ino % 2 === 0) {
            const h = blake3();
            for await (const part of entry.body) {
              total += part.length;
              h.update(part);
            }
            h.hex();
          }
          if (total > limits.maxPayloadBytes) return;
        }
      };
    }
  }
}

type Outcome = { kind: 'accepted' } | { kind: 'rejected' } | { kind: 'crash'; crash: 'exception' | 'hang'; error: unknown };

async function runOne(reader: Reader, input: Uint8Array, limits: Limits, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'crash', crash: 'hang', error: new Error(`reader did not settle within ${timeoutMs} ms`) }), timeoutMs);
  });
  const work = reader(input, limits).then(
    (): Outcome => ({ kind: 'accepted' }),
    (e: unknown): Outcome => (isWeldError(e) && e.kind === 'format' ? { kind: 'rejected' } : { kind: 'crash', crash: 'exception', error: e }),
  );
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(e: unknown): { message: string; stack: string } {
  if (e instanceof Error) {
    const kind = isWeldError(e) ? `WeldError(${e.kind}) ` : `${e.constructor?.name ?? 'Error'}: `;
    return { message: kind + e.message, stack: e.stack ?? '' };
  }
  return { message: `non-Error thrown: ${String(e)}`, stack: '' };
}

/** Writes the input and a description; the directory ignores itself in git. */
export function saveCrash(dir: string, c: Crash): string {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, '.gitignore'))) writeFileSync(path.join(dir, '.gitignore'), '*\n');
  const base = path.join(dir, `${c.target}-seed${c.seed}-iter${c.iteration}-${c.kind}`);
  writeFileSync(`${base}.bin`, c.input);
  writeFileSync(
    `${base}.txt`,
    `target ${c.target} seed ${c.seed} iteration ${c.iteration} kind ${c.kind}\nfrom seed input #${c.from}, mutations ${c.mutations.join(' ')}\n${c.message}\n${c.stack}\n`,
  );
  return `${base}.bin`;
}

/**
 * Runs `iterations` mutants of `seeds` through the target's reader. Each
 * iteration's input depends only on (seed, iteration), see mutantFor.
 * Detects exceptions, unhandled rejections and async hangs; a synchronous
 * infinite loop blocks this thread, which fuzzIsolated (worker.ts) catches.
 */
export async function fuzz(target: FuzzTarget, seed: number, iterations: number, seeds: Uint8Array[], opts: FuzzOptions = {}): Promise<FuzzReport> {
  const reader = opts.reader ?? (await loadReader(target));
  const limits = opts.limits ?? FUZZ_LIMITS;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const started = Date.now();
  const stopAt = opts.seconds ? started + opts.seconds * 1000 : Infinity;
  const report: FuzzReport = { target, seed, iterations: 0, accepted: 0, rejected: 0, crashes: [], elapsedMs: 0 };
  let current = { iteration: -1, from: -1, mutations: [] as Mutation[], input: new Uint8Array(0) as Uint8Array };

  const record = (kind: Crash['kind'], error: unknown) => {
    const { message, stack } = describe(error);
    const crash: Crash = { target, seed, kind, message, stack, ...current };
    if (opts.crashDir) crash.file = saveCrash(opts.crashDir, crash);
    report.crashes.push(crash);
    opts.log?.(`fuzz ${target}: ${kind} at seed ${seed} iteration ${crash.iteration}: ${message}${crash.file ? ` (saved ${crash.file})` : ''}`);
  };
  // a rejection nobody awaited belongs to the input that was running
  const onRejection = (reason: unknown) => record('rejection', reason);
  process.on('unhandledRejection', onRejection);
  try {
    const first = opts.startIteration ?? 0;
    for (let i = first; i < first + iterations && Date.now() < stopAt; i++) {
      const m = mutantFor(seed, i, seeds);
      current = { iteration: i, ...m };
      opts.onIteration?.(i);
      const out = await runOne(reader, m.input, limits, timeoutMs);
      report.iterations++;
      if (out.kind === 'accepted') report.accepted++;
      else if (out.kind === 'rejected') report.rejected++;
      else record(out.crash, out.error);
    }
    // let stray rejections of the last input surface before we stop listening
    await new Promise((r) => setTimeout(r, 10));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  report.elapsedMs = Date.now() - started;
  return report;
}
