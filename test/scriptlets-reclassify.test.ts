/**
 * `weld scriptlets` after reclassification: a store whose packages an older
 * classifier classified, imported again by this weld, reports exactly what a
 * fresh store of the same packages reports.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, debPath, run, weld } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const RPMS = path.join(ROOT, 'fixtures/.cache/rpm');
const DEB_NAMES = ['netbase', 'base-passwd', 'mawk'];
const canRun = fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));
let tmp: string;
let files: string[];

beforeAll(() => {
  run('bash', [path.join(ROOT, 'scripts/build-fixtures.sh'), '--no-sparse']);
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...DEB_NAMES]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-reclassify-'));
  files = [...DEB_NAMES.map((n) => debPath(DEBS, n)), path.join(RPMS, fs.readdirSync(RPMS).find((f) => f.startsWith('weld-scripts') && !f.endsWith('.src.rpm'))!)];
}, 600_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Imports in process; `old` stands in for an older weld whose classifier understood nothing. */
async function importAll(dir: string, old: boolean): Promise<void> {
  vi.resetModules();
  if (old) {
    vi.doMock('../src/importer/scriptlets/index.js', async (actual) => {
      const real = await actual<typeof import('../src/importer/scriptlets/index.js')>();
      return { ...real, CLASSIFIER_VERSION: real.CLASSIFIER_VERSION - 1, classifyScriptlet: (s: { body: string }) => [{ kind: 'opaque', text: s.body.split('\n')[0] ?? '', reason: 'an older weld' }] };
    });
  } else vi.doUnmock('../src/importer/scriptlets/index.js');
  const { Store } = await import('../src/store/store.js');
  const { prepareFile, commitBatch } = await import('../src/importer/index.js');
  const store = Store.open(dir, { create: true });
  try {
    for (const f of files) for (const o of commitBatch(store, [await prepareFile(store, f)])) expect(o.status, o.reason).not.toBe('failed');
  } finally {
    store.close();
  }
}

const report = (dir: string) => {
  const r = weld(['scriptlets', '--json', '--store', dir]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.toString()) as { counts: Record<string, number> };
};

describe.skipIf(!canRun)('weld scriptlets after reclassification', () => {
  it('reports what a fresh store of the same packages reports', async () => {
    const fresh = path.join(tmp, 'fresh');
    const stale = path.join(tmp, 'stale');
    await importAll(fresh, false);
    await importAll(stale, true);
    const want = report(fresh);
    // the stand-in really is older: everything it classified is opaque
    expect(Object.keys(report(stale).counts)).toEqual(['opaque']);
    expect(Object.keys(want.counts).length).toBeGreaterThan(2);
    const again = weld(['import', '--store', stale, ...files]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/classified again/);
    expect(report(stale)).toEqual(want);
  }, 120_000);
});
