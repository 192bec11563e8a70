import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HashTree, hashData, leafDigests, zeroBlockDigest } from './hashtree.js';

const salt = createHash('sha256').update('salt').digest();
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 12)) & 0xff);

describe('leafDigests', () => {
  it('is H(salt ‖ block) per block, the last block zero-padded (type 1)', () => {
    const data = bytes(4096 + 10, 1);
    const d = leafDigests(data, salt);
    const padded = new Uint8Array(8192);
    padded.set(data);
    const h = (b: Uint8Array) => createHash('sha256').update(salt).update(b).digest();
    expect(Buffer.from(d)).toEqual(Buffer.concat([h(padded.subarray(0, 4096)), h(padded.subarray(4096))]));
  });
  it('type 0 is H(block ‖ salt)', () => {
    const data = bytes(4096, 2);
    expect(Buffer.from(leafDigests(data, salt, 'sha256', { hashType: 0 }))).toEqual(createHash('sha256').update(data).update(salt).digest());
  });
  it('gives the same digests whole, byte by byte and in random chunks', async () => {
    const data = bytes(3 * 4096 + 77, 3);
    const whole = leafDigests(data, salt);
    async function* pieces(sizes: () => number) {
      for (let at = 0; at < data.length; ) {
        const n = sizes();
        yield data.subarray(at, at + n);
        at += n;
      }
    }
    expect(await leafDigests(pieces(() => 1), salt)).toEqual(whole);
    let s = 7;
    expect(await leafDigests(pieces(() => (s = (s * 1103515245 + 12345) % 9001) + 1), salt)).toEqual(whole);
  });
  it('an empty object has no blocks', () => {
    expect(leafDigests(new Uint8Array(0), salt).length).toBe(0);
  });
});

describe('HashTree', () => {
  it('per-object leaves + zero runs equal hashing the laid-out image', async () => {
    // objects start on block boundaries; a zero gap between them
    const a = bytes(5000, 4);
    const b = bytes(3 * 4096, 5);
    const image = new Uint8Array(2 * 4096 + 4 * 4096 + 3 * 4096);
    image.set(a, 0);
    image.set(b, 6 * 4096);
    const tree = new HashTree({ salt }).addLeaves(leafDigests(a, salt)).addZeroBlocks(4).addLeaves(leafDigests(b, salt)).finish();
    const direct = await hashData(image, { salt });
    expect(tree.rootHex).toBe(direct.rootHex);
    expect(tree.hashArea).toEqual(direct.hashArea);
  });
  it.each([
    [1, 'sha256'],
    [128, 'sha256'],
    [129, 'sha256'],
    [300, 'sha256'],
    [300, 'sha1'],
  ] as const)('declaring %i blocks up front (%s) builds the same tree in place', (n, algorithm) => {
    const data = bytes(n * 4096, 9);
    const free = new HashTree({ salt, algorithm }).addBlocks(data).finish();
    const declared = new HashTree({ salt, algorithm, dataBlocks: n }).addBlocks(data.subarray(0, 4096)).addLeaves(leafDigests(data.subarray(4096), salt, algorithm)).finish();
    expect(declared.rootHex).toBe(free.rootHex);
    expect(declared.hashArea).toEqual(free.hashArea);
  });
  it('a declared block count is enforced', () => {
    expect(() => new HashTree({ salt, dataBlocks: 2 }).addZeroBlocks(3)).toThrow(/declared with 2/);
    expect(() => new HashTree({ salt, dataBlocks: 2 }).addZeroBlocks(1).finish()).toThrow(/1 were added/);
  });
  it('addBlocks equals addLeaves of the same data', () => {
    const data = bytes(300 * 4096, 6);
    const t1 = new HashTree({ salt }).addBlocks(data).finish();
    const t2 = new HashTree({ salt }).addLeaves(leafDigests(data, salt)).finish();
    expect(t1.rootHex).toBe(t2.rootHex);
  });
  it('zeroBlockDigest is the digest of a zero block', () => {
    expect(zeroBlockDigest(salt)).toEqual(leafDigests(new Uint8Array(4096), salt));
  });
  it('one block: no levels, root = H(salt ‖ block)', () => {
    const t = new HashTree({ salt }).addBlocks(bytes(4096, 8)).finish();
    expect(t.geometry.levels).toBe(0);
    expect(t.hashArea.length).toBe(0);
    expect(Buffer.from(t.rootHash)).toEqual(createHash('sha256').update(salt).update(bytes(4096, 8)).digest());
  });
  it('rejects ragged leaves and empty trees', () => {
    expect(() => new HashTree({ salt }).addLeaves(new Uint8Array(31))).toThrow(/multiple of 32/);
    expect(() => new HashTree({ salt }).finish()).toThrow(/at least one/);
  });
});
