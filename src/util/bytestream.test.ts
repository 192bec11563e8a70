import { describe, expect, it } from 'vitest';
import { ByteStream } from './bytestream.js';

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const bytes = Uint8Array.from({ length: 40 }, (_, i) => i);

describe('ByteStream', () => {
  for (const size of [1, 3, 7, 40]) {
    it(`reads exact, some, peek and skip the same in chunks of ${size}`, async () => {
      const s = new ByteStream(chunks(bytes, size), 'test', 'sample');
      expect([...(await s.peek(5))]).toEqual([0, 1, 2, 3, 4]);
      expect([...(await s.exact(10, 'head'))]).toEqual([...bytes.subarray(0, 10)]);
      const part = await s.some(4, 'part');
      expect(part.length).toBeGreaterThan(0);
      expect(part[0]).toBe(10);
      await s.skip(20 - part.length, 'gap');
      expect(s.offset).toBe(30);
      expect([...(await s.exact(10, 'tail'))]).toEqual([...bytes.subarray(30)]);
      expect(await s.atEnd()).toBe(true);
      expect(await s.chunk()).toBeNull();
      expect(await s.tryExact(1)).toBeNull();
    });
  }

  it('names field, offset and missing bytes at premature end', async () => {
    const s = new ByteStream(chunks(bytes, 3), 'test', 'sample');
    await s.exact(35, 'head');
    await expect(s.exact(8, 'trailer')).rejects.toThrow('Cannot read test trailer in sample at offset 40: unexpected end of data (3 more bytes needed)');
  });

  it('takes the caller’s end-of-data error', async () => {
    const s = new ByteStream(chunks(bytes, 3), 'test', 'sample', (field, offset, needed) => new Error(`${field}@${offset}+${needed}`));
    await expect(s.exact(50, 'all')).rejects.toThrow('all@40+10');
  });

  it('closes an input it did not finish', async () => {
    let closed = false;
    async function* input(): AsyncGenerator<Uint8Array> {
      try {
        yield bytes;
        yield bytes;
      } finally {
        closed = true;
      }
    }
    const s = new ByteStream(input(), 'test', 'sample');
    await s.exact(1, 'first');
    await s.close();
    expect(closed).toBe(true);
  });
});
