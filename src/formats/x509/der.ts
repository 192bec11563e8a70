import { formatError } from '../../errors.js';
import { Cursor } from '../../util/cursor.js';

/** Universal tag numbers (X.680 §8.6) that X.509 names and certificates use. */
export const TAG = {
  INTEGER: 2, BIT_STRING: 3, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17, NUMERIC: 18, PRINTABLE: 19, T61: 20, IA5: 22, UNIVERSAL: 28, BMP: 30,
} as const;

/** A DER element: identifier, definite length, and where its header and contents lie in the buffer. */
export interface Tlv {
  /** 0 universal, 1 application, 2 context, 3 private */
  cls: number;
  constructed: boolean;
  /** tag number; only the low-tag form (< 31) is read */
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/**
 * Strict DER reader (X.690 §10): low-tag-number identifiers, definite
 * lengths in minimal form, at most 4 length octets, never past the enclosing
 * element. It never recurses: callers walk a fixed path, so depth is bounded
 * by the caller, and `children` caps how many elements it lists.
 */
export class Der {
  readonly c: Cursor;

  constructor(buf: Uint8Array, format = 'x509', base = 0) {
    this.c = new Cursor(buf, format, 0, base);
  }

  private fail(at: number, field: string, why: string): never {
    throw formatError(this.c.format, `Cannot read ${this.c.format} ${field} at offset ${this.c.base + at}: ${why}`, { field, offset: this.c.base + at });
  }

  /** The element at `pos`, which must end by `limit`. */
  read(pos: number, limit: number, field: string): Tlv {
    const c = this.c;
    c.seek(pos, field);
    const id = c.u8(field);
    const tag = id & 0x1f;
    if (tag === 0x1f) this.fail(pos, field, 'high tag numbers are not used by X.509');
    const first = c.u8(`${field} length`);
    let len = first;
    if (first === 0x80) this.fail(pos, field, 'indefinite length is not DER');
    if (first > 0x80) {
      const n = first & 0x7f;
      if (n > 4) this.fail(pos, field, `${n} length octets exceed 4`);
      const b = c.bytes(n, `${field} length`);
      if (b[0] === 0) this.fail(pos, field, 'length has a leading zero octet (not DER)');
      len = 0;
      for (const x of b) len = len * 256 + x;
      if (len < 0x80) this.fail(pos, field, `length ${len} in long form (not DER)`);
    }
    const contentStart = c.pos;
    if (contentStart + len > limit) this.fail(pos, field, `length ${len} runs past the enclosing element (${limit - contentStart} bytes left)`);
    return { cls: id >> 6, constructed: (id & 0x20) !== 0, tag, start: pos, contentStart, end: contentStart + len };
  }

  /** The element at `pos` with the given universal tag and form. */
  expect(pos: number, limit: number, tag: number, constructed: boolean, field: string): Tlv {
    const t = this.read(pos, limit, field);
    if (t.cls !== 0 || t.tag !== tag || t.constructed !== constructed) this.fail(pos, field, `expected universal ${constructed ? 'constructed' : 'primitive'} tag ${tag}, found class ${t.cls} tag ${t.tag}${t.constructed ? ' constructed' : ''}`);
    return t;
  }

  /** The elements inside a constructed one, at most `max` of them. */
  children(t: Tlv, field: string, max: number): Tlv[] {
    if (!t.constructed) this.fail(t.start, field, 'is not constructed');
    const out: Tlv[] = [];
    for (let p = t.contentStart; p < t.end; ) {
      if (out.length >= max) this.fail(p, field, `more than ${max} elements`);
      const e = this.read(p, t.end, `${field}[${out.length}]`);
      out.push(e);
      p = e.end;
    }
    return out;
  }

  bytes(t: Tlv): Uint8Array {
    return this.c.buf.subarray(t.contentStart, t.end);
  }

  whole(t: Tlv): Uint8Array {
    return this.c.buf.subarray(t.start, t.end);
  }

  /** Refuses bytes left over after the last expected element. */
  end(pos: number, limit: number, field: string): void {
    if (pos !== limit) this.fail(pos, field, `${limit - pos} unexpected bytes`);
  }
}

/** A DER header for a definite length (X.690 §10.1: minimal length form). */
export function derHeader(id: number, len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(id, len);
  const b: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) b.unshift(n & 0xff);
  return Uint8Array.of(id, 0x80 | b.length, ...b);
}

export function derEncode(id: number, parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((s, p) => s + p.length, 0);
  return Buffer.concat([derHeader(id, len), ...parts]);
}
