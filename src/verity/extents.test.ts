import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Extent } from '../model.js';
import { hashTreeFromExtents, type ExtentSource } from './extents.js';
import { hashData, leafDigests } from './hashtree.js';

const salt = createHash('sha256').update('store salt').digest();
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 9)) & 0xff);

const objects: Record<string, Uint8Array> = { a: bytes(10000, 1), b: bytes(5000, 2), c: bytes(7000, 3), d: bytes(8192, 4) };

function source(calls: string[]): ExtentSource {
  return {
    leaves(o) {
      calls.push(`leaves ${o}`);
      return leafDigests(objects[o]!, salt);
    },
    read(o, off, len) {
      calls.push(`read ${o} ${off} ${len}`);
      return objects[o]!.subarray(off, off + len);
    },
  };
}

function materialize(extents: Extent[], size: number): Uint8Array {
  const img = new Uint8Array(Math.ceil(size / 4096) * 4096);
  for (const e of extents) {
    if (e.kind === 'bytes') img.set(e.data, e.offset);
    else if (e.kind === 'object') img.set(objects[e.object]!.subarray(0, e.size), e.offset);
  }
  return img;
}

describe('hashTreeFromExtents', () => {
  it('equals hashing the laid-out image, reusing aligned objects and reading only what shares a block', async () => {
    const extents: Extent[] = [
      { kind: 'bytes', offset: 0, data: bytes(1000, 9) },
      { kind: 'object', offset: 4096, object: 'a', size: 10000 }, // tail block ends in zeros: all leaves reused
      { kind: 'zero', offset: 16384, size: 8192 },
      { kind: 'object', offset: 24576, object: 'b', size: 5000 }, // tail block shared with the bytes after it
      { kind: 'bytes', offset: 29576, data: bytes(300, 8) },
      { kind: 'object', offset: 30000, object: 'c', size: 7000 }, // unaligned: read
      { kind: 'object', offset: 40960, object: 'd', size: 8192 },
    ];
    const size = 40960 + 8192 + 20000;
    const calls: string[] = [];
    const { hashTree: tree, stats } = await hashTreeFromExtents(extents, size, { salt }, source(calls));
    const direct = await hashData(materialize(extents, size), { salt });
    expect(tree.rootHex).toBe(direct.rootHex);
    expect(tree.hashArea).toEqual(direct.hashArea);
    expect(calls).toEqual(['leaves a', 'leaves b', 'read b 4096 904', 'read c 0 7000', 'leaves d']);
    expect(stats.reusedBlocks).toBe(3 + 1 + 2);
    expect(stats.reusedBlocks + stats.zeroBlocks + stats.hashedBlocks).toBe(tree.params.dataBlocks);
  });
  it('equals hashing the laid-out image for random layouts', async () => {
    let seed = 4242;
    const rnd = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * n);
    for (let iter = 0; iter < 60; iter++) {
      const extents: Extent[] = [];
      let at = 0;
      for (let k = 0; k < 8; k++) {
        at += [0, 1, 100, 4096, 4096 - (at % 4096)][rnd(5)]!; // gaps, some landing on block boundaries
        const pick = rnd(3);
        if (pick === 0) {
          const data = bytes(rnd(9000), k);
          extents.push({ kind: 'bytes', offset: at, data });
          at += data.length;
        } else if (pick === 1) {
          const size = rnd(9000);
          extents.push({ kind: 'zero', offset: at, size });
          at += size;
        } else {
          const object = 'abcd'[rnd(4)]!;
          const size = objects[object]!.length;
          extents.push({ kind: 'object', offset: at, object, size });
          at += size;
        }
      }
      const size = at + rnd(10000);
      const { hashTree: tree, stats } = await hashTreeFromExtents(extents, size, { salt }, source([]));
      const direct = await hashData(materialize(extents, size), { salt });
      expect(tree.rootHex, `layout ${iter}`).toBe(direct.rootHex);
      expect(stats.reusedBlocks + stats.zeroBlocks + stats.hashedBlocks).toBe(tree.params.dataBlocks);
    }
  });
  it('rejects overlapping extents and extents past the end', async () => {
    const calls: string[] = [];
    await expect(hashTreeFromExtents([{ kind: 'zero', offset: 0, size: 100 }, { kind: 'bytes', offset: 50, data: new Uint8Array(10) }], 4096, { salt }, source(calls))).rejects.toThrow(/overlapping/);
    await expect(hashTreeFromExtents([{ kind: 'zero', offset: 0, size: 5000 }], 4096, { salt }, source(calls))).rejects.toThrow(/past the image end/);
  });
});
