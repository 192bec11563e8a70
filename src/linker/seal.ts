import fs from 'node:fs';
import type { Extent } from '../model.js';
import { HashTree, leafDigests, type VerityTree } from '../verity/index.js';
import { bug } from '../errors.js';

const BS = 4096;

export interface LeafCache {
  get(object: string): Uint8Array | undefined;
  put(object: string, digests: Uint8Array): void;
  objectPath(object: string): string;
}

export interface SealStats {
  blocks: number;
  cachedBlocks: number;
  hashedBlocks: number;
}

/**
 * Computes the dm-verity tree of an image from its extents without reading
 * the image back. Objects start on block boundaries and their last block is
 * zero-padded, so a per-object leaf list (cached across links) is exactly the
 * image's leaves for that range.
 */
export async function sealExtents(extents: readonly Extent[], size: number, salt: Uint8Array, cache: LeafCache): Promise<{ tree: VerityTree; stats: SealStats }> {
  if (size % BS) throw bug(`image size ${size} is not a multiple of ${BS}`);
  const tree = new HashTree({ salt });
  const stats: SealStats = { blocks: size / BS, cachedBlocks: 0, hashedBlocks: 0 };
  const block = new Uint8Array(BS);
  let fill = 0; // bytes in the partial block being assembled
  let pos = 0; // image offset consumed
  let skipZeroUntil = 0; // zero padding after an object already covered by its leaves

  const flushFull = () => {
    tree.addBlocks(block);
    stats.hashedBlocks++;
    block.fill(0);
    fill = 0;
  };
  const feed = (data: Uint8Array) => {
    let off = 0;
    while (off < data.length) {
      if (fill === 0 && data.length - off >= BS) {
        const n = Math.floor((data.length - off) / BS) * BS;
        tree.addBlocks(data.subarray(off, off + n));
        stats.hashedBlocks += n / BS;
        off += n;
        continue;
      }
      const take = Math.min(BS - fill, data.length - off);
      block.set(data.subarray(off, off + take), fill);
      fill += take;
      off += take;
      if (fill === BS) flushFull();
    }
  };
  const feedZeros = (n: number) => {
    if (fill) {
      const take = Math.min(BS - fill, n);
      fill += take; // block is kept zeroed past fill
      n -= take;
      if (fill === BS) flushFull();
    }
    const whole = Math.floor(n / BS);
    if (whole) tree.addZeroBlocks(whole);
    n -= whole * BS;
    if (n) fill += n;
  };

  for (const e of extents) {
    if (e.offset !== pos) throw bug(`extent at ${e.offset} does not follow ${pos}`);
    const len = e.kind === 'bytes' ? e.data.length : e.size;
    if (e.kind === 'object') {
      const end = e.offset + e.size;
      const padded = Math.ceil(end / BS) * BS;
      if (fill === 0 && e.offset % BS === 0) {
        let leaves = cache.get(e.object);
        if (!leaves) {
          leaves = await leafDigests(objectChunks(cache.objectPath(e.object)), salt);
          cache.put(e.object, leaves);
        } else stats.cachedBlocks += leaves.length / 32;
        if (leaves.length / 32 !== (padded - e.offset) / BS) throw bug(`cached leaves of ${e.object} do not match its size`);
        tree.addLeaves(leaves);
        skipZeroUntil = padded;
        pos = end;
        continue;
      }
      for await (const c of objectChunks(cache.objectPath(e.object))) feed(c);
    } else if (e.kind === 'zero') {
      const covered = Math.min(skipZeroUntil, e.offset + e.size) - e.offset;
      if (covered > 0) {
        feedZeros(0);
        if (e.size > covered) feedZeros(e.size - covered);
      } else feedZeros(e.size);
    } else {
      if (skipZeroUntil > e.offset) {
        // data after an object inside its last block: the cached leaves assumed zeros there
        const n = Math.min(skipZeroUntil - e.offset, e.data.length);
        if (e.data.subarray(0, n).some((b) => b !== 0)) throw bug(`non-zero bytes at ${e.offset} share a block with an object's tail`);
        feed(e.data.subarray(n));
      } else feed(e.data);
    }
    pos = e.offset + len;
  }
  if (pos !== size) throw bug(`extents end at ${pos}, image is ${size}`);
  if (fill) throw bug('image ends inside a block');
  return { tree: tree.finish(), stats };
}

export async function* objectChunks(path: string): AsyncGenerator<Uint8Array> {
  const fd = fs.openSync(path, 'r');
  try {
    for (;;) {
      // a fresh buffer per read: consumers may keep a chunk
      const buf = Buffer.allocUnsafe(1 << 20);
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}
