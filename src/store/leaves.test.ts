import { describe, expect, it } from 'vitest';
import { decodeLeafPack, encodeLeafPack } from './leaves.js';
import { isWeldError } from '../errors.js';

const id = (k: number) => k.toString(16).padStart(64, '0');
const digests = (n: number, seed: number) => Uint8Array.from({ length: n * 32 }, (_, i) => (i * 31 + seed) & 0xff);

describe('leaf pack', () => {
  it('round-trips objects of 0, 1 and many blocks, sorted by id', () => {
    const m = new Map([
      [id(3), digests(5, 3)],
      [id(1), digests(1, 1)],
      [id(2), new Uint8Array(0)],
    ]);
    const blob = encodeLeafPack(m, 32);
    expect(blob.length).toBe(2 + 3 * 36 + 6 * 32);
    const back = decodeLeafPack(blob);
    expect([...back.keys()]).toEqual([id(1), id(2), id(3)]);
    for (const [k, v] of m) expect(Buffer.from(back.get(k)!).equals(Buffer.from(v))).toBe(true);
  });

  it('refuses truncated packs, unknown versions and partial digests', () => {
    const blob = encodeLeafPack(new Map([[id(7), digests(2, 7)]]), 32);
    const expectFormatError = (f: () => unknown, re: RegExp) => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isWeldError(err)).toBe(true);
      expect(String((err as Error).message)).toMatch(re);
    };
    expectFormatError(() => decodeLeafPack(blob.subarray(0, blob.length - 1)), /digests/);
    expectFormatError(() => decodeLeafPack(Uint8Array.from([2, 32])), /version 2/);
    expectFormatError(() => encodeLeafPack(new Map([[id(1), new Uint8Array(33)]]), 32), /whole number/);
  });
});
