import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { FuzzTarget } from './fuzz.js';

/** Seeds larger than this make each iteration slow without finding more. */
const MAX_SEED_BYTES = 256 * 1024;
const MAX_CORPUS_BYTES = 64 * 1024;

function filesIn(dir: string, ext: string, maxBytes: number): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile() && statSync(f).size <= maxBytes);
}

/**
 * Seed inputs for a target, in a stable order (the order is part of what a
 * (seed, iteration) pair reproduces): fixtures built by
 * scripts/build-fixtures.sh, then small packages from the shared corpus.
 */
export function seedFiles(target: FuzzTarget, root: string, opts: { corpus?: boolean } = {}): string[] {
  const cache = path.join(root, 'fixtures/.cache');
  switch (target) {
    case 'rpm': {
      // the sparse fixture inflates to 5 GiB: legitimately slow, so never a seed
      const own = filesIn(path.join(cache, 'rpm'), '.rpm', MAX_SEED_BYTES).filter((f) => !path.basename(f).startsWith('weld-sparse-'));
      const corpusDir = path.resolve(root, '../shared/corpus/rpm');
      const corpus = opts.corpus === false || !existsSync(corpusDir)
        ? []
        : readdirSync(corpusDir).sort().flatMap((d) => filesIn(path.join(corpusDir, d), '.rpm', MAX_CORPUS_BYTES));
      return [...own, ...corpus];
    }
    case 'deb':
      return filesIn(path.join(cache, 'fuzz-deb'), '.deb', MAX_SEED_BYTES);
    case 'cpio':
      return filesIn(path.join(cache, 'cpio'), '.cpio', MAX_SEED_BYTES);
  }
}

export function loadSeeds(files: string[]): Uint8Array[] {
  return files.map((f) => new Uint8Array(readFileSync(f)));
}
