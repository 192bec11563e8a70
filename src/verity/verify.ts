/**
 * Userspace verification with `veritysetup verify` semantics (cryptsetup 2.6
 * verity_hash.c): levels are checked bottom-up (data first), each digest then
 * its spare bytes then the hash block's unused tail; the first failure wins.
 * A self-consistent tree with another root is 'root-hash' (veritysetup exit 1);
 * anything else is 'corrupt' (exit 2). Like veritysetup, it does not look at
 * reserved or padding bytes of the superblock.
 */
import { formatError, usageError } from '../errors.js';
import { BlockHasher } from './digest.js';
import { parseSuperblock, SUPERBLOCK_SIZE, hashTreeGeometry, type VerityParams } from './format.js';

/** Random-access reader; must return exactly `length` bytes. */
export interface BlockReader {
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
}

export type VerifyResult =
  | { ok: true }
  | {
      ok: false;
      reason: 'root-hash' | 'corrupt';
      /** the hash level whose stored digest (or padding) disagrees; `levels` for the root hash */
      level: number;
      /**
       * 'digest': the block that level hashes (the data block number at level 0, else
       * the index within level-1); 'padding': the index of this level's hash block
       */
      block: number;
      /** byte offset veritysetup prints as "position": of the hashed block, or of the non-zero spare bytes */
      position: number;
      what: 'digest' | 'padding' | 'root';
    };

export interface VerifyOptions {
  /** tree parameters; when absent they come from the superblock at `hashOffset` */
  params?: VerityParams;
  /** byte offset on the hash reader of the superblock (or of the hash area with `params`) */
  hashOffset?: number;
}

/** veritysetup's exit code for a result: 0 good, 1 wrong root hash, 2 corrupted. */
export function verifyExitCode(r: VerifyResult): 0 | 1 | 2 {
  return r.ok ? 0 : r.reason === 'root-hash' ? 1 : 2;
}

async function readExact(r: BlockReader, offset: number, length: number, what: string): Promise<Uint8Array> {
  const b = await r.read(offset, length);
  if (b.length !== length) throw formatError('verity', `Cannot read verity ${what} at offset ${offset}: got ${b.length} of ${length} bytes`, { field: what, offset });
  return b;
}

function isZero(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] !== 0) return i;
  return -1;
}

export async function verify(data: BlockReader, hash: BlockReader, rootHash: Uint8Array | string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const hashOffset = opts.hashOffset ?? 0;
  let params = opts.params;
  let areaStart = hashOffset;
  if (!params) {
    params = parseSuperblock(await readExact(hash, hashOffset, SUPERBLOCK_SIZE, 'superblock'));
    // hash_start_block = hash_offset / hash_block_size + 1
    areaStart = (Math.floor(hashOffset / params.hashBlockSize) + 1) * params.hashBlockSize;
  }
  const root = typeof rootHash === 'string' ? Uint8Array.from(Buffer.from(rootHash, 'hex')) : rootHash;
  const g = hashTreeGeometry(params);
  if (root.length !== g.digestSize) throw usageError(`Cannot verify with a ${root.length}-byte root hash: ${params.algorithm} digests are ${g.digestSize} bytes`);
  const hbs = params.hashBlockSize;
  const digest = new Uint8Array(g.digestSize);

  for (let level = 0; level < g.levels; level++) {
    const fromData = level === 0;
    const srcSize = fromData ? params.dataBlockSize : hbs;
    const count = fromData ? params.dataBlocks : g.levelBlocks[level - 1]!;
    const srcBase = fromData ? 0 : areaStart + g.levelStart[level - 1]! * hbs;
    const src = fromData ? data : hash;
    const hasher = new BlockHasher(params.algorithm, params.hashType, params.salt, srcSize);
    const batch = Math.max(1, Math.floor((1 << 20) / srcSize));
    let srcBuf: Uint8Array = new Uint8Array(0);
    let srcFirst = 0;
    for (let hb = 0; hb < g.levelBlocks[level]!; hb++) {
      const hbOffset = areaStart + (g.levelStart[level]! + hb) * hbs;
      const stored = await readExact(hash, hbOffset, hbs, `level ${level} hash block`);
      let used = 0;
      for (let slot = 0; slot < g.hashPerBlock; slot++) {
        const j = hb * g.hashPerBlock + slot;
        if (j >= count) break;
        if (j >= srcFirst + srcBuf.length / srcSize) {
          srcFirst = j;
          const n = Math.min(batch, count - j);
          srcBuf = await readExact(src, srcBase + j * srcSize, n * srcSize, fromData ? 'data block' : `level ${level - 1} hash block`);
        }
        const k = j - srcFirst;
        hasher.digestInto(srcBuf.subarray(k * srcSize, (k + 1) * srcSize), digest, 0);
        if (!equal(digest, stored, used)) return { ok: false, reason: 'corrupt', level, block: j, position: srcBase + j * srcSize, what: 'digest' };
        const spare = isZero(stored, used + g.digestSize, used + g.digestSlot);
        if (spare >= 0) return { ok: false, reason: 'corrupt', level, block: hb, position: hbOffset + used + g.digestSize, what: 'padding' };
        used += g.digestSlot;
      }
      if (isZero(stored, used, hbs) >= 0) return { ok: false, reason: 'corrupt', level, block: hb, position: hbOffset + used, what: 'padding' };
    }
  }

  // root: H(top hash block), or H(data block 0) when there are no levels
  const top = g.levels === 0 ? await readExact(data, 0, params.dataBlockSize, 'data block') : await readExact(hash, areaStart + g.levelStart[g.levels - 1]! * hbs, hbs, 'top hash block');
  const rootHasher = new BlockHasher(params.algorithm, params.hashType, params.salt, top.length);
  rootHasher.digestInto(top, digest, 0);
  if (!equal(digest, root, 0)) return { ok: false, reason: 'root-hash', level: g.levels, block: 0, position: 0, what: 'root' };
  return { ok: true };
}

function equal(d: Uint8Array, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < d.length; i++) if (d[i] !== buf[at + i]) return false;
  return true;
}

/** A reader over bytes in memory. */
export function bufferReader(buf: Uint8Array): BlockReader {
  return {
    read(offset, length) {
      return buf.subarray(offset, Math.min(buf.length, offset + length));
    },
  };
}
