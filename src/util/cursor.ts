import { formatError } from '../errors.js';

/**
 * Bounds-checked reader over a byte buffer. Every read goes through `need()`,
 * which throws a format error naming the field and offset.
 */
export class Cursor {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly format: string;
  /** where buf starts in the file, so a cursor over a piece still reports file offsets */
  readonly base: number;

  constructor(buf: Uint8Array, format: string, pos = 0, base = 0) {
    this.base = base;
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.format = format;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, field: string): void {
    if (n < 0 || !Number.isSafeInteger(n) || this.pos + n > this.buf.length) {
      throw formatError(this.format, `Cannot read ${this.format} ${field} at offset ${this.base + this.pos}: needs ${n} bytes, ${this.remaining} left`, {
        field,
        offset: this.base + this.pos,
      });
    }
  }

  /** Checks count × size ≤ remaining before a loop or allocation. */
  needArray(count: number, size: number, field: string): void {
    if (!Number.isSafeInteger(count) || count < 0 || count * size > this.remaining) {
      throw formatError(this.format, `Cannot read ${this.format} ${field} at offset ${this.base + this.pos}: ${count} × ${size} bytes exceed the ${this.remaining} left`, {
        field,
        offset: this.base + this.pos,
      });
    }
  }

  seek(pos: number, field: string): this {
    if (pos < 0 || pos > this.buf.length) {
      throw formatError(this.format, `Cannot seek to ${this.format} ${field} at offset ${this.base + pos}: outside ${this.base + this.buf.length} bytes`, { field, offset: this.base + pos });
    }
    this.pos = pos;
    return this;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16be(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32be(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  i32be(field: string): number {
    this.need(4, field);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  u64be(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  u16le(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32le(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64le(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }
}

/** Converts a 64-bit field deliberately; values past 2^53 are a format error. */
export function safeNumber(v: bigint, format: string, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(format, `Cannot use ${format} ${field}: ${v} is too large`, { field });
  return Number(v);
}
