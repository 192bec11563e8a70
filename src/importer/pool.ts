import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import type { ImportOutcome } from './index.js';
import { commitBatch, prepareFile } from './index.js';
import { Store } from '../store/store.js';

export interface ImportSummary {
  added: number;
  skipped: number;
  failed: number;
  bytesRead: number;
  payloadBytes: number;
  objectsNew: number;
  objectsReused: number;
  bytesNew: number;
  bytesReused: number;
  /** logical payload bytes / bytes newly stored */
  dedupRatio: number;
  seconds: number;
  outcomes: ImportOutcome[];
}

/**
 * Imports files in parallel across cores. Each worker has its own store handle;
 * a single file is imported in-process to skip worker start-up.
 */
export async function importAll(storeDir: string, files: string[], onDone?: (o: ImportOutcome, done: number, total: number) => void, jobs = os.availableParallelism()): Promise<ImportSummary> {
  const t0 = performance.now();
  const outcomes: ImportOutcome[] = new Array(files.length);
  const workerFile = fileURLToPath(new URL('./worker.js', import.meta.url));
  const n = Math.max(1, Math.min(jobs, files.length));
  const store = Store.open(storeDir, { create: true });
  store.objects.cleanTmp();
  let done = 0;
  // group commit: one sync per batch of packages, not per package
  const batchSize = Math.max(1, Math.min(16, Math.ceil(files.length / (n * 3))));
  if (n === 1 || !fs.existsSync(workerFile)) {
    for (let i = 0; i < files.length; i += batchSize) {
      const prepared = [];
      for (const f of files.slice(i, i + batchSize)) prepared.push(await prepareFile(store, f));
      commitBatch(store, prepared).forEach((o, k) => {
        outcomes[i + k] = o;
        onDone?.(o, ++done, files.length);
      });
    }
  } else {
    store.close();
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, () => {
        const w = new Worker(workerFile, { workerData: { storeDir } });
        return new Promise<void>((resolve, reject) => {
          let current = -1;
          const feed = () => {
            if (next >= files.length) {
              w.postMessage({ quit: true });
              return;
            }
            current = next;
            next += batchSize;
            w.postMessage({ files: files.slice(current, current + batchSize) });
          };
          w.on('message', (os: ImportOutcome[]) => {
            os.forEach((o, k) => {
              outcomes[current + k] = o;
              onDone?.(o, ++done, files.length);
            });
            feed();
          });
          w.on('error', reject);
          w.on('exit', () => resolve());
          feed();
        });
      }),
    );
  }
  if (n === 1 || !fs.existsSync(workerFile)) store.close();
  const s: ImportSummary = {
    added: 0, skipped: 0, failed: 0, bytesRead: 0, payloadBytes: 0,
    objectsNew: 0, objectsReused: 0, bytesNew: 0, bytesReused: 0, dedupRatio: 1,
    seconds: (performance.now() - t0) / 1000, outcomes,
  };
  for (const o of outcomes) {
    s[o.status]++;
    s.bytesRead += o.bytesRead;
    s.payloadBytes += o.payloadBytes;
    s.objectsNew += o.stats.objectsNew;
    s.objectsReused += o.stats.objectsReused;
    s.bytesNew += o.stats.bytesNew;
    s.bytesReused += o.stats.bytesReused;
  }
  const logical = s.bytesNew + s.bytesReused;
  s.dedupRatio = s.bytesNew > 0 ? Number((logical / s.bytesNew).toFixed(3)) : logical > 0 ? Infinity : 1;
  return s;
}
