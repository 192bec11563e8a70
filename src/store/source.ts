import fs from 'node:fs';
import { ioError } from '../util/io.js';

const HEAD = 8 << 10;

/**
 * Random access to one object file. The first 8 KiB come in one read (ELF
 * and program headers, often the string table); anything further is a pread.
 * The file stays open until close().
 */
export class ObjectSource {
  private fd = -1;
  private head: Buffer | null = null;

  constructor(
    readonly file: string,
    readonly size: number,
  ) {}

  read(offset: number, length: number): Uint8Array {
    length = Math.max(0, Math.min(length, this.size - offset));
    if (offset < HEAD && offset + length <= HEAD) {
      this.head ??= this.pread(0, Math.min(HEAD, this.size));
      return this.head.subarray(offset, offset + length);
    }
    return this.pread(offset, length);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  private pread(offset: number, length: number): Buffer {
    if (this.fd < 0) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch (e) {
        throw ioError(`Cannot read store object ${this.file}`, e);
      }
    }
    const b = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(this.fd, b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  }
}
