/**
 * View cache keys rest on the store's own facts: a view from a lock changes
 * only when objects are deleted (GC epoch), one from a variant also with each
 * commit (catalog generation). SQLite's files (its WAL) play no part, so a
 * link, which writes only caches, invalidates nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { viewKey } from '../src/views/cache.js';
import { bumpGcEpoch, readGeneration } from '../src/store/marks.js';
import { Store } from '../src/store/store.js';
import { ROOT, debPath, run, weld } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const canRun = fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));
let tmp: string;
let store: string;
let variant: string;
let lock: string;

beforeAll(() => {
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, 'netbase', 'sensible-utils']);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-view-keys-'));
  store = path.join(tmp, 'store');
  variant = path.join(tmp, 'v.toml');
  lock = path.join(tmp, 'v.lock');
  fs.writeFileSync(variant, 'name = "v"\nformat = "deb"\narch = "amd64"\nmerged-usr = true\npackages = ["netbase"]\n[layout]\nfilesystem = "erofs"\n');
}, 600_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const fromVariant = () => viewKey({ storeDir: store, variant }, variant);
const fromLock = () => viewKey({ storeDir: store, variant, lock }, variant);
const generation = () => {
  const s = Store.open(store, { readonly: true });
  try {
    return s.catalog.generation();
  } finally {
    s.close();
  }
};

describe.skipIf(!canRun)('view cache keys', () => {
  it('a link changes neither key; a commit changes the variant key only; deleting objects changes both', () => {
    expect(weld(['import', '--store', store, debPath(DEBS, 'netbase')]).status).toBe(0);
    const link = weld(['link', '--store', store, '--variant', variant, '--lock', lock, '-o', path.join(tmp, 'v.img')]);
    expect(link.status, link.stderr).toBe(0);
    const [v1, l1, g1] = [fromVariant(), fromLock(), generation()];
    expect(readGeneration(store)).toMatch(new RegExp(`^${g1} `));
    // a relink writes the leaf and ELF caches and generated objects, commits nothing
    expect(weld(['link', '--store', store, '--variant', variant, '--lock', lock, '-o', path.join(tmp, 'v2.img')]).status).toBe(0);
    expect(fromVariant()).toBe(v1);
    expect(fromLock()).toBe(l1);
    // an import is a commit: the variant may resolve differently now, the lock cannot
    expect(weld(['import', '--store', store, debPath(DEBS, 'sensible-utils')]).status).toBe(0);
    expect(generation()).toBe(g1 + 1);
    const v2 = fromVariant();
    expect(v2).not.toBe(v1);
    expect(fromLock()).toBe(l1);
    // importing a file already there commits nothing
    expect(weld(['import', '--store', store, debPath(DEBS, 'netbase')]).status).toBe(0);
    expect(fromVariant()).toBe(v2);
    bumpGcEpoch(store);
    expect(fromLock()).not.toBe(l1);
    expect(fromVariant()).not.toBe(v2);
  }, 120_000);
});
