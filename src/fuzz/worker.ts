/** Worker side of fuzzIsolated: runs fuzz() and beats a shared heartbeat. */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz, type FuzzOptions, type FuzzTarget } from './fuzz.js';

interface Job {
  target: FuzzTarget;
  seed: number;
  iterations: number;
  seeds: Uint8Array[];
  opts: Omit<FuzzOptions, 'onIteration' | 'log'>;
  heartbeat: SharedArrayBuffer;
}

const job = workerData as Job;
const beat = new Int32Array(job.heartbeat);
const report = await fuzz(job.target, job.seed, job.iterations, job.seeds, {
  ...job.opts,
  onIteration: (i) => {
    Atomics.store(beat, 0, i);
    Atomics.add(beat, 1, 1);
  },
  log: (line) => parentPort!.postMessage({ log: line }),
});
parentPort!.postMessage({ report });
