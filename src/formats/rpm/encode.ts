import { HEADER_MAGIC, LEAD_MAGIC, LEAD_SIZE } from './header.js';
import { RPM_TYPE, RPM_TYPE_ALIGN } from './tags.js';

/** One entry for the tiny header encoder: values are encoded per type. */
export type EncodeEntry =
  | { tag: number; type: typeof RPM_TYPE.STRING | typeof RPM_TYPE.I18NSTRING | typeof RPM_TYPE.STRING_ARRAY; value: (string | Uint8Array)[] }
  | { tag: number; type: typeof RPM_TYPE.INT8 | typeof RPM_TYPE.CHAR | typeof RPM_TYPE.INT16 | typeof RPM_TYPE.INT32 | typeof RPM_TYPE.INT64; value: number[] }
  | { tag: number; type: typeof RPM_TYPE.BIN; value: Uint8Array };

/**
 * Encodes a header (preamble, index, store) the way rpm lays it out:
 * data aligned per type, entries in the order given. For tests and for
 * building hostile inputs; no region tag unless `region` is set.
 */
export function encodeHeader(entries: EncodeEntry[], opts: { region?: number } = {}): Uint8Array {
  const parts: number[] = [];
  const index: [number, number, number, number][] = [];
  const all = [...entries];
  for (const e of all) {
    while (parts.length % RPM_TYPE_ALIGN[e.type] !== 0) parts.push(0);
    const offset = parts.length;
    let count: number;
    if (e.type === RPM_TYPE.BIN) {
      parts.push(...e.value);
      count = e.value.length;
    } else if (e.type === RPM_TYPE.STRING || e.type === RPM_TYPE.STRING_ARRAY || e.type === RPM_TYPE.I18NSTRING) {
      for (const v of e.value) parts.push(...(typeof v === 'string' ? Buffer.from(v) : v), 0);
      count = e.value.length;
    } else {
      const size = e.type === RPM_TYPE.INT16 ? 2 : e.type === RPM_TYPE.INT32 ? 4 : e.type === RPM_TYPE.INT64 ? 8 : 1;
      for (const v of e.value as number[]) {
        const b = Buffer.alloc(size);
        if (size === 8) b.writeBigUInt64BE(BigInt(v));
        else b.writeUIntBE(v, 0, size);
        parts.push(...b);
      }
      count = e.value.length;
    }
    index.push([e.tag, e.type, offset, count]);
  }
  if (opts.region !== undefined) {
    // region trailer: tag, BIN, -(entries × 16), 16
    const off = parts.length;
    const t = Buffer.alloc(16);
    t.writeUInt32BE(opts.region, 0);
    t.writeUInt32BE(RPM_TYPE.BIN, 4);
    t.writeInt32BE(-(index.length + 1) * 16, 8);
    t.writeUInt32BE(16, 12);
    parts.push(...t);
    index.unshift([opts.region, RPM_TYPE.BIN, off, 16]);
  }
  const out = Buffer.alloc(16 + index.length * 16 + parts.length);
  out.set(HEADER_MAGIC, 0);
  out.writeUInt32BE(index.length, 8);
  out.writeUInt32BE(parts.length, 12);
  index.forEach(([tag, type, offset, count], i) => {
    out.writeUInt32BE(tag, 16 + i * 16);
    out.writeUInt32BE(type, 20 + i * 16);
    out.writeInt32BE(offset, 24 + i * 16);
    out.writeUInt32BE(count, 28 + i * 16);
  });
  out.set(parts, 16 + index.length * 16);
  return new Uint8Array(out);
}

/** A 96-byte lead: v3.0, binary or source. */
export function encodeLead(name: string, type: 0 | 1 = 0): Uint8Array {
  const b = Buffer.alloc(LEAD_SIZE);
  b.set(LEAD_MAGIC, 0);
  b[4] = 3;
  b.writeUInt16BE(type, 6);
  b.writeUInt16BE(1, 8);
  b.write(name.slice(0, 65), 10, 'latin1');
  b.writeUInt16BE(1, 76);
  b.writeUInt16BE(5, 78);
  return new Uint8Array(b);
}
