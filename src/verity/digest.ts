/**
 * Salted block digests as dm-verity defines them: type 1 is H(salt ‖ block),
 * type 0 is H(block ‖ salt). Allocation-light: one reusable salt+block buffer,
 * hashed in one call (node:crypto `hash`, ~30% faster here than `copy()` of a
 * salt-primed hash); falls back to a primed hash's `copy()` on Node without it.
 */
import * as crypto from 'node:crypto';
import { DIGEST_SIZE, type VerityAlgorithm, type VerityHashType } from './format.js';

type OneShot = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

export class BlockHasher {
  readonly digestSize: number;
  readonly blockSize: number;
  private readonly buf: Buffer;
  private readonly blockAt: number;
  private readonly primed: crypto.Hash | null;

  constructor(
    readonly algorithm: VerityAlgorithm,
    readonly hashType: VerityHashType,
    readonly salt: Uint8Array,
    blockSize: number,
  ) {
    this.digestSize = DIGEST_SIZE[algorithm];
    this.blockSize = blockSize;
    this.buf = Buffer.alloc(salt.length + blockSize);
    this.blockAt = hashType === 1 ? salt.length : 0;
    this.buf.set(salt, hashType === 1 ? 0 : blockSize);
    this.primed = oneShot || hashType === 0 ? null : crypto.createHash(algorithm).update(salt);
  }

  /** Digest of one block (exactly blockSize bytes) into out[at..at+digestSize). */
  digestInto(block: Uint8Array, out: Uint8Array, at: number): void {
    let d: Buffer;
    if (this.primed) {
      d = this.primed.copy().update(block).digest();
    } else {
      this.buf.set(block, this.blockAt);
      d = oneShot ? oneShot(this.algorithm, this.buf, 'buffer') : crypto.createHash(this.algorithm).update(this.buf).digest();
    }
    out.set(d, at);
  }

  digest(block: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.digestSize);
    this.digestInto(block, out, 0);
    return out;
  }
}
