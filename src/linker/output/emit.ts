import fs from 'node:fs';
import type { Extent } from '../../model.js';
import { bug } from '../../errors.js';
import { ioError } from '../../util/io.js';

/** Copies object ranges into an image file while Node goes on (src/linker/output/copy.ts). */
export interface Copier {
  copy(fd: number, ranges: readonly ObjectRange[]): Promise<void>;
}

export interface EmitTarget {
  /** a regular file: positioned writes, holes for zero runs */
  seekable: boolean;
  /** the file is empty, so unwritten ranges already read as zeros */
  fresh?: boolean;
  /** object extents are a Copier's job: write only what lies between them */
  skipObjects?: boolean;
}

export interface ObjectRange {
  object: string;
  /** where the object's bytes go in the output */
  offset: number;
  size: number;
}

/** The object extents of an image, for a Copier. */
export const objectRanges = (extents: readonly Extent[]): ObjectRange[] => extents.flatMap((e) => (e.kind === 'object' ? [{ object: e.object, offset: e.offset, size: e.size }] : []));

/** Shifts extents to an absolute offset (a partition's start in a disk image). */
export function shift(extents: readonly Extent[], by: number): Extent[] {
  return extents.map((e) => ({ ...e, offset: e.offset + by }));
}

const STAGE = 8 << 20;
/** zero runs at least this long become holes in a seekable output */
const HOLE = 1 << 20;

/**
 * Writes extents to a file descriptor in order. Small extents (most objects
 * are a few KiB) are gathered in one staging buffer and written together, so
 * an image costs a few dozen writes, not one per file. Regular files get holes
 * for long zero runs (sparse output); pipes get the zeros.
 */
export function emitExtents(fd: number, extents: readonly Extent[], totalSize: number, objectPath: (id: string) => string, out: EmitTarget): void {
  const { seekable, fresh = false, skipObjects = false } = out;
  if (skipObjects && !seekable) throw bug('objects can only be left to a copier in a seekable file');
  const stage = Buffer.allocUnsafe(STAGE);
  let fill = 0; // bytes staged
  let pos = 0; // image offset of stage[0]
  const flush = () => {
    let off = 0;
    while (off < fill) {
      try {
        off += fs.writeSync(fd, stage, off, fill - off, seekable ? pos + off : null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw ioError('Cannot write image', e);
      }
    }
    pos += fill;
    fill = 0;
  };
  const zeros = (n: number) => {
    // an empty file reads as zeros wherever nothing was written: skip even block padding
    if (seekable && (n >= HOLE || fresh)) {
      flush();
      pos += n;
      return;
    }
    while (n > 0) {
      if (fill === STAGE) flush();
      const k = Math.min(n, STAGE - fill);
      stage.fill(0, fill, fill + k);
      fill += k;
      n -= k;
    }
  };
  const bytes = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) {
      if (fill === STAGE) flush();
      const k = Math.min(b.length - off, STAGE - fill);
      stage.set(b.subarray(off, off + k), fill);
      fill += k;
      off += k;
    }
  };
  for (const e of extents) {
    const at = pos + fill;
    if (e.offset < at) throw bug(`extent at ${e.offset} overlaps ${at}`);
    if (e.offset > at) zeros(e.offset - at);
    if (e.kind === 'bytes') bytes(e.data);
    else if (e.kind === 'zero') zeros(e.size);
    else if (skipObjects) {
      flush();
      pos += e.size;
    } else {
      let src: number;
      try {
        src = fs.openSync(objectPath(e.object), 'r');
      } catch (err) {
        throw ioError(`Cannot read store object ${e.object}`, err);
      }
      try {
        let left = e.size;
        while (left > 0) {
          if (fill === STAGE) flush();
          const n = fs.readSync(src, stage, fill, Math.min(STAGE - fill, left), null);
          if (n === 0) throw bug(`object ${e.object} is shorter than ${e.size} bytes`);
          fill += n;
          left -= n;
        }
      } finally {
        fs.closeSync(src);
      }
    }
  }
  const end = pos + fill;
  if (end < totalSize) zeros(totalSize - end);
  flush();
  if (seekable) {
    try {
      fs.ftruncateSync(fd, totalSize);
    } catch (e) {
      throw ioError('Cannot size image', e);
    }
  }
}
