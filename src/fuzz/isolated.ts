import { Worker } from 'node:worker_threads';
import { fuzz, saveCrash, type Crash, type FuzzOptions, type FuzzReport, type FuzzTarget } from './fuzz.js';
import { mutantFor } from './mutate.js';

/**
 * fuzz() in a worker thread, watched from here: a reader stuck in a
 * synchronous loop cannot be interrupted from its own thread, so when the
 * heartbeat stops for `stallMs` the worker is terminated, the input is rebuilt
 * from (seed, iteration) and recorded as a hang, and a new worker resumes at
 * the next iteration.
 */
export async function fuzzIsolated(
  target: FuzzTarget,
  seed: number,
  iterations: number,
  seeds: Uint8Array[],
  opts: Omit<FuzzOptions, 'onIteration' | 'startIteration'> & { stallMs?: number } = {},
): Promise<FuzzReport> {
  const stallMs = opts.stallMs ?? Math.max(10_000, 2 * (opts.timeoutMs ?? 5000));
  const started = Date.now();
  const total: FuzzReport = { target, seed, iterations: 0, accepted: 0, rejected: 0, crashes: [], elapsedMs: 0 };
  const { log, stallMs: _s, ...workerOpts } = opts;
  let next = 0;
  while (next < iterations) {
    const secondsLeft = opts.seconds ? opts.seconds - (Date.now() - started) / 1000 : undefined;
    if (secondsLeft !== undefined && secondsLeft <= 0) break;
    const heartbeat = new SharedArrayBuffer(8);
    const beat = new Int32Array(heartbeat);
    Atomics.store(beat, 0, next);
    const worker = startWorker({ target, seed, iterations: iterations - next, seeds, heartbeat, opts: { ...workerOpts, startIteration: next, seconds: secondsLeft } });
    const outcome = await new Promise<{ report?: FuzzReport; stalled?: number; error?: unknown }>((resolve) => {
      let lastCount = -1;
      let lastChange = Date.now();
      const watch = setInterval(() => {
        const count = Atomics.load(beat, 1);
        if (count !== lastCount) {
          lastCount = count;
          lastChange = Date.now();
        } else if (count > 0 && Date.now() - lastChange > stallMs) {
          clearInterval(watch);
          const stalled = Atomics.load(beat, 0);
          void worker.terminate().then(() => resolve({ stalled }));
        }
      }, 100);
      worker.on('message', (m: { log?: string; report?: FuzzReport }) => {
        if (m.log) log?.(m.log);
        if (m.report) {
          clearInterval(watch);
          resolve({ report: m.report });
        }
      });
      worker.on('error', (error) => {
        clearInterval(watch);
        resolve({ error, stalled: Atomics.load(beat, 0) });
      });
    });
    await worker.terminate();
    if (outcome.report) {
      const r = outcome.report;
      total.iterations += r.iterations;
      total.accepted += r.accepted;
      total.rejected += r.rejected;
      total.crashes.push(...r.crashes);
      break;
    }
    // a worker that died before its first input is a setup problem, not a finding
    if (outcome.error && Atomics.load(beat, 1) === 0) throw outcome.error;
    // the worker hung (or died) on iteration `stalled`: record it and resume after it
    const i = outcome.stalled ?? next;
    const m = mutantFor(seed, i, seeds);
    const why = outcome.error instanceof Error ? outcome.error : new Error(`reader blocked the thread for over ${stallMs} ms`);
    const crash: Crash = { target, seed, iteration: i, kind: outcome.error ? 'exception' : 'hang', message: why.message, stack: why.stack ?? '', ...m };
    if (opts.crashDir) crash.file = saveCrash(opts.crashDir, crash);
    log?.(`fuzz ${target}: ${crash.kind} at seed ${seed} iteration ${i}: ${crash.message}`);
    total.crashes.push(crash);
    total.iterations += i - next + 1;
    next = i + 1;
  }
  total.elapsedMs = Date.now() - started;
  return total;
}

/** Under tsx/vitest this module is TypeScript source: the worker registers tsx first. */
function startWorker(workerData: unknown): Worker {
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

export { fuzz };
