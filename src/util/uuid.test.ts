import { describe, expect, it } from 'vitest';
import { deriveUuid, formatUuid, parseUuid } from './uuid.js';

describe('uuids', () => {
  it('derives the same v8 uuid from the same inputs, a different one otherwise', () => {
    const salt = new Uint8Array(32).fill(1);
    const a = deriveUuid('verity', salt, new Uint8Array([1, 2]));
    expect(deriveUuid('verity', salt, new Uint8Array([1, 2]))).toBe(a);
    expect(deriveUuid('verity', salt, new Uint8Array([1]), new Uint8Array([2]))).not.toBe(a);
    expect(deriveUuid('disk', salt, new Uint8Array([1, 2]))).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('parses and formats in text byte order', () => {
    const u = '00112233-4455-6677-8899-aabbccddeeff';
    expect(Buffer.from(parseUuid(u)).toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(formatUuid(parseUuid(u))).toBe(u);
    expect(() => parseUuid('0011-2233')).toThrow(/Cannot parse UUID/);
  });
});
