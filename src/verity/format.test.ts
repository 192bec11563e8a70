import { describe, expect, it } from 'vitest';
import { isWeldError } from '../errors.js';
import { dumpSuperblock, parseSuperblock, SB, superblock, hashTreeGeometry, type SuperblockFields } from './format.js';

const fields: SuperblockFields = { algorithm: 'sha256', hashType: 1, dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: 129, salt: new Uint8Array(32).fill(0xab), uuid: '12345678-1234-1234-1234-123456789abc' };

describe('verity superblock', () => {
  it('round-trips', () => {
    const sb = superblock(fields);
    expect(sb.length).toBe(512);
    expect(parseSuperblock(sb)).toEqual(fields);
    expect(dumpSuperblock(fields)).toContain('level 0: 2 blocks at hash block 2');
  });
  it.each([
    ['signature', SB.signature],
    ['version', SB.version],
    ['hash type', SB.hashType],
    ['algorithm', SB.algorithm],
    ['block size', SB.dataBlockSize + 1],
    ['salt size', SB.saltSize + 1],
  ])('rejects a corrupt %s as a format error', (_name, at) => {
    const sb = superblock(fields);
    sb[at] ^= 0x5a;
    try {
      parseSuperblock(sb);
      expect.unreachable();
    } catch (e) {
      expect(isWeldError(e) && e.kind).toBe('format');
    }
  });
  it('rejects a short buffer', () => {
    expect(() => parseSuperblock(superblock(fields).subarray(0, 100))).toThrow(/Cannot read verity/);
  });
});

describe('tree geometry (REFERENCE.md level math)', () => {
  it.each([
    [1, 0, []],
    [128, 1, [1]],
    [129, 2, [2, 1]],
    [16384, 2, [128, 1]],
    [16385, 3, [129, 2, 1]],
  ])('%i blocks → %i levels %j', (n, levels, blocks) => {
    const g = hashTreeGeometry({ ...fields, dataBlocks: n });
    expect(g.levels).toBe(levels);
    expect(g.levelBlocks).toEqual(blocks);
    // top level first on disk
    if (levels) expect(g.levelStart[levels - 1]).toBe(0);
  });
});

describe('hostile superblocks', () => {
  it('any mutation parses or throws a WeldError, never anything else', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const sb = superblock(fields);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) sb[Math.floor(rnd() * 120)] = Math.floor(rnd() * 256);
      try {
        parseSuperblock(sb.subarray(0, rnd() < 0.1 ? Math.floor(rnd() * 512) : 512));
      } catch (e) {
        expect(isWeldError(e)).toBe(true);
      }
    }
  });
});
