import { formatError } from '../../errors.js';

/**
 * Pull reader over an async chunk stream. Hands out subarrays of the input
 * chunks where it can, so memory stays bounded by the largest chunk plus
 * whatever a caller asks `exact()` for. `offset` counts bytes consumed.
 */
export class ByteStream {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private ended = false;
  offset = 0;
  readonly format: string;
  readonly where: string;

  constructor(input: AsyncIterable<Uint8Array>, format: string, where: string) {
    this.it = input[Symbol.asyncIterator]();
    this.format = format;
    this.where = where;
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

  /** Reads exactly n bytes (n is small: headers, metadata) or throws a premature-EOF format error. */
  async exact(n: number, field: string): Promise<Uint8Array> {
    if (!(await this.fill())) {
      if (n === 0) return new Uint8Array(0);
      throw this.eof(n, field, 0);
    }
    if (this.buf.length >= n) {
      const v = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      this.offset += n;
      return v;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      if (!(await this.fill())) throw this.eof(n, field, have);
      const take = Math.min(n - have, this.buf.length);
      out.set(this.buf.subarray(0, take), have);
      this.buf = this.buf.subarray(take);
      have += take;
    }
    this.offset += n;
    return out;
  }

  /** Returns the next 1..max bytes without copying, or throws at end of input. */
  async some(max: number, field: string): Promise<Uint8Array> {
    if (!(await this.fill())) throw this.eof(max, field, 0);
    const take = Math.min(max, this.buf.length);
    const v = this.buf.subarray(0, take);
    this.buf = this.buf.subarray(take);
    this.offset += take;
    return v;
  }

  async skip(n: number, field: string): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.some(left, field)).length;
  }

  /** Gives the input back to its producer (closes decompressors, files). */
  async close(): Promise<void> {
    this.buf = new Uint8Array(0);
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  private eof(n: number, field: string, have: number) {
    const at = this.offset + have;
    return formatError(this.format, `Cannot read ${this.format} ${field} in ${this.where} at offset ${at}: unexpected end of data (${n - have} more bytes needed)`, {
      field,
      offset: at,
      where: this.where,
    });
  }
}
