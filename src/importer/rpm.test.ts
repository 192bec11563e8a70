import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isWeldError } from '../errors.js';
import type { ContentSink } from '../model.js';
import { encodeHeader, encodeLead, type EncodeEntry } from '../formats/rpm/encode.js';
import { RPM_TYPE as T, TAG } from '../formats/rpm/tags.js';
import { encodeCpio, type CpioWriteEntry } from '../formats/cpio/write.js';
import { memorySink } from '../store/sink.js';
import { blake3Hex } from '../store/hash.js';
import { readRpm, parseRichDep } from './rpm.js';

const WHERE = 'tiny-1.0-1.noarch.rpm';
const enc = (s: string) => new Uint8Array(Buffer.from(s));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface F {
  dir: string;
  base: string;
  mode: number;
  data?: string;
  flags?: number;
  inode?: number;
  link?: string;
}
const FILES: F[] = [
  { dir: '/usr/', base: 'bin', mode: 0o40755, inode: 1 },
  { dir: '/usr/bin/', base: 'a', mode: 0o100755, data: 'alpha\n', inode: 2 },
  { dir: '/usr/bin/', base: 'b', mode: 0o100644, data: 'shared', inode: 3 },
  { dir: '/usr/bin/', base: 'c', mode: 0o100644, data: 'shared', inode: 3 },
  { dir: '/usr/bin/', base: 'g', mode: 0o100644, data: '', flags: 64, inode: 4 },
  { dir: '/usr/bin/', base: 'l', mode: 0o120777, link: 'a', inode: 5 },
  { dir: '/usr/bin/', base: '\xff', mode: 0o100644, data: '', inode: 6 },
];

function build(o: { files?: F[]; cpio?: CpioWriteEntry[]; tamper?: (e: EncodeEntry[]) => void; payloadDigest?: string; long?: boolean } = {}): Uint8Array {
  const files = o.files ?? FILES;
  const dirs = [...new Set(files.map((f) => f.dir))];
  const cpioEntries: CpioWriteEntry[] =
    o.cpio ??
    files
      .filter((f) => !((f.flags ?? 0) & 64))
      .map((f, i, arr) => {
        const isEarlierLink = arr.slice(i + 1).some((g) => g.inode === f.inode);
        const data = f.link ?? (isEarlierLink ? '' : f.data ?? '');
        const name = '.' + f.dir + f.base;
        const fx = files.indexOf(f);
        return o.long ? { strippedIndex: fx, data: enc(data) } : { name: name, mode: f.mode, data: new Uint8Array(Buffer.from(data, 'latin1')), nlink: 1 };
      });
  const payload = gzipSync(encodeCpio(cpioEntries));
  const h: EncodeEntry[] = [
    { tag: TAG.NAME, type: T.STRING, value: ['tiny'] },
    { tag: TAG.VERSION, type: T.STRING, value: ['1.0'] },
    { tag: TAG.RELEASE, type: T.STRING, value: ['1'] },
    { tag: TAG.SUMMARY, type: T.I18NSTRING, value: ['Tiny'] },
    { tag: TAG.ARCH, type: T.STRING, value: ['noarch'] },
    { tag: TAG.SOURCERPM, type: T.STRING, value: ['tiny-1.0-1.src.rpm'] },
    { tag: TAG.PREIN, type: T.STRING, value: ['echo hi'] },
    { tag: TAG.PREINPROG, type: T.STRING_ARRAY, value: ['/bin/sh'] },
    { tag: TAG.POSTINPROG, type: T.STRING_ARRAY, value: ['/sbin/ldconfig'] },
    { tag: TAG.REQUIRENAME, type: T.STRING_ARRAY, value: ['/bin/sh', 'rpmlib(CompressedFileNames)', '(a or b)'] },
    { tag: TAG.REQUIREVERSION, type: T.STRING_ARRAY, value: ['', '3.0.4-1', ''] },
    { tag: TAG.REQUIREFLAGS, type: T.INT32, value: [1 << 9, (1 << 24) | 8 | 2, 1 << 29] },
    { tag: TAG.FILEMODES, type: T.INT16, value: files.map((f) => f.mode) },
    { tag: o.long ? TAG.LONGFILESIZES : TAG.FILESIZES, type: o.long ? T.INT64 : T.INT32, value: files.map((f) => (f.link ?? f.data ?? '').length) },
    { tag: TAG.FILEMTIMES, type: T.INT32, value: files.map(() => 1700000000) },
    { tag: TAG.FILEDIGESTS, type: T.STRING_ARRAY, value: files.map((f) => (f.data !== undefined && !f.link ? sha256(Buffer.from(f.data, 'latin1')) : '')) },
    { tag: TAG.FILELINKTOS, type: T.STRING_ARRAY, value: files.map((f) => f.link ?? '') },
    { tag: TAG.FILEFLAGS, type: T.INT32, value: files.map((f) => f.flags ?? 0) },
    { tag: TAG.FILEUSERNAME, type: T.STRING_ARRAY, value: files.map(() => 'root') },
    { tag: TAG.FILEGROUPNAME, type: T.STRING_ARRAY, value: files.map(() => 'root') },
    { tag: TAG.FILEDEVICES, type: T.INT32, value: files.map(() => 1) },
    { tag: TAG.FILEINODES, type: T.INT32, value: files.map((f) => f.inode ?? 0) },
    { tag: TAG.DIRINDEXES, type: T.INT32, value: files.map((f) => dirs.indexOf(f.dir)) },
    { tag: TAG.BASENAMES, type: T.STRING_ARRAY, value: files.map((f) => new Uint8Array(Buffer.from(f.base, 'latin1'))) },
    { tag: TAG.DIRNAMES, type: T.STRING_ARRAY, value: dirs },
    { tag: TAG.PAYLOADFORMAT, type: T.STRING, value: ['cpio'] },
    { tag: TAG.PAYLOADCOMPRESSOR, type: T.STRING, value: ['gzip'] },
    { tag: TAG.FILEDIGESTALGO, type: T.INT32, value: [8] },
    { tag: TAG.PAYLOADDIGEST, type: T.STRING_ARRAY, value: [o.payloadDigest ?? sha256(payload)] },
    { tag: TAG.PAYLOADDIGESTALGO, type: T.INT32, value: [8] },
  ];
  o.tamper?.(h);
  const sig = encodeHeader([{ tag: 1000, type: T.INT32, value: [0] }], { region: TAG.HEADERSIGNATURES });
  const pad = new Uint8Array((8 - (sig.length % 8)) % 8);
  return new Uint8Array(Buffer.concat([encodeLead('tiny-1.0-1'), sig, pad, encodeHeader(h, { region: TAG.HEADERIMMUTABLE }), payload]));
}

async function* chunks(b: Uint8Array, n = 4096) {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}

function trackingSink(): ContentSink & { aborted: number; objects: Map<string, Buffer> } {
  const inner = memorySink();
  const s = {
    aborted: 0,
    objects: inner.objects,
    open() {
      const w = inner.open();
      return { write: w.write, close: w.close, abort: async () => void s.aborted++ };
    },
  };
  return s;
}

async function fails(pkg: Uint8Array, re: RegExp, chunk = 4096) {
  const sink = trackingSink();
  const err = await readRpm(chunks(pkg, chunk), { sink, where: WHERE }).then(
    () => null,
    (e) => e,
  );
  expect(isWeldError(err) && err.kind === 'format', String(err)).toBe(true);
  expect(err.message).toContain(WHERE);
  expect(err.message, err.message).toMatch(re);
  return sink;
}

describe('readRpm on synthetic packages', () => {
  it('reads metadata, files, hardlinks, ghosts and content', async () => {
    const sink = memorySink();
    const m = await readRpm(chunks(build(), 7), { sink, where: WHERE, classify: (s) => [{ kind: 'noop', what: s.phase }] });
    expect([m.name, m.version, m.release, m.arch, m.epoch, m.isSource, m.formatVersion]).toEqual(['tiny', '1.0', '1', 'noarch', null, false, '4']);
    expect(m.requires).toEqual([
      { name: '/bin/sh', op: '', evr: '', sense: 1 << 9 },
      { name: 'rpmlib(CompressedFileNames)', op: '<=', evr: '3.0.4-1', sense: (1 << 24) | 10 },
      { name: '(a or b)', op: '', evr: '', sense: 1 << 29 },
    ]);
    expect(parseRichDep((m.requires[2] as { name: string }).name)).toMatchObject({ op: 'or' });
    expect(m.scriptlets.map((s) => [s.phase, s.interpreter, s.body, s.actions])).toEqual([
      ['pre', '/bin/sh', 'echo hi', [{ kind: 'noop', what: 'pre' }]],
      ['post', '/sbin/ldconfig', '', [{ kind: 'noop', what: 'post' }]],
    ]);
    const by = Object.fromEntries(m.files.map((f) => [f.path, f]));
    expect(by['/usr/bin/a']!.object).toBe(blake3Hex(enc('alpha\n')));
    expect(by['/usr/bin/b']!.object).toBe(blake3Hex(enc('shared')));
    expect(by['/usr/bin/c']!.object).toBe(by['/usr/bin/b']!.object);
    expect(by['/usr/bin/b']!.hardlink).toBeGreaterThan(0);
    expect(by['/usr/bin/b']!.hardlink).toBe(by['/usr/bin/c']!.hardlink);
    expect(by['/usr/bin/a']!.hardlink).toBeUndefined();
    expect(by['/usr/bin/g']!.flags).toEqual(['ghost']);
    expect(by['/usr/bin/g']!.object).toBe('');
    expect(by['/usr/bin/l']).toMatchObject({ type: 'symlink', target: 'a', object: '', size: 1 });
    expect(by['/usr/bin/\\xff']!.pathBytes).toEqual(new Uint8Array([0x2f, 0x75, 0x73, 0x72, 0x2f, 0x62, 0x69, 0x6e, 0x2f, 0xff]));
    expect(m.payload).toMatchObject({ format: 'cpio', compressor: 'gzip', digestAlgo: 'sha256' });
  });

  it('reads rpm\'s stripped 07070X payload with LONGFILESIZES', async () => {
    const m = await readRpm(chunks(build({ long: true }), 5), { sink: memorySink(), where: WHERE });
    expect(m.files.find((f) => f.path === '/usr/bin/c')!.object).toBe(blake3Hex(enc('shared')));
  });

  it('truncation at every byte is a format error naming the file', async () => {
    const pkg = build();
    for (let n = 0; n < pkg.length; n += n < 600 ? 1 : 3) await fails(pkg.subarray(0, n), /./, 64);
  }, 60_000);

  it('file digest mismatch names the file and both digests, and aborts the writer', async () => {
    const sink = await fails(
      build({ tamper: (h) => ((h.find((e) => e.tag === TAG.FILEDIGESTS)!.value as string[])[1] = sha256('other')) }),
      new RegExp(`/usr/bin/a .*${sha256('alpha\n')}.*${sha256('other')}`),
    );
    expect(sink.aborted).toBe(1);
  });

  it('payload digest mismatch', () => fails(build({ payloadDigest: sha256('x') }), /PAYLOADDIGEST/));
  it('cpio name not in the header', () => fails(build({ cpio: [{ name: './usr/bin/zz', data: enc('a') }] }), /not in the header/));
  it('cpio name with ..', () => fails(build({ cpio: [{ name: './usr/../etc/passwd', data: enc('a') }] }), /"\.\."/));
  it('absolute cpio name that does not match', () => fails(build({ cpio: [{ name: '/etc/shadow', data: enc('a') }] }), /not in the header/));
  it('file missing from the payload', () => fails(build({ cpio: [{ name: './usr/bin/a', mode: 0o100755, data: enc('alpha\n') }] }), /missing from the payload/));
  it('ghost with content', () => fails(build({ cpio: [{ name: './usr/bin/g', data: enc('') }] }), /%ghost/));
  it('size disagreeing with the header', () => fails(build({ cpio: [{ name: './usr/bin/a', data: enc('alpha') }] }), /header says 6/));
  it('bad lead magic', async () => {
    const b = build();
    b[0] = 0;
    await fails(b, /not an rpm/);
  });
  it('header count overflow', async () => {
    const b = Buffer.from(build());
    const sigLen = 16 + 2 * 16 + 4 + 16;
    const at = 96 + sigLen + ((8 - (sigLen % 8)) % 8);
    b.writeUInt32BE(0xffffff, at + 8);
    await fails(new Uint8Array(b), /entries exceed limit/);
  });
});
