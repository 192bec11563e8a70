/**
 * Two facts about a store that caches key on, kept in small files beside the
 * catalog so that reading them opens no SQLite (a `weld run` cache hit):
 *
 * - generation: "<n> <nonce>", n being the catalog's generation (each commit
 *   bumps it), written after the commit. The nonce makes every write a new
 *   value, so two writers finishing out of order cannot bring back one a
 *   cached view was keyed on.
 * - GC epoch: a count that only deleting objects bumps; imports leave it alone.
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import { storePaths } from './location.js';

const read = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The generation mark as written ('' for a store that never had one). */
export function readGeneration(dir: string): string {
  return read(storePaths(dir).generation);
}

export function readGcEpoch(dir: string): number {
  return Number(read(storePaths(dir).gcEpoch)) || 0;
}

/**
 * Writes the generation mark for catalog generation n, unless it already says
 * n. Never throws: the commit it follows has happened. When the write fails
 * (a full disk) the mark is removed: views then key on no generation (src/views/cache.ts).
 */
export function markGeneration(dir: string, n: number, force = true): void {
  const file = storePaths(dir).generation;
  if (!force && read(file).split(' ')[0] === String(n)) return;
  try {
    writeFileAtomic(file, `${n} ${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`);
  } catch {
    fs.rmSync(file, { force: true });
  }
}

/** Called before objects are deleted: every view keyed on the old epoch may name them. */
export function bumpGcEpoch(dir: string): number {
  const next = readGcEpoch(dir) + 1;
  writeFileAtomic(storePaths(dir).gcEpoch, String(next));
  return next;
}
