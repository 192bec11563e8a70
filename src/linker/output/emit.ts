import fs from 'node:fs';
import type { Extent } from '../../model.js';
import { bug } from '../../errors.js';
import { ioError } from '../../store/objects.js';

/** Shifts extents to an absolute offset (a partition's start in a disk image). */
export function shift(extents: readonly Extent[], by: number): Extent[] {
  return extents.map((e) => ({ ...e, offset: e.offset + by }));
}

/**
 * Writes extents to a file descriptor in order. Regular files get holes for
 * zero runs (sparse output); pipes get the zeros. Objects are copied from
 * the store with large reads.
 */
export function emitExtents(fd: number, extents: readonly Extent[], totalSize: number, objectPath: (id: string) => string, seekable: boolean): void {
  const ZERO = Buffer.alloc(1 << 20);
  const buf = Buffer.allocUnsafe(4 << 20);
  let pos = 0;
  const writeAll = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) {
      try {
        off += fs.writeSync(fd, b, off, b.length - off, seekable ? pos + off : null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw ioError('Cannot write image', e);
      }
    }
    pos += b.length;
  };
  const zeros = (n: number) => {
    if (seekable) {
      pos += n;
      return;
    }
    while (n > 0) {
      const k = Math.min(n, ZERO.length);
      writeAll(ZERO.subarray(0, k));
      n -= k;
    }
  };
  for (const e of extents) {
    if (e.offset < pos) throw bug(`extent at ${e.offset} overlaps ${pos}`);
    if (e.offset > pos) zeros(e.offset - pos);
    if (e.kind === 'bytes') writeAll(e.data);
    else if (e.kind === 'zero') zeros(e.size);
    else {
      const src = fs.openSync(objectPath(e.object), 'r');
      try {
        let left = e.size;
        while (left > 0) {
          const n = fs.readSync(src, buf, 0, Math.min(buf.length, left), null);
          if (n === 0) throw bug(`object ${e.object} is shorter than ${e.size} bytes`);
          writeAll(buf.subarray(0, n));
          left -= n;
        }
      } finally {
        fs.closeSync(src);
      }
    }
  }
  if (pos < totalSize) zeros(totalSize - pos);
  if (seekable) {
    try {
      fs.ftruncateSync(fd, totalSize);
    } catch (e) {
      throw ioError('Cannot size image', e);
    }
  }
}
