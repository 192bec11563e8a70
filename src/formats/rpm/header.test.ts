import { describe, expect, it } from 'vitest';
import { isWeldError } from '../../errors.js';
import { DEFAULT_LIMITS } from '../../model.js';
import { encodeHeader, encodeLead } from './encode.js';
import { parseHeaderBlob, parseLead } from './header.js';
import { RPM_TYPE, TAG, senseOp, fileFlagNames, tagName, tagNumber } from './tags.js';
import { parseRichDep } from './richdep.js';
import { parseSignaturePacket } from './openpgp.js';

const L = { maxHeaderBytes: 1 << 20, maxHeaderEntries: 1000 };
const formatErr = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(isWeldError(e) && e.kind === 'format', String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a format error');
};

describe('rpm header codec', () => {
  const all = encodeHeader(
    [
      { tag: TAG.NAME, type: RPM_TYPE.STRING, value: ['hello'] },
      { tag: TAG.SUMMARY, type: RPM_TYPE.I18NSTRING, value: ['C summary', 'de summary'] },
      { tag: TAG.FILEMODES, type: RPM_TYPE.INT16, value: [0o100644, 0o40755] },
      { tag: TAG.EPOCH, type: RPM_TYPE.INT32, value: [4294967295] },
      { tag: TAG.LONGSIZE, type: RPM_TYPE.INT64, value: [2 ** 40 + 3] },
      { tag: TAG.FILESTATES, type: RPM_TYPE.CHAR, value: [1, 2] },
      { tag: 5500, type: RPM_TYPE.INT8, value: [255] },
      { tag: TAG.SIGMD5, type: RPM_TYPE.BIN, value: new Uint8Array([1, 2, 3]) },
      { tag: TAG.BASENAMES, type: RPM_TYPE.STRING_ARRAY, value: ['a', '', new Uint8Array([0xff, 0x41])] },
    ],
    { region: TAG.HEADERIMMUTABLE },
  );

  it('decodes every tag type', () => {
    const h = parseHeaderBlob(all, L, { name: 'header' });
    expect(h.stringBytes(TAG.NAME)!.map((b) => Buffer.from(b).toString())).toEqual(['hello']);
    expect(h.stringBytes(TAG.SUMMARY)!.length).toBe(2);
    expect(h.numbers(TAG.FILEMODES)).toEqual([0o100644, 0o40755]);
    expect(h.numbers(TAG.EPOCH)).toEqual([4294967295]);
    expect(h.numbers(TAG.LONGSIZE)).toEqual([2 ** 40 + 3]);
    expect(h.numbers(TAG.FILESTATES)).toEqual([1, 2]);
    expect(h.numbers(5500)).toEqual([255]);
    expect([...h.bin(TAG.SIGMD5)!]).toEqual([1, 2, 3]);
    expect(h.stringBytes(TAG.BASENAMES)!.map((b) => [...b])).toEqual([[0x61], [], [0xff, 0x41]]);
    expect(h.size).toBe(all.length);
  });

  it('rejects a type mismatch on access', () => {
    const h = parseHeaderBlob(all, L, { name: 'header' });
    expect(formatErr(() => h.numbers(TAG.NAME))).toMatch(/tag 1000: type STRING where a number/);
  });

  const patch = (at: number, v: number) => {
    const b = Buffer.from(all);
    b.writeUInt32BE(v >>> 0, at);
    return new Uint8Array(b);
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', new Uint8Array([0x8e, 0xad, 0xe8, 0x02, ...all.subarray(4)]), /bad magic/],
    ['count overflow', patch(8, 0xffffffff), /entries exceed limit/],
    ['zero entries', patch(8, 0), /entries exceed limit/],
    ['data size past limit', patch(12, 0x7fffffff), /exceed limit/],
    ['store shorter than declared', patch(12, 10000), /needs/],
    ['offset past end', patch(16 + 16 + 8, 100000), /outside/],
    ['negative offset', patch(16 + 16 + 8, -5), /outside/],
    ['unknown type', patch(16 + 16 + 4, 42), /unknown type 42/],
    ['huge count', patch(16 + 3 * 16 + 12, 0x40000000), /count/],
    ['misaligned int32', patch(16 + 4 * 16 + 8, 1), /aligned|overlap/],
  ];
  for (const [name, buf, re] of cases) it(`hostile: ${name}`, () => expect(formatErr(() => parseHeaderBlob(buf, L, { name: 'header' }))).toMatch(re));

  it('hostile: overlapping entries', () => {
    const b = Buffer.from(all);
    // point FILEMODES (entry 3) at NAME's bytes' neighbourhood: offset 0 is where the region trailer is not; NAME lives at 0
    b.writeInt32BE(0, 16 + 3 * 16 + 8);
    expect(formatErr(() => parseHeaderBlob(new Uint8Array(b), L, { name: 'header' }))).toMatch(/overlap/);
  });

  it('hostile: string without NUL', () => {
    const h = encodeHeader([{ tag: TAG.NAME, type: RPM_TYPE.STRING, value: ['abc'] }]);
    const b = Buffer.from(h);
    b[b.length - 1] = 0x41;
    expect(formatErr(() => parseHeaderBlob(new Uint8Array(b), L, { name: 'header' }))).toMatch(/no terminating NUL/);
  });

  it('hostile: bad region trailer', () => {
    const b = Buffer.from(all);
    b.writeInt32BE(-16 * 500, b.length - 8); // trailer offset claims 500 entries
    expect(formatErr(() => parseHeaderBlob(new Uint8Array(b), L, { name: 'header' }))).toMatch(/region trailer/);
  });

  it('truncation at every byte is a format error', () => {
    for (let n = 0; n < all.length; n++) formatErr(() => parseHeaderBlob(all.subarray(0, n), L, { name: 'header' }));
  });

  it('never crashes on random byte flips', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 3000; k++) {
      const b = new Uint8Array(all);
      for (let j = 0; j < 3; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        const h = parseHeaderBlob(b, L, { name: 'header' });
        for (const t of h.entries.keys()) {
          try {
            h.stringBytes(t);
          } catch (e) {
            if (!isWeldError(e)) throw e;
          }
          try {
            h.numbers(t);
          } catch (e) {
            if (!isWeldError(e)) throw e;
          }
        }
      } catch (e) {
        expect(isWeldError(e), String(e)).toBe(true);
      }
    }
  });

  it('lead', () => {
    expect(parseLead(encodeLead('foo-1-1', 1))).toMatchObject({ major: 3, type: 1, name: 'foo-1-1', signatureType: 5 });
    const bad = encodeLead('x');
    bad[0] = 0;
    expect(formatErr(() => parseLead(bad))).toMatch(/not an rpm/);
    expect(formatErr(() => parseLead(encodeLead('x').subarray(0, 50)))).toMatch(/offset/);
  });
});

describe('rpm tags', () => {
  it('names and numbers', () => {
    expect(tagName(1000)).toBe('NAME');
    expect(tagNumber('RPMTAG_PAYLOADDIGESTALT')).toBe(5097);
    expect(tagNumber('openpgp')).toBe(278);
    expect(tagNumber('rpmformat')).toBe(5114);
  });
  it('sense ops', () => {
    expect([0, 2, 4, 8, 10, 12, 8 | (1 << 24)].map(senseOp)).toEqual(['', '<', '>', '=', '<=', '>=', '=']);
  });
  it('file flags', () => {
    expect(fileFlagNames(1 | 16 | 64 | 4096)).toEqual(['artifact', 'config', 'ghost', 'noreplace']);
  });
});

describe('parseRichDep', () => {
  const a = (name: string, op = '', evr = '') => ({ op: 'atom', dep: { name, op, evr } });
  const table: [string, unknown][] = [
    ['(a and (b or c))', { op: 'and', args: [a('a'), { op: 'or', args: [a('b'), a('c')] }] }],
    ['(a and b and c)', { op: 'and', args: [a('a'), a('b'), a('c')] }],
    ['(x if y else z)', { op: 'if', cond: a('y'), then: a('x'), else: a('z') }],
    ['(x unless y)', { op: 'unless', cond: a('y'), then: a('x') }],
    ['(pkgA >= 1.0 with pkgA < 2.0)', { op: 'with', args: [a('pkgA', '>=', '1.0'), a('pkgA', '<', '2.0')] }],
    ['(foo without foo-devel)', { op: 'without', args: [a('foo'), a('foo-devel')] }],
    ['(perl(Foo::Bar) >= 1:2.0-1 or python3dist(x))', { op: 'or', args: [a('perl(Foo::Bar)', '>=', '1:2.0-1'), a('python3dist(x)')] }],
    ['((a or b) if c)', { op: 'if', cond: a('c'), then: { op: 'or', args: [a('a'), a('b')] } }],
  ];
  for (const [text, want] of table) it(text, () => expect(parseRichDep(text)).toEqual(want));
  for (const bad of ['a and b', '(a and b', '(a and b or c)', '(a foo b)', '()', '(a and b))', '(and b)']) {
    it(`rejects ${bad}`, () => formatErr(() => parseRichDep(bad)));
  }
});

describe('OpenPGP signature packets', () => {
  it('v4 with issuer subpacket', () => {
    const body = Buffer.concat([Buffer.from('04000108', 'hex'), Buffer.from('0006', 'hex'), Buffer.from('05025800000000', 'hex').subarray(0, 6), Buffer.from('000a', 'hex'), Buffer.from('09104344591e1964c5fc', 'hex'), Buffer.alloc(4)]);
    const pkt = Buffer.concat([Buffer.from([0x88, body.length]), body]);
    expect(parseSignaturePacket(pkt)).toMatchObject({ version: 4, kind: 'rsa', hashAlgo: 'sha256', keyId: '4344591e1964c5fc' });
  });
  it('v6 with issuer fingerprint, new-format length', () => {
    const fpr = Buffer.alloc(32, 0xab);
    fpr[0] = 0x12;
    const sub = Buffer.concat([Buffer.from([34, 33, 6]), fpr]);
    const body = Buffer.concat([Buffer.from([6, 0, 27, 10]), u32(sub.length), sub, u32(0), Buffer.alloc(2 + 16 + 64)]);
    const pkt = Buffer.concat([Buffer.from([0xc2, body.length]), body]);
    expect(parseSignaturePacket(pkt)).toMatchObject({ version: 6, kind: 'eddsa', hashAlgo: 'sha512', keyId: '12abababababab' + 'ab' });
  });
  it('v3', () => {
    const body = Buffer.concat([Buffer.from([3, 5, 0, 0, 0, 0, 0]), Buffer.from('0102030405060708', 'hex'), Buffer.from([17, 2]), Buffer.alloc(10)]);
    expect(parseSignaturePacket(Buffer.concat([Buffer.from([0x88, body.length]), body]))).toMatchObject({ version: 3, kind: 'dsa', hashAlgo: 'sha1', keyId: '0102030405060708' });
  });
  it('truncation at every byte is a format error', () => {
    const fpr = Buffer.alloc(20, 1);
    const sub = Buffer.concat([Buffer.from([22, 33, 4]), fpr]);
    const body = Buffer.concat([Buffer.from([4, 0, 1, 8]), Buffer.from([0, sub.length]), sub, Buffer.from([0, 0]), Buffer.alloc(2)]);
    const pkt = Buffer.concat([Buffer.from([0x88, body.length]), body]);
    expect(parseSignaturePacket(pkt).keyId).toBe('0101010101010101');
    for (let n = 0; n < pkt.length - 2; n++) formatErr(() => parseSignaturePacket(pkt.subarray(0, n)));
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
