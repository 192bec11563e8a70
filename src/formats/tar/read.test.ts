import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, linkSync, lstatSync, readFileSync, utimesSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTar, type TarEntry } from './read.js';
import { encodeTar } from './write.js';
import { isWeldError } from '../../errors.js';

type Split = 'whole' | 'bytes' | 'random';

async function* chunks(buf: Uint8Array, split: Split, seed = 1): AsyncGenerator<Uint8Array> {
  if (split === 'whole') {
    yield buf;
    return;
  }
  let s = seed;
  let pos = 0;
  while (pos < buf.length) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = split === 'bytes' ? 1 : 1 + (s % 1500);
    yield buf.subarray(pos, pos + n);
    pos += n;
  }
}

const td = new TextDecoder();
interface Got extends Omit<TarEntry, 'body' | 'path' | 'linkpath' | 'offset'> {
  path: string;
  linkpath: string;
  data: string;
}

async function list(buf: Uint8Array, split: Split = 'whole', maxMetaBytes?: number): Promise<Got[]> {
  const out: Got[] = [];
  for await (const e of readTar(chunks(buf, split), { where: 'test.tar', maxMetaBytes })) {
    const parts: Uint8Array[] = [];
    for await (const c of e.body) parts.push(c.slice());
    const { body: _b, offset: _o, ...rest } = e;
    out.push({ ...rest, path: td.decode(e.path), linkpath: td.decode(e.linkpath), data: Buffer.concat(parts).toString('latin1') });
  }
  return out;
}

async function failure(buf: Uint8Array, split: Split = 'whole', maxMetaBytes?: number): Promise<Error> {
  try {
    await list(buf, split, maxMetaBytes);
  } catch (e) {
    expect(isWeldError(e), String(e)).toBe(true);
    expect((e as Error).message).toContain('test.tar');
    return e as Error;
  }
  throw new Error('expected a format error');
}

const enc = new TextEncoder();
const longName = 'd/' + 'x'.repeat(150) + '/file-with-a-long-name.txt';

describe('readTar (own encoder)', () => {
  const archive = encodeTar([
    { path: './', typeflag: '5', mode: 0o755 },
    { path: './a.txt', data: enc.encode('hello\n'), mode: 0o640, uid: 1000, gid: 100, uname: 'alice', gname: 'users', mtime: 1700000000 },
    { path: './hard', typeflag: '1', linkpath: './a.txt' },
    { path: './sym', typeflag: '2', linkpath: 'a.txt', mode: 0o777 },
    { path: './dev', typeflag: '3', devmajor: 4, devminor: 64, mode: 0o620 },
    { path: './blk', typeflag: '4', devmajor: 8, devminor: 1 },
    { path: './fifo', typeflag: '6' },
    { path: longName, gnuLongNames: true, data: enc.encode('long'), linkpath: '' },
    { path: './big', data: enc.encode('x'.repeat(1000)), base256: ['size', 'mtime', 'uid'], mtime: -5, uid: 70000 },
    {
      path: 'ignored',
      data: enc.encode('pax'),
      pax: { path: './pax-ü', uid: '123456789', gid: '42', uname: 'ü', mtime: '1234567890.75', 'SCHILY.xattr.user.k': 'v\u0000w', linkpath: '' },
    },
    { path: './z', size: 3, data: enc.encode('abc') },
  ]);
  const expected = [
    { path: './', type: 'dir', mode: 0o755 },
    { path: './a.txt', type: 'file', mode: 0o640, uid: 1000, gid: 100, uname: 'alice', gname: 'users', mtime: 1700000000, size: 6, data: 'hello\n' },
    { path: './hard', type: 'hardlink', linkpath: './a.txt', size: 0 },
    { path: './sym', type: 'symlink', linkpath: 'a.txt', mode: 0o777 },
    { path: './dev', type: 'char', devmajor: 4, devminor: 64 },
    { path: './blk', type: 'block', devmajor: 8, devminor: 1 },
    { path: './fifo', type: 'fifo' },
    { path: longName, type: 'file', data: 'long' },
    { path: './big', size: 1000, mtime: -5, uid: 70000 },
    { path: './pax-ü', uid: 123456789, gid: 42, uname: 'ü', mtime: 1234567890, data: 'pax', xattrs: { 'user.k': enc.encode('v\u0000w') } },
    { path: './z', data: 'abc' },
  ];
  for (const split of ['whole', 'bytes', 'random'] as const) {
    it(`parses every header form (${split})`, async () => {
      const got = await list(archive, split);
      expect(got).toHaveLength(expected.length);
      got.forEach((g, i) => expect(g).toMatchObject(expected[i]!));
    });
  }

  it('skips bodies nobody reads', async () => {
    const names: string[] = [];
    for await (const e of readTar(chunks(archive, 'random', 7), { where: 'test.tar' })) names.push(td.decode(e.path));
    expect(names).toEqual(expected.map((e) => e.path));
  });

  it('lets a local pax empty value unset a global one', async () => {
    const buf = encodeTar([
      { path: 'g', typeflag: 'g', data: enc.encode('12 uname=gl\n') },
      { path: 'one', uname: 'hdr' },
      { path: 'two', uname: 'hdr', pax: { uname: '' } },
    ]);
    expect((await list(buf)).map((e) => e.uname)).toEqual(['gl', 'hdr']);
  });
});

describe('readTar (hostile input)', () => {
  const good = encodeTar([
    { path: './a', data: enc.encode('a'.repeat(700)) },
    { path: longName, gnuLongNames: true, data: enc.encode('b') },
    { path: 'p', pax: { path: './pp', 'SCHILY.xattr.user.x': 'y' }, data: enc.encode('c') },
  ]);

  it('rejects a bad checksum', async () => {
    const e = await failure(encodeTar([{ path: './a', badChecksum: true }]));
    expect(e.message).toMatch(/checksum mismatch/);
    expect(e.message).toMatch(/offset 148/);
  });

  it('rejects every truncation with a format error', async () => {
    for (let cut = 0; cut < good.length - 1024; cut += 37) {
      const e = await failure(good.subarray(0, cut), cut % 2 ? 'random' : 'whole');
      expect(e.message).toMatch(/offset \d+/);
    }
  });

  it('caps pax and GNU long-name records', async () => {
    const bigPax = encodeTar([{ path: 'p', pax: { path: 'x'.repeat(5000) } }]);
    expect((await failure(bigPax, 'whole', 4096)).message).toMatch(/pax header of \d+ bytes exceeds the 4096-byte limit/);
    const bigName = encodeTar([{ path: 'y'.repeat(5000), gnuLongNames: true }]);
    expect((await failure(bigName, 'whole', 4096)).message).toMatch(/GNU long name/);
  });

  it('rejects malformed pax records, numbers and types', async () => {
    await failure(encodeTar([{ path: 'g', typeflag: 'x', data: enc.encode('99 path=a\n') }, { path: 'f' }]));
    await failure(encodeTar([{ path: 'g', typeflag: 'x', data: enc.encode('12 path=a\n') }, { path: 'f' }]));
    await failure(encodeTar([{ path: 'f', pax: { size: '-1' } }]));
    await failure(encodeTar([{ path: 'f', pax: { 'GNU.sparse.major': '1' } }]));
    await failure(encodeTar([{ path: 'f', typeflag: 'S' }]));
    await failure(encodeTar([{ path: 'f', size: -1, base256: ['size'] }]));
    const h = encodeTar([{ path: 'f' }]);
    h.set(enc.encode('12x4'), 100); // mode
    const sum = h.subarray(0, 512).reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    expect((await failure(h)).message).toMatch(/not an octal number/);
  });

  it('rejects a claimed size past the end without allocating it', async () => {
    const buf = encodeTar([{ path: 'f', size: 2 ** 40, base256: ['size'], data: enc.encode('abc') }], { end: false });
    expect((await failure(buf)).message).toMatch(/unexpected end of data/);
  });
});

const hasTar = spawnSync('sh', ['-c', 'command -v tar && command -v setfattr'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasTar)('readTar against GNU tar', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'weld-tar-'));
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'deep', 'a'.repeat(90)), { recursive: true });
  writeFileSync(path.join(src, 'f.txt'), 'some text\n');
  writeFileSync(path.join(src, 'deep', 'a'.repeat(90), 'b'.repeat(90)), Buffer.alloc(70000, 7));
  linkSync(path.join(src, 'f.txt'), path.join(src, 'hard'));
  symlinkSync('t'.repeat(150), path.join(src, 'longlink'));
  writeFileSync(path.join(src, 'x.bin'), Buffer.from([0, 1, 2]));
  spawnSync('setfattr', ['-n', 'user.weld', '-v', '0x00ff41', path.join(src, 'x.bin')]);
  utimesSync(path.join(src, 'f.txt'), 1600000000, 1600000000);

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads what tar --format=${format} writes`, async () => {
      const out = path.join(dir, `${format}.tar`);
      const args = ['-C', src, '--sort=name', `--format=${format}`, '-cf', out];
      if (format === 'pax') args.push('--xattrs', '--xattrs-include=user.*');
      // ustar has no room for a 150-byte link target; its long path goes through the prefix field
      if (format === 'ustar') args.push('--exclude=./longlink');
      const r = spawnSync('tar', [...args, '.'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const names = spawnSync('tar', ['-tf', out], { encoding: 'utf8' }).stdout.trim().split('\n');
      for (const split of ['whole', 'random'] as const) {
        const got = await list(readFileSync(out), split);
        expect(got.map((g) => g.path)).toEqual(names);
        for (const g of got) {
          const p = path.join(src, g.path);
          const st = lstatSync(p);
          expect(g.mode, g.path).toBe(st.mode & 0o7777);
          expect(g.mtime, g.path).toBe(Math.floor(st.mtimeMs / 1000));
          expect(g.uid).toBe(st.uid);
          if (g.type === 'file') expect(Buffer.from(g.data, 'latin1').equals(readFileSync(p)), g.path).toBe(true);
          if (g.type === 'symlink') expect(g.linkpath).toBe('t'.repeat(150));
          if (g.type === 'hardlink') expect(g.linkpath).toBe('./f.txt');
        }
        if (format === 'pax') expect(Buffer.from(got.find((g) => g.path === './x.bin')!.xattrs['user.weld']!).toString('hex')).toBe('00ff41');
      }
    });
  }
});
