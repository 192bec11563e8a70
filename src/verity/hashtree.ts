/**
 * dm-verity hash tree, bit-identical to `veritysetup format` (cryptsetup 2.6).
 * The builder takes LEAF digests (one per data block, in order), so an image
 * writer can feed cached per-object digests; `leafDigests()` makes them.
 */
import { bug, usageError } from '../errors.js';
import { BlockHasher } from './digest.js';
import { DEFAULT_BLOCK_SIZE, DIGEST_SIZE, superblock, hashTreeGeometry, type HashTreeGeometry, type VerityAlgorithm, type VerityHashType, type VerityParams } from './format.js';

export interface HashTreeOptions {
  salt: Uint8Array;
  algorithm?: VerityAlgorithm;
  hashType?: VerityHashType;
  dataBlockSize?: number;
  hashBlockSize?: number;
  /**
   * Data block count, when known up front: leaves then go straight into their
   * place in the hash area (no growing buffer, half the peak memory), and
   * feeding more or fewer blocks is an error.
   */
  dataBlocks?: number;
}

export interface SealedHashTree {
  params: VerityParams;
  geometry: HashTreeGeometry;
  rootHash: Uint8Array;
  rootHex: string;
  /** the hash area without superblock: top level first, the level over the data last */
  hashArea: Uint8Array;
}

function withDefaults(o: HashTreeOptions): Omit<VerityParams, 'dataBlocks'> {
  return {
    salt: o.salt,
    algorithm: o.algorithm ?? 'sha256',
    hashType: o.hashType ?? 1,
    dataBlockSize: o.dataBlockSize ?? DEFAULT_BLOCK_SIZE,
    hashBlockSize: o.hashBlockSize ?? DEFAULT_BLOCK_SIZE,
  };
}

/** Digest of an all-zero data block, for runs of zero blocks (sparse gaps, padding). */
export function zeroBlockDigest(salt: Uint8Array, algorithm: VerityAlgorithm = 'sha256', opts: { hashType?: VerityHashType; blockSize?: number } = {}): Uint8Array {
  const size = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  return new BlockHasher(algorithm, opts.hashType ?? 1, salt, size).digest(new Uint8Array(size));
}

/**
 * Concatenated digests of data's blocks, the last one zero-padded. An image
 * writer that starts every object on a block boundary can reuse these per object.
 */
export function leafDigests(data: Uint8Array, salt: Uint8Array, algorithm?: VerityAlgorithm, opts?: { hashType?: VerityHashType; blockSize?: number }): Uint8Array;
export function leafDigests(data: AsyncIterable<Uint8Array>, salt: Uint8Array, algorithm?: VerityAlgorithm, opts?: { hashType?: VerityHashType; blockSize?: number }): Promise<Uint8Array>;
export function leafDigests(
  data: Uint8Array | AsyncIterable<Uint8Array>,
  salt: Uint8Array,
  algorithm: VerityAlgorithm = 'sha256',
  opts: { hashType?: VerityHashType; blockSize?: number } = {},
): Uint8Array | Promise<Uint8Array> {
  const leaves = new LeafAccumulator(new BlockHasher(algorithm, opts.hashType ?? 1, salt, opts.blockSize ?? DEFAULT_BLOCK_SIZE));
  if (data instanceof Uint8Array) {
    leaves.push(data);
    return leaves.end();
  }
  return (async () => {
    for await (const chunk of data) leaves.push(chunk);
    return leaves.end();
  })();
}

/** Cuts a byte stream into blocks and hashes each; keeps at most one partial block. */
class LeafAccumulator {
  private readonly partial: Uint8Array;
  private fill = 0;
  private out: Uint8Array;
  private count = 0;

  constructor(private readonly hasher: BlockHasher) {
    this.partial = new Uint8Array(hasher.blockSize);
    this.out = new Uint8Array(hasher.digestSize * 64);
  }

  private room(blocks: number): void {
    const need = (this.count + blocks) * this.hasher.digestSize;
    if (need <= this.out.length) return;
    const next = new Uint8Array(Math.max(need, this.out.length * 2));
    next.set(this.out.subarray(0, this.count * this.hasher.digestSize));
    this.out = next;
  }

  private emit(block: Uint8Array): void {
    this.room(1);
    this.hasher.digestInto(block, this.out, this.count * this.hasher.digestSize);
    this.count++;
  }

  push(chunk: Uint8Array): void {
    const bs = this.hasher.blockSize;
    let at = 0;
    if (this.fill > 0) {
      const take = Math.min(bs - this.fill, chunk.length);
      this.partial.set(chunk.subarray(0, take), this.fill);
      this.fill += take;
      at = take;
      if (this.fill < bs) return;
      this.emit(this.partial);
      this.fill = 0;
    }
    this.room(Math.floor((chunk.length - at) / bs));
    for (; at + bs <= chunk.length; at += bs) this.emit(chunk.subarray(at, at + bs));
    if (at < chunk.length) {
      this.partial.set(chunk.subarray(at));
      this.fill = chunk.length - at;
    }
  }

  end(): Uint8Array {
    if (this.fill > 0) {
      this.partial.fill(0, this.fill);
      this.emit(this.partial);
      this.fill = 0;
    }
    return this.out.slice(0, this.count * this.hasher.digestSize);
  }
}

/**
 * Builds the tree from leaf digests. Feed leaves (and zero runs, and raw data
 * blocks) in data-block order, then `finish()`.
 */
export class HashTree {
  private readonly base: Omit<VerityParams, 'dataBlocks'>;
  private readonly digestSize: number;
  private leaves: Uint8Array;
  private count = 0;
  private zeroDigest: Uint8Array | null = null;
  private dataHasher: BlockHasher | null = null;
  private readonly expected: number | undefined;
  /** the hash area, when leaves are written in place (known block count, dense level 0) */
  private area: Uint8Array | null = null;

  constructor(opts: HashTreeOptions) {
    this.base = withDefaults(opts);
    this.digestSize = DIGEST_SIZE[this.base.algorithm];
    this.expected = opts.dataBlocks;
    if (this.expected === undefined) {
      this.leaves = new Uint8Array(this.digestSize * 1024);
      return;
    }
    const g = hashTreeGeometry({ ...this.base, dataBlocks: this.expected });
    const hbs = this.base.hashBlockSize;
    if (g.levels > 0 && isDense(g, hbs)) {
      this.area = new Uint8Array(g.hashAreaSize);
      this.leaves = this.area.subarray(g.levelStart[0]! * hbs);
    } else {
      this.leaves = new Uint8Array(this.expected * this.digestSize);
    }
  }

  /** data blocks fed so far */
  get blocks(): number {
    return this.count;
  }

  private room(blocks: number): void {
    if (this.expected !== undefined && this.count + blocks > this.expected) throw usageError(`Cannot add ${blocks} more blocks to a verity tree declared with ${this.expected}: ${this.count} already added`);
    const need = (this.count + blocks) * this.digestSize;
    if (need <= this.leaves.length) return;
    const next = new Uint8Array(Math.max(need, this.leaves.length * 2));
    next.set(this.leaves.subarray(0, this.count * this.digestSize));
    this.leaves = next;
  }

  /** Appends concatenated leaf digests (digest size each), e.g. a cached object's `leafDigests()`. */
  addLeaves(digests: Uint8Array): this {
    if (digests.length % this.digestSize !== 0) throw usageError(`Cannot add ${digests.length} bytes of leaf digests: not a multiple of ${this.digestSize}`);
    const n = digests.length / this.digestSize;
    this.room(n);
    this.leaves.set(digests, this.count * this.digestSize);
    this.count += n;
    return this;
  }

  /** Appends `count` all-zero data blocks. */
  addZeroBlocks(count: number): this {
    if (!Number.isSafeInteger(count) || count < 0) throw usageError(`Cannot add ${count} zero blocks`);
    this.zeroDigest ??= zeroBlockDigest(this.base.salt, this.base.algorithm, { hashType: this.base.hashType, blockSize: this.base.dataBlockSize });
    this.room(count);
    for (let i = 0; i < count; i++) this.leaves.set(this.zeroDigest, (this.count + i) * this.digestSize);
    this.count += count;
    return this;
  }

  /** Hashes whole data blocks (length must be a multiple of the data block size). */
  addBlocks(data: Uint8Array): this {
    const bs = this.base.dataBlockSize;
    if (data.length % bs !== 0) throw usageError(`Cannot add ${data.length} bytes as data blocks: not a multiple of ${bs}`);
    this.dataHasher ??= new BlockHasher(this.base.algorithm, this.base.hashType, this.base.salt, bs);
    const n = data.length / bs;
    this.room(n);
    for (let i = 0; i < n; i++) this.dataHasher.digestInto(data.subarray(i * bs, (i + 1) * bs), this.leaves, (this.count + i) * this.digestSize);
    this.count += n;
    return this;
  }

  /** Lays out the levels and hashes upward. Pure in the leaves fed so far. */
  finish(): SealedHashTree {
    if (this.expected !== undefined && this.count !== this.expected) throw usageError(`Cannot finish a verity tree declared with ${this.expected} blocks: ${this.count} were added`);
    const params: VerityParams = { ...this.base, dataBlocks: this.count };
    const g = hashTreeGeometry(params);
    const hbs = params.hashBlockSize;
    const area = this.area ?? new Uint8Array(g.hashAreaSize);
    const leaves = this.leaves.subarray(0, this.count * this.digestSize);
    if (g.levels === 0) {
      const rootHash = leaves.slice(0, this.digestSize);
      return { params, geometry: g, rootHash, rootHex: Buffer.from(rootHash).toString('hex'), hashArea: area };
    }
    if (!this.area) placeDigests(area, leaves, g, 0, hbs);
    const hasher = new BlockHasher(params.algorithm, params.hashType, params.salt, hbs);
    for (let level = 1; level < g.levels; level++) {
      const below = g.levelStart[level - 1]!;
      const n = g.levelBlocks[level - 1]!;
      const digests = new Uint8Array(n * this.digestSize);
      for (let j = 0; j < n; j++) hasher.digestInto(area.subarray((below + j) * hbs, (below + j + 1) * hbs), digests, j * this.digestSize);
      placeDigests(area, digests, g, level, hbs);
    }
    const top = g.levelStart[g.levels - 1]!;
    if (g.levelBlocks[g.levels - 1] !== 1) throw bug(`verity top level has ${g.levelBlocks[g.levels - 1]} blocks`);
    const rootHash = hasher.digest(area.subarray(top * hbs, (top + 1) * hbs));
    return { params, geometry: g, rootHash, rootHex: Buffer.from(rootHash).toString('hex'), hashArea: area };
  }
}

/** digests fill hash blocks exactly, so packed digests are the level's bytes */
function isDense(g: HashTreeGeometry, hbs: number): boolean {
  return g.digestSlot === g.digestSize && g.hashPerBlock * g.digestSize === hbs;
}

/** Writes packed digests into level `level`'s blocks at the format's slot stride. */
function placeDigests(area: Uint8Array, digests: Uint8Array, g: HashTreeGeometry, level: number, hbs: number): void {
  const start = g.levelStart[level]! * hbs;
  const n = digests.length / g.digestSize;
  if (isDense(g, hbs)) {
    area.set(digests, start); // dense: slots fill blocks exactly
    return;
  }
  for (let j = 0; j < n; j++) {
    const at = start + Math.floor(j / g.hashPerBlock) * hbs + (j % g.hashPerBlock) * g.digestSlot;
    area.set(digests.subarray(j * g.digestSize, (j + 1) * g.digestSize), at);
  }
}

/** Convenience: hashes data itself (blocks cut from the stream, the last zero-padded). */
export async function hashData(data: Uint8Array | AsyncIterable<Uint8Array>, opts: HashTreeOptions): Promise<SealedHashTree> {
  const p = withDefaults(opts);
  const digests = data instanceof Uint8Array ? leafDigests(data, p.salt, p.algorithm, { hashType: p.hashType, blockSize: p.dataBlockSize }) : await leafDigests(data, p.salt, p.algorithm, { hashType: p.hashType, blockSize: p.dataBlockSize });
  return new HashTree(opts).addLeaves(digests).finish();
}

/** What `veritysetup format` writes to the hash device: superblock, zero pad to a hash block, hash area. */
export function hashDevice(tree: SealedHashTree, uuid: string): Uint8Array {
  const out = new Uint8Array(tree.params.hashBlockSize + tree.hashArea.length);
  out.set(superblock({ ...tree.params, uuid }), 0);
  out.set(tree.hashArea, tree.params.hashBlockSize);
  return out;
}
