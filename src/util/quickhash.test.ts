import { describe, expect, it } from 'vitest';
import { quickHash } from './quickhash.js';

describe('quickHash', () => {
  it('names the same text the same way, as a string or as its UTF-8 bytes', () => {
    expect(quickHash('{"v":2,"store":"/s"}')).toMatch(/^[0-9a-f]{16}$/);
    expect(quickHash('{"v":2,"store":"/s"}')).toBe(quickHash(new TextEncoder().encode('{"v":2,"store":"/s"}')));
    expect(quickHash('é')).toBe(quickHash(Uint8Array.of(0xc3, 0xa9)));
  });

  it('separates near-identical cache keys (one byte, order, length)', () => {
    const keys = ['', '\0', '\0\0', 'a', 'b', 'ab', 'ba', '{"db":"1:2:3"}', '{"db":"1:2:4"}', '{"db":"1:2:3"} ', 'x'.repeat(4096), 'x'.repeat(4095) + 'y'];
    const seen = new Set(keys.map(quickHash));
    expect(seen.size).toBe(keys.length);
  });
});
