import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAr } from './read.js';
import { encodeAr, type ArWriteMember } from './write.js';
import { isWeldError } from '../../errors.js';

async function* chunks(buf: Uint8Array, split: 'whole' | 'bytes' | 'random'): AsyncGenerator<Uint8Array> {
  if (split === 'whole') return yield buf;
  let s = 3;
  for (let pos = 0; pos < buf.length; ) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = split === 'bytes' ? 1 : 1 + (s % 300);
    yield buf.subarray(pos, pos + n);
    pos += n;
  }
}

async function list(buf: Uint8Array, split: 'whole' | 'bytes' | 'random' = 'whole', read = true) {
  const out: { name: string; data: string; mode: number; mtime: number; uid: number }[] = [];
  for await (const m of readAr(chunks(buf, split), { where: 'test.a' })) {
    const parts: Buffer[] = [];
    if (read) for await (const c of m.body) parts.push(Buffer.from(c));
    out.push({ name: m.name, data: Buffer.concat(parts).toString(), mode: m.mode, mtime: m.mtime, uid: m.uid });
  }
  return out;
}

async function failure(buf: Uint8Array): Promise<Error> {
  try {
    await list(buf);
  } catch (e) {
    expect(isWeldError(e), String(e)).toBe(true);
    expect((e as Error).message).toContain('test.a');
    return e as Error;
  }
  throw new Error('expected a format error');
}

const enc = new TextEncoder();
const members: ArWriteMember[] = [
  { name: 'debian-binary', data: enc.encode('2.0\n'), mtime: 1700000000, mode: 0o100644, uid: 0 },
  { name: 'odd', data: enc.encode('abc') },
  { name: 'a-rather-long-member-name.tar.xz', data: enc.encode('long one'), uid: 1000 },
  { name: 'empty', data: new Uint8Array(0) },
];

describe('readAr', () => {
  for (const names of ['sysv', 'gnu', 'bsd'] as const) {
    for (const split of ['whole', 'bytes', 'random'] as const) {
      it(`reads ${names} names (${split})`, async () => {
        const buf = encodeAr(names === 'sysv' ? members.filter((m) => m.name.length <= 16) : members, { names });
        const got = await list(buf, split);
        const want = (names === 'sysv' ? members.filter((m) => m.name.length <= 16) : members).map((m) => ({
          name: m.name,
          data: new TextDecoder().decode(m.data),
          mode: m.mode ?? 0o100644,
          mtime: m.mtime ?? 0,
          uid: m.uid ?? 0,
        }));
        expect(got).toEqual(want);
        expect((await list(buf, split, false)).map((m) => m.name)).toEqual(want.map((m) => m.name));
      });
    }
  }

  it('rejects bad magic, bad terminators, bad numbers and truncation', async () => {
    const buf = encodeAr(members, { names: 'gnu' });
    expect((await failure(enc.encode('!<arch>x'))).message).toMatch(/bad magic/);
    const badFmag = buf.slice();
    badFmag[8 + 58] = 0x41;
    expect((await failure(badFmag)).message).toMatch(/offset 66: bad header terminator/);
    const badSize = encodeAr([{ name: 'x', data: new Uint8Array(4) }]);
    badSize.set(enc.encode('-4'), 8 + 48);
    expect((await failure(badSize)).message).toMatch(/ar_size/);
    // a cut at a member boundary leaves a valid, shorter archive
    const boundaries = new Set<number>();
    for (let pos = 8; pos < buf.length; ) {
      boundaries.add(pos);
      const size = Number(new TextDecoder().decode(buf.subarray(pos + 48, pos + 58)).trim());
      pos += 60 + size + (size % 2);
    }
    for (let cut = 1; cut < buf.length - 1; cut++) {
      if (boundaries.has(cut)) continue;
      const e = await failure(buf.subarray(0, cut)).catch((x: Error) => x);
      expect(e.message, `cut ${cut}`).toMatch(/offset \d+/);
    }
  });

  it('rejects a GNU long name with no table entry', async () => {
    const buf = encodeAr([{ name: 'x', data: new Uint8Array(1) }]);
    buf.set(enc.encode('/99 '), 8);
    expect((await failure(buf)).message).toMatch(/no entry in the long-name table/);
  });
});

describe.skipIf(spawnSync('sh', ['-c', 'command -v ar'], { stdio: 'ignore' }).status !== 0)('readAr against binutils ar', () => {
  it('reads what GNU ar writes, long names included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weld-ar-'));
    const names = ['short.txt', 'a-very-long-member-name-beyond-sixteen.bin', 'x'];
    names.forEach((n, i) => writeFileSync(path.join(dir, n), 'z'.repeat(i * 3 + 1)));
    const r = spawnSync('ar', ['rcS', 'out.a', ...names], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const listed = spawnSync('ar', ['t', 'out.a'], { cwd: dir, encoding: 'utf8' }).stdout.trim().split('\n');
    const got = await list(readFileSync(path.join(dir, 'out.a')), 'random');
    expect(got.map((m) => m.name)).toEqual(listed);
    for (const m of got) expect(m.data).toBe(readFileSync(path.join(dir, m.name), 'utf8'));
  });
});
