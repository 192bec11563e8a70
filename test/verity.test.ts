/**
 * dm-verity against veritysetup (cryptsetup 2.6): byte-identical hash devices,
 * equal root hashes, and verify() agreeing with `veritysetup verify` on exit
 * code and reported position.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferReader, hashData, hashDevice, verify, verifyExitCode, type VerityAlgorithm, type VerityHashType, type VerifyResult } from '../src/verity/index.js';
import { has, run } from './helpers/tools.js';

const HAVE = has('veritysetup');
const dir = mkdtempSync(path.join(tmpdir(), 'weld-verity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const S = 'e48da609055204e89ae53b655ca2216dd983cf3cb829f34f63a297d106d53e2d';
const UUID = '8c4d5a0e-51f6-4b0e-9b53-3f3c0c9e2a17';
const salt = Uint8Array.from(Buffer.from(S, 'hex'));

interface Opts {
  algorithm?: VerityAlgorithm;
  hashType?: VerityHashType;
  blockSize?: number;
  salt?: string;
}

/** Runs `veritysetup format` and returns the hash file and printed root hash. */
function oracleFormat(dataFile: string, o: Opts = {}): { hash: Buffer; root: string } {
  const hashFile = dataFile + '.hash';
  rmSync(hashFile, { force: true });
  const bs = String(o.blockSize ?? 4096);
  const out = run('veritysetup', ['format', '--format', String(o.hashType ?? 1), '--hash', o.algorithm ?? 'sha256', '--data-block-size', bs, '--hash-block-size', bs, '--salt', o.salt ?? S, '--uuid', UUID, dataFile, hashFile]);
  const root = /Root hash:\s+([0-9a-f]+)/.exec(out.stdout.toString())![1]!;
  return { hash: readFileSync(hashFile), root };
}

/** Runs `veritysetup verify` and returns its exit code and the position it names, if any. */
function oracleVerify(dataFile: string, hashFile: string, root: string): { status: number; position: number | null } {
  const r = run('veritysetup', ['verify', dataFile, hashFile, root], { allowFail: true });
  const m = /at position (\d+)/.exec(r.stderr);
  return { status: r.status, position: m ? Number(m[1]) : null };
}

function mine(o: Opts = {}) {
  const sh = o.salt === '-' ? '' : (o.salt ?? S);
  const bs = o.blockSize ?? 4096;
  return { salt: Uint8Array.from(Buffer.from(sh, 'hex')), algorithm: o.algorithm ?? 'sha256', hashType: o.hashType ?? 1, dataBlockSize: bs, hashBlockSize: bs } as const;
}

/** Deterministic pseudo-random bytes (AES-CTR keystream keyed by the seed), so failures reproduce. */
function pseudoRandom(n: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Uint8Array.from(Buffer.concat([c.update(Buffer.alloc(n)), c.final()]));
}

describe.skipIf(!HAVE)('verity vectors (cryptsetup tests/verity-compat-test)', () => {
  const zeros = new Uint8Array(8 << 20);
  const zeroFile = path.join(dir, 'zero8m');
  writeFileSync(zeroFile, zeros);
  const rows: [VerityHashType, VerityAlgorithm, number, string, string][] = [
    [1, 'sha256', 512, S, '9de18652fe74edfb9b805aaed72ae2aa48f94333f1ba5c452ac33b1c39325174'],
    [1, 'sha256', 1024, S, '54d92778750495d1f80832b486ebd007617d746271511bbf0e295e143da2b3df'],
    [1, 'sha256', 4096, S, 'e522df0f97da4febb882ac40f30b37dc0b444bf6df418929463fa25280f09d5c'],
    [0, 'sha256', 4096, S, 'cbbf4ebd004ef65e29b935bb635a39cf754d677f3fa10b0126da725bbdf10f7d'],
    [1, 'sha256', 4096, '-', 'ef29c902d87350f1da4bfa536e16cebc162a909bf89abe448b81ec500d4fb9bf'],
    [1, 'sha1', 1024, S, 'd0e9163ca8844aaa2e88fe5265a8c5d9ee494a99'],
  ];
  it.each(rows)('format %i %s block %i salt %s', async (hashType, algorithm, blockSize, s, expected) => {
    const o = { hashType, algorithm, blockSize, salt: s };
    const tree = await hashData(zeros, mine(o));
    expect(tree.rootHex).toBe(expected);
    const oracle = oracleFormat(zeroFile, o);
    expect(oracle.root).toBe(expected);
    expect(Buffer.from(hashDevice(tree, UUID)).equals(oracle.hash)).toBe(true);
  });
});

describe.skipIf(!HAVE)('verity trees of random data match veritysetup format', () => {
  const sizes: [string, number][] = [
    ['1 block', 4096],
    ['127 blocks', 127 * 4096],
    ['128 blocks', 128 * 4096],
    ['129 blocks', 129 * 4096],
    ['16385 blocks', 16385 * 4096],
  ];
  it.each(sizes)('%s', async (name, size) => {
    const data = pseudoRandom(size, name);
    const file = path.join(dir, name.replace(/ /g, '_'));
    writeFileSync(file, data);
    const tree = await hashData(data, mine());
    const oracle = oracleFormat(file);
    expect(tree.rootHex).toBe(oracle.root);
    expect(tree.params.dataBlocks).toBe(size / 4096);
    expect(Buffer.from(hashDevice(tree, UUID)).equals(oracle.hash)).toBe(true);
  });

  it('a non-multiple tail is zero-padded (veritysetup floors, so it sees the padded image)', async () => {
    const data = pseudoRandom(300 * 4096 + 1234, 'tail');
    const padded = new Uint8Array(301 * 4096);
    padded.set(data);
    const file = path.join(dir, 'tail');
    writeFileSync(file, padded);
    // fed as a stream of odd-sized chunks, to cross block boundaries
    async function* chunks() {
      for (let at = 0; at < data.length; at += 10007) yield data.subarray(at, at + 10007);
    }
    const tree = await hashData(chunks(), mine());
    const oracle = oracleFormat(file);
    expect(tree.params.dataBlocks).toBe(301);
    expect(tree.rootHex).toBe(oracle.root);
    expect(Buffer.from(hashDevice(tree, UUID)).equals(oracle.hash)).toBe(true);
  });

  it('sha512 and sha1 (format 0 and 1) at 4096 match too', async () => {
    const data = pseudoRandom(200 * 4096, 'algos');
    const file = path.join(dir, 'algos');
    writeFileSync(file, data);
    for (const o of [{ algorithm: 'sha512' }, { algorithm: 'sha1' }, { algorithm: 'sha1', hashType: 0 }] as Opts[]) {
      const tree = await hashData(data, mine(o));
      const oracle = oracleFormat(file, o);
      expect(tree.rootHex, JSON.stringify(o)).toBe(oracle.root);
      expect(Buffer.from(hashDevice(tree, UUID)).equals(oracle.hash), JSON.stringify(o)).toBe(true);
    }
  });
});

describe.skipIf(!HAVE)('verify() agrees with veritysetup verify', () => {
  /** Writes data + our hash device, applies a tamper, and checks both verifiers. */
  async function compare(name: string, blocks: number, tamper: (data: Uint8Array, hash: Uint8Array) => void, root?: string, o: Opts = {}): Promise<VerifyResult> {
    const data = pseudoRandom(blocks * (o.blockSize ?? 4096), name);
    const tree = await hashData(data, mine(o));
    const hash = hashDevice(tree, UUID);
    tamper(data, hash);
    const dataFile = path.join(dir, `v-${name}.data`);
    const hashFile = path.join(dir, `v-${name}.hash`);
    writeFileSync(dataFile, data);
    writeFileSync(hashFile, hash);
    const rootHex = root ?? tree.rootHex;
    const result = await verify(bufferReader(data), bufferReader(hash), rootHex);
    const oracle = oracleVerify(dataFile, hashFile, rootHex);
    expect(verifyExitCode(result), `${name}: ${JSON.stringify(result)}`).toBe(oracle.status);
    if (!result.ok && result.reason === 'corrupt') expect(result.position, name).toBe(oracle.position);
    return result;
  }
  const flip = (buf: Uint8Array, at: number) => {
    buf[at] = buf[at]! ^ 0x40;
  };

  it('accepts what we write', async () => {
    expect(await compare('good', 129, () => {})).toEqual({ ok: true });
    expect(await compare('good1', 1, () => {})).toEqual({ ok: true });
  });
  it('wrong root hash → exit 1', async () => {
    const r = await compare('root', 129, () => {}, '00'.repeat(32));
    expect(r).toMatchObject({ ok: false, reason: 'root-hash' });
  });
  it('flipped data byte → exit 2 at the first bad data block', async () => {
    const r = await compare('data', 300, (d) => {
      flip(d, 200 * 4096 + 17);
      flip(d, 250 * 4096);
    });
    expect(r).toMatchObject({ ok: false, reason: 'corrupt', level: 0, block: 200, what: 'digest' });
  });
  it('flipped data byte with one block (no levels) → exit 1, as veritysetup', async () => {
    const r = await compare('data1', 1, (d) => flip(d, 5));
    expect(r).toMatchObject({ ok: false, reason: 'root-hash' });
  });
  // 129 blocks: superblock block, top level (1 block) at 4096, level 0 (2 blocks) at 8192
  it.each([
    ['top-level digest', 4096 + 40],
    ['level-0 digest', 8192 + 5],
    ['level-0 second block', 12288],
    ['level-0 tail padding', 12288 + 32 + 100],
    ['top-level tail padding', 4096 + 64 + 7],
  ])('flipped hash byte: %s → exit 2', async (name, at) => {
    const r = await compare(`hash-${name}`, 129, (_d, h) => flip(h, at));
    expect(r).toMatchObject({ ok: false, reason: 'corrupt' });
  });
  it('sha1 slot spare bytes are checked (type 1 pads digests to 32)', async () => {
    // 1024-byte blocks: level 0 starts at hash block 2; first slot's spare is bytes 20..31
    const r = await compare('sha1-spare', 40, (_d, h) => flip(h, 2 * 1024 + 25), undefined, { algorithm: 'sha1', blockSize: 1024 });
    expect(r).toMatchObject({ ok: false, reason: 'corrupt', what: 'padding' });
  });
  it.each([
    ['sha256/4096', 300, {}],
    ['sha1/1024', 70, { algorithm: 'sha1', blockSize: 1024 }],
    ['sha256/4096 format 0', 200, { hashType: 0 }],
  ] as [string, number, Opts][])('random single flips agree on exit code and position: %s', async (name, blocks, o) => {
    let seed = name.length * 7919;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 12; i++) {
      const inHash = rnd() < 0.5;
      await compare(`rnd-${name.replace(/\W/g, '')}-${i}`, blocks, (d, h) => {
        // hash side: past the superblock block, which veritysetup parses rather than verifies
        const bs = o.blockSize ?? 4096;
        if (inHash) flip(h, bs + Math.floor(rnd() * (h.length - bs)));
        else flip(d, Math.floor(rnd() * d.length));
      }, undefined, o);
    }
  });
  it('superblock padding is not checked, like veritysetup', async () => {
    expect(await compare('sb-pad', 129, (_d, h) => flip(h, 400))).toEqual({ ok: true });
    expect(await compare('sb-gap', 129, (_d, h) => flip(h, 3000))).toEqual({ ok: true });
  });
});
