import { describe, expect, it } from 'vitest';
import { isWeldError } from '../../errors.js';
import { readCpio } from './read.js';
import { encodeCpio } from './write.js';
import { run, has, ROOT } from '../../../test/helpers/tools.js';

async function* chunked(buf: Uint8Array, sizes: () => number) {
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, sizes());
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function collect(src: AsyncIterable<Uint8Array>, opts = { maxNameLength: 4096 } as Parameters<typeof readCpio>[1], skipEvery = 0) {
  const out: { name: string; size: number; mode: number; data: string; fileIndex: number }[] = [];
  let k = 0;
  for await (const e of readCpio(src, opts)) {
    let data = '';
    if (!(skipEvery && k++ % skipEvery === 0)) for await (const c of e.body) data += Buffer.from(c).toString('latin1');
    out.push({ name: e.name, size: e.size, mode: e.mode, data, fileIndex: e.fileIndex });
  }
  return out;
}

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const sample = encodeCpio([
  { name: './usr', mode: 0o40755 },
  { name: './usr/a', data: enc('hello') },
  { name: './usr/b', data: enc(''), crc: true },
  { name: './usr/c', data: enc('x'.repeat(1000)), crc: true },
  { name: './usr/l', mode: 0o120777, data: enc('a') },
  { strippedIndex: 7, data: enc('stripped!') },
]);
const want = [
  ['./usr', ''],
  ['./usr/a', 'hello'],
  ['./usr/b', ''],
  ['./usr/c', 'x'.repeat(1000)],
  ['./usr/l', 'a'],
  ['', 'stripped!'],
];
const opts = { maxNameLength: 4096, strippedSize: (fx: number) => (fx === 7 ? 9 : -1) };

describe('readCpio', () => {
  it('whole', async () => {
    const got = await collect(chunked(sample, () => sample.length), opts);
    expect(got.map((e) => [e.name, e.data])).toEqual(want);
    expect(got[5]!.fileIndex).toBe(7);
  });
  it('byte by byte', async () => {
    expect((await collect(chunked(sample, () => 1), opts)).map((e) => [e.name, e.data])).toEqual(want);
  });
  it('random chunks, and skipped bodies', async () => {
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 97) + 1;
    for (let r = 0; r < 30; r++) {
      expect((await collect(chunked(sample, rnd), opts)).map((e) => [e.name, e.data])).toEqual(want);
      const skipped = await collect(chunked(sample, rnd), opts, 2);
      expect(skipped.map((e) => e.name)).toEqual(want.map((w) => w[0]));
      expect(skipped[3]!.data).toBe(want[3]![1]);
    }
  });
  it('premature EOF at every byte is a format error with an offset', async () => {
    for (let n = 0; n < sample.length - 3; n++) {
      const err = await collect(chunked(sample.subarray(0, n), () => 7), opts).then(
        () => null,
        (e) => e,
      );
      expect(isWeldError(err) && err.kind === 'format', `cut at ${n}: ${err}`).toBe(true);
      expect(typeof err.data.offset).toBe('number');
    }
  });
  it('bad crc', async () => {
    const bad = encodeCpio([{ name: 'a', data: enc('abc'), crc: 5 }]);
    await expect(collect(chunked(bad, () => 4))).rejects.toThrow(/crc sum/);
  });
  it('bad magic and bad hex', async () => {
    const b = new Uint8Array(sample);
    b[0] = 0x39;
    await expect(collect(chunked(b, () => 100), opts)).rejects.toThrow(/bad magic/);
    const h = new Uint8Array(sample);
    h[10] = 0x7a;
    await expect(collect(chunked(h, () => 100), opts)).rejects.toThrow(/not 8 hex digits/);
  });
  it('name size limit', async () => {
    const long = encodeCpio([{ name: 'x'.repeat(300), data: enc('') }]);
    await expect(collect(chunked(long, () => 100), { maxNameLength: 255 })).rejects.toThrow(/name size/);
  });
  it('stripped entry without a header to size it', async () => {
    await expect(collect(chunked(encodeCpio([{ strippedIndex: 0, data: enc('') }]), () => 100))).rejects.toThrow(/stripped/);
  });
  it.skipIf(!has('cpio'))('reads what GNU cpio writes (newc and crc)', async () => {
    for (const fmt of ['newc', 'crc']) {
      const out = run('sh', ['-c', `cd ${ROOT}/src/formats && find cpio -print | LC_ALL=C sort | cpio -o -H ${fmt} 2>/dev/null`]).stdout;
      const got = await collect(chunked(new Uint8Array(out), () => 4093));
      const list = run('sh', ['-c', `cd ${ROOT}/src/formats && find cpio -print | LC_ALL=C sort`]).stdout.toString().trim().split('\n');
      expect(got.map((e) => e.name)).toEqual(list);
      const f = got.find((e) => e.name === 'cpio/read.ts')!;
      expect(f.data).toBe(run('cat', [`${ROOT}/src/formats/cpio/read.ts`]).stdout.toString('latin1'));
    }
  });
});
