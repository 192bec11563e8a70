/**
 * `weld verify` streams: a sealed 5 GiB DDI (sparse, with random data at
 * its start and past 4 GiB) verifies with a peak RSS under 256 MiB. The
 * image is sealed with weld's own HashTree (zero runs cost nothing), so only
 * the verify itself hashes all 5 GiB.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ddiLayout } from '../src/formats/ddi/index.js';
import { deriveUuid, hashDevice, HashTree } from '../src/verity/index.js';
import { has, ROOT, run } from './helpers/tools.js';

const GIB = 1024 ** 3;
const BLOCK = 4096;
const canRun = has('/usr/bin/time') && existsSync(path.join(ROOT, 'dist/cli/main.js'));
const dir = mkdtempSync(path.join(tmpdir(), 'weld-verify-mem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a sparse DDI of `size` data bytes with `chunks` of random data; returns its root hash. */
function sparseDdi(file: string, size: number, chunks: { at: number; data: Uint8Array }[]): string {
  const salt = Uint8Array.from(randomBytes(32));
  const tree = new HashTree({ salt, dataBlocks: size / BLOCK });
  let at = 0;
  for (const c of chunks) {
    tree.addZeroBlocks((c.at - at) / BLOCK);
    tree.addBlocks(c.data);
    at = c.at + c.data.length;
  }
  tree.addZeroBlocks((size - at) / BLOCK);
  const sealed = tree.finish();
  const verity = hashDevice(sealed, deriveUuid('verity', salt, sealed.rootHash));
  const l = ddiLayout({ rootSize: size, veritySize: Math.ceil(verity.length / BLOCK) * BLOCK, rootHash: sealed.rootHex });
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, l.totalSize);
    writeSync(fd, l.headBytes, 0, l.headBytes.length, 0);
    for (const c of chunks) writeSync(fd, c.data, 0, c.data.length, l.partitions[0]!.start + c.at);
    writeSync(fd, verity, 0, verity.length, l.partitions[1]!.start);
    writeSync(fd, l.tailBytes, 0, l.tailBytes.length, l.totalSize - l.tailBytes.length);
  } finally {
    closeSync(fd);
  }
  return sealed.rootHex;
}

describe.skipIf(!canRun)('weld verify in bounded memory', () => {
  it('verifies a 5 GiB sparse image with peak RSS under 256 MiB', { timeout: 120_000 }, () => {
    const img = path.join(dir, 'big.img');
    const size = 5 * GIB;
    const root = sparseDdi(img, size, [
      { at: 0, data: Uint8Array.from(randomBytes(1 << 20)) },
      { at: 4 * GIB + 12 * BLOCK, data: Uint8Array.from(randomBytes(1 << 20)) },
    ]);
    const r = run('/usr/bin/time', ['-v', process.execPath, path.join(ROOT, 'dist/cli/main.js'), 'verify', img, '--root-hash', root, '--json'], { allowFail: true });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ ok: true, dataBlocks: size / BLOCK });
    const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    expect(kib).toBeGreaterThan(0);
    expect(kib / 1024).toBeLessThan(256);
  });
});
