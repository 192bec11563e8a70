import { formatError } from '../errors.js';

/** Builds the premature-EOF error: `offset` is where the missing bytes would have been, `needed` how many were missing. */
export type EofError = (field: string, offset: number, needed: number) => Error;

/**
 * The one pull reader over an async chunk stream (ar, tar, cpio, rpm). Hands
 * out subarrays of the input chunks where it can, so memory stays bounded by
 * the largest chunk plus whatever a caller asks `exact()` for. `offset`
 * counts bytes consumed, including those of a read that hit the end.
 */
export class ByteStream {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private ended = false;
  offset = 0;
  readonly format: string;
  readonly where: string;
  private readonly eofError: EofError;

  constructor(input: AsyncIterable<Uint8Array>, format: string, where: string, eof?: EofError) {
    this.it = input[Symbol.asyncIterator]();
    this.format = format;
    this.where = where;
    this.eofError =
      eof ??
      ((field, at, needed) =>
        formatError(format, `Cannot read ${format} ${field} in ${where} at offset ${at}: unexpected end of data (${needed} more bytes needed)`, { field, offset: at, where }));
  }

  /** Fills the buffer with at least one byte; false at end of input. */
  private async fill(): Promise<boolean> {
    while (this.buf.length === 0) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.buf = r.value;
    }
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /** Exactly n bytes (n is small: headers, metadata), or null when the input ends first. */
  async tryExact(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill())) return n === 0 ? new Uint8Array(0) : null;
    if (this.buf.length >= n) return this.take(n);
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      if (!(await this.fill())) return null;
      const part = this.take(Math.min(n - have, this.buf.length));
      out.set(part, have);
      have += part.length;
    }
    return out;
  }

  /** Exactly n bytes, or throws a premature-EOF format error naming `field`. */
  async exact(n: number, field: string): Promise<Uint8Array> {
    const start = this.offset;
    const v = await this.tryExact(n);
    if (v === null) throw this.eofError(field, this.offset, n - (this.offset - start));
    return v;
  }

  /** The next 1..max bytes without copying, or null at end of input. */
  async chunk(max = Infinity): Promise<Uint8Array | null> {
    if (!(await this.fill())) return null;
    return this.take(Math.min(max, this.buf.length));
  }

  /** The next 1..max bytes without copying, or throws at end of input. */
  async some(max: number, field: string): Promise<Uint8Array> {
    const v = await this.chunk(max);
    if (v === null) throw this.eofError(field, this.offset, max);
    return v;
  }

  async skip(n: number, field: string): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.some(left, field)).length;
  }

  /** Up to n bytes ahead without consuming them (fewer only at end of input). */
  async peek(n: number): Promise<Uint8Array> {
    while (this.buf.length < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else this.buf = this.buf.length ? concat(this.buf, r.value) : r.value;
    }
    return this.buf.subarray(0, n);
  }

  /** Gives the input back to its producer (closes decompressors, files). */
  async close(): Promise<void> {
    this.buf = new Uint8Array(0);
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  private take(n: number): Uint8Array {
    const v = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return v;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
