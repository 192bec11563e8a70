/**
 * Seals an image given as extents (what image writers emit, model.ts `Extent`)
 * without re-reading objects that start on a block boundary: their cached leaf
 * digests are reused, zero runs use the zero-block digest, and only blocks that
 * mix extents are assembled from bytes. Pure: object data comes through the
 * `ExtentSource` callbacks.
 */
import type { Extent } from '../model.js';
import { bug, usageError } from '../errors.js';
import { HashTree, type HashTreeOptions, type SealedHashTree } from './hashtree.js';
import { DEFAULT_BLOCK_SIZE, DIGEST_SIZE } from './format.js';

export interface ExtentSource {
  /** the object's leaf digests for these tree options, as `leafDigests()` gives them (e.g. cached in the store) */
  leaves(object: string, size: number): Uint8Array | Promise<Uint8Array>;
  /** object bytes [offset, offset + length) */
  read(object: string, offset: number, length: number): Uint8Array | Promise<Uint8Array>;
}

export interface SealStats {
  /** data blocks whose digest came from an object's cached leaves */
  reusedBlocks: number;
  zeroBlocks: number;
  /** data blocks hashed from bytes */
  hashedBlocks: number;
}

const READ_CHUNK = 1 << 20;

/** Builds the tree over an image of `imageSize` bytes (rounded up to whole blocks, zero-filled). */
export async function hashTreeFromExtents(extents: readonly Extent[], imageSize: number, opts: HashTreeOptions, src: ExtentSource): Promise<{ hashTree: SealedHashTree; stats: SealStats }> {
  const bs = opts.dataBlockSize ?? DEFAULT_BLOCK_SIZE;
  const digestSize = DIGEST_SIZE[opts.algorithm ?? 'sha256'];
  const dataBlocks = Math.ceil(imageSize / bs);
  const tree = new HashTree({ ...opts, dataBlocks });
  const stats: SealStats = { reusedBlocks: 0, zeroBlocks: 0, hashedBlocks: 0 };
  const sorted = [...extents].sort((a, b) => a.offset - b.offset);
  const partial = new Uint8Array(bs);
  let fill = 0; // bytes in the current, not yet hashed block
  let at = 0; // image offset fed so far

  const emitPartial = () => {
    tree.addBlocks(partial);
    stats.hashedBlocks++;
    partial.fill(0);
    fill = 0;
  };
  const feedBytes = (data: Uint8Array) => {
    let i = 0;
    if (fill > 0) {
      const take = Math.min(bs - fill, data.length);
      partial.set(data.subarray(0, take), fill);
      fill += take;
      i = take;
      if (fill === bs) emitPartial();
    }
    const whole = Math.floor((data.length - i) / bs) * bs;
    if (whole > 0) {
      tree.addBlocks(data.subarray(i, i + whole));
      stats.hashedBlocks += whole / bs;
      i += whole;
    }
    if (i < data.length) {
      partial.set(data.subarray(i), 0);
      fill = data.length - i;
    }
    at += data.length;
  };
  const feedZeros = (n: number) => {
    let left = n;
    if (fill > 0) {
      const take = Math.min(bs - fill, left); // partial is already zero past `fill`
      fill += take;
      left -= take;
      if (fill === bs) emitPartial();
    }
    at += n;
    if (left === 0) return;
    const whole = Math.floor(left / bs);
    tree.addZeroBlocks(whole);
    stats.zeroBlocks += whole;
    fill = left - whole * bs; // here the block was empty, so the rest starts a new one
  };
  const feedObject = async (object: string, from: number, to: number) => {
    for (let o = from; o < to; o += READ_CHUNK) {
      const len = Math.min(READ_CHUNK, to - o);
      const data = await src.read(object, o, len);
      if (data.length !== len) throw usageError(`Cannot seal: object ${object} gave ${data.length} of ${len} bytes at ${o}`);
      feedBytes(data);
    }
  };

  for (let k = 0; k < sorted.length; k++) {
    const e = sorted[k]!;
    const size = e.kind === 'bytes' ? e.data.length : e.size;
    if (e.offset < at) throw usageError(`Cannot seal overlapping extents at offset ${e.offset} (already at ${at})`);
    if (e.offset + size > imageSize) throw usageError(`Cannot seal an extent at ${e.offset}+${size} past the image end ${imageSize}`);
    if (e.offset > at) feedZeros(e.offset - at);
    if (e.kind === 'bytes') feedBytes(e.data);
    else if (e.kind === 'zero') feedZeros(e.size);
    else if (fill === 0 && size > 0) {
      const leaves = await src.leaves(e.object, size);
      const blocks = Math.ceil(size / bs);
      if (leaves.length !== blocks * digestSize) throw bug(`object ${e.object} has ${leaves.length} bytes of leaves, expected ${blocks * digestSize}`);
      // the tail block's cached digest assumes zeros after the object: true unless the next
      // extent starts inside it — a zero extent padding to the boundary (what image writers
      // emit) keeps it true, and is trimmed to what lies past the block
      const blockEnd = e.offset + blocks * bs;
      let next = sorted[k + 1];
      if (next && next.kind === 'zero' && next.offset === e.offset + size && next.offset + next.size >= blockEnd) {
        const rest = next.offset + next.size - blockEnd;
        if (rest > 0) sorted[k + 1] = next = { kind: 'zero', offset: blockEnd, size: rest };
        else sorted.splice(k + 1, 1), (next = sorted[k + 1]);
      }
      const tailShared = size % bs !== 0 && next !== undefined && next.offset < blockEnd;
      const reuse = tailShared ? blocks - 1 : blocks;
      tree.addLeaves(leaves.subarray(0, reuse * digestSize));
      stats.reusedBlocks += reuse;
      at += reuse * bs;
      // without a shared tail, `at` is now the object's block-aligned end
      if (tailShared) await feedObject(e.object, reuse * bs, size);
    } else {
      await feedObject(e.object, 0, size);
    }
  }
  if (at < dataBlocks * bs) feedZeros(dataBlocks * bs - at);
  if (fill !== 0) throw bug(`seal ended inside a block (${fill} bytes)`);
  return { hashTree: tree.finish(), stats };
}
