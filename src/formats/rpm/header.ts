import { formatError } from '../../errors.js';
import { Cursor } from '../../util/cursor.js';
import { RPM_TYPE, RPM_TYPE_ALIGN, RPM_TYPE_NAMES, RPM_TYPE_SIZE, TAG } from './tags.js';

const FORMAT = 'rpm';

/** rpm lead: 96 bytes, magic ed ab ee db (rpm's lib/rpmlead.c). */
export const LEAD_SIZE = 96;
export const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb] as const;
/** header magic 8e ad e8, version 01, then 4 reserved bytes */
export const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01] as const;
/** magic(4) + reserved(4) + index count(4) + data size(4) */
export const HEADER_PREAMBLE_SIZE = 16;
export const INDEX_ENTRY_SIZE = 16;
/** region trailers are a 16-byte BIN entry */
const REGION_TRAILER_SIZE = 16;

export interface RpmLead {
  major: number;
  minor: number;
  /** 0 binary, 1 source */
  type: number;
  archnum: number;
  name: string;
  osnum: number;
  signatureType: number;
}

export function parseLead(buf: Uint8Array): RpmLead {
  const c = new Cursor(buf, FORMAT);
  const magic = c.bytes(4, 'lead magic');
  if (!LEAD_MAGIC.every((b, i) => magic[i] === b)) {
    throw formatError(FORMAT, `Cannot read rpm lead at offset 0: bad magic ${hex(magic)}, not an rpm package`, { field: 'lead magic', offset: 0 });
  }
  const major = c.u8('lead major');
  const minor = c.u8('lead minor');
  const type = c.u16be('lead type');
  const archnum = c.u16be('lead archnum');
  const nameBytes = c.bytes(66, 'lead name');
  const nul = nameBytes.indexOf(0);
  const name = new TextDecoder('latin1').decode(nameBytes.subarray(0, nul < 0 ? 66 : nul));
  const osnum = c.u16be('lead osnum');
  const signatureType = c.u16be('lead signature type');
  c.skip(16, 'lead reserved');
  if (major < 3) throw formatError(FORMAT, `Cannot read rpm lead at offset 4: version ${major}.${minor} is too old`, { field: 'lead major', offset: 4 });
  if (type !== 0 && type !== 1) throw formatError(FORMAT, `Cannot read rpm lead at offset 6: package type ${type} is neither binary nor source`, { field: 'lead type', offset: 6 });
  return { major, minor, type, archnum, name, osnum, signatureType };
}

export interface HeaderLimits {
  maxHeaderBytes: number;
  maxHeaderEntries: number;
}

export interface HeaderPreamble {
  indexCount: number;
  dataSize: number;
  /** bytes of index + data that follow the 16-byte preamble */
  bodySize: number;
}

/** Reads the 16-byte preamble and checks the declared sizes before anything is allocated. */
export function parseHeaderPreamble(buf: Uint8Array, limits: HeaderLimits, field: string, base = 0): HeaderPreamble {
  const c = new Cursor(buf, FORMAT);
  const magic = c.bytes(4, `${field} magic`);
  if (!HEADER_MAGIC.every((b, i) => magic[i] === b)) {
    throw formatError(FORMAT, `Cannot read rpm ${field} at offset ${base}: bad magic ${hex(magic)}`, { field: `${field} magic`, offset: base });
  }
  c.skip(4, `${field} reserved`);
  const indexCount = c.u32be(`${field} index count`);
  const dataSize = c.u32be(`${field} data size`);
  if (indexCount < 1 || indexCount > limits.maxHeaderEntries) {
    throw formatError(FORMAT, `Cannot read rpm ${field} index at offset ${base + 8}: ${indexCount} entries exceed limit ${limits.maxHeaderEntries}`, {
      field: `${field} index count`,
      offset: base + 8,
    });
  }
  const bodySize = indexCount * INDEX_ENTRY_SIZE + dataSize;
  if (dataSize > limits.maxHeaderBytes || bodySize > limits.maxHeaderBytes) {
    throw formatError(FORMAT, `Cannot read rpm ${field} data at offset ${base + 12}: ${dataSize} bytes exceed limit ${limits.maxHeaderBytes}`, {
      field: `${field} data size`,
      offset: base + 12,
    });
  }
  return { indexCount, dataSize, bodySize };
}

export interface HeaderEntry {
  tag: number;
  type: number;
  /** offset into the data store */
  offset: number;
  count: number;
  /** the entry's bytes within the data store */
  data: Uint8Array;
}

/**
 * A parsed header. Values are decoded lazily from the entry bytes; every
 * accessor checks the type so a hostile header cannot make us misread.
 */
export class RpmHeader {
  readonly entries: Map<number, HeaderEntry>;
  /** absolute offset of the header in the file, for error messages */
  readonly base: number;
  readonly size: number;
  readonly name: string;

  constructor(entries: Map<number, HeaderEntry>, base: number, size: number, name: string) {
    this.entries = entries;
    this.base = base;
    this.size = size;
    this.name = name;
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }
  get(tag: number): HeaderEntry | undefined {
    return this.entries.get(tag);
  }

  private fail(e: HeaderEntry, want: string): never {
    throw formatError(FORMAT, `Cannot read rpm ${this.name} tag ${e.tag}: type ${RPM_TYPE_NAMES[e.type] ?? e.type} where ${want} was expected`, {
      field: `tag ${e.tag}`,
      offset: this.base + e.offset,
    });
  }

  /** Raw bytes of each string of a STRING / STRING_ARRAY / I18NSTRING entry. */
  stringBytes(tag: number): Uint8Array[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RPM_TYPE.STRING && e.type !== RPM_TYPE.STRING_ARRAY && e.type !== RPM_TYPE.I18NSTRING) this.fail(e, 'a string');
    const out: Uint8Array[] = [];
    let p = 0;
    for (let i = 0; i < e.count; i++) {
      const end = e.data.indexOf(0, p);
      out.push(e.data.subarray(p, end));
      p = end + 1;
    }
    return out;
  }

  /** Numbers of an INT8/INT16/INT32/CHAR entry (unsigned, as rpm stores them). */
  numbers(tag: number): number[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    const v = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const out: number[] = new Array(e.count);
    switch (e.type) {
      case RPM_TYPE.CHAR:
      case RPM_TYPE.INT8:
        for (let i = 0; i < e.count; i++) out[i] = v.getUint8(i);
        return out;
      case RPM_TYPE.INT16:
        for (let i = 0; i < e.count; i++) out[i] = v.getUint16(i * 2);
        return out;
      case RPM_TYPE.INT32:
        for (let i = 0; i < e.count; i++) out[i] = v.getUint32(i * 4);
        return out;
      case RPM_TYPE.INT64:
        for (let i = 0; i < e.count; i++) {
          const b = v.getBigUint64(i * 8);
          if (b > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw formatError(FORMAT, `Cannot read rpm ${this.name} tag ${tag}: ${b} is too large`, { field: `tag ${tag}`, offset: this.base + e.offset + i * 8 });
          }
          out[i] = Number(b);
        }
        return out;
      default:
        this.fail(e, 'a number');
    }
  }

  bin(tag: number): Uint8Array | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RPM_TYPE.BIN) this.fail(e, 'BIN');
    return e.data;
  }
}

/**
 * Parses index + data store (the bytes after the 16-byte preamble).
 * `base` is the absolute file offset of the preamble, for error messages.
 * Checks every entry: known type, offset and size inside the store, rpm's
 * alignment, NUL-terminated strings, region trailers, and no overlapping data.
 */
export function parseHeader(pre: HeaderPreamble, body: Uint8Array, opts: { name: string; base: number }): RpmHeader {
  const { name, base } = opts;
  const c = new Cursor(body, FORMAT);
  c.needArray(pre.indexCount, INDEX_ENTRY_SIZE, `${name} index`);
  const storeStart = pre.indexCount * INDEX_ENTRY_SIZE;
  c.need(storeStart + pre.dataSize, `${name} data store`);
  const store = body.subarray(storeStart, storeStart + pre.dataSize);
  const dl = pre.dataSize;
  const entries = new Map<number, HeaderEntry>();
  const ranges: { start: number; end: number; tag: number; at: number }[] = [];
  const abs = (pos: number) => base + HEADER_PREAMBLE_SIZE + pos;
  let claimed = 0;

  for (let i = 0; i < pre.indexCount; i++) {
    const at = i * INDEX_ENTRY_SIZE;
    const tag = c.u32be(`${name} index tag`);
    const type = c.u32be(`${name} index type`);
    const offset = c.i32be(`${name} index offset`);
    const count = c.u32be(`${name} index count`);
    const bad = (field: string, why: string) =>
      formatError(FORMAT, `Cannot read rpm ${name} index entry ${i} (tag ${tag}) at offset ${abs(at)}: ${why}`, { field: `${name} ${field}`, offset: abs(at), tag });
    if (type > RPM_TYPE.I18NSTRING) throw bad('type', `unknown type ${type}`);
    if (offset < 0 || offset > dl) throw bad('offset', `data offset ${offset} is outside the ${dl}-byte store`);
    if (offset % RPM_TYPE_ALIGN[type]! !== 0) throw bad('offset', `data offset ${offset} is not aligned for ${RPM_TYPE_NAMES[type]}`);
    if (count < 1 && type !== RPM_TYPE.NULL) throw bad('count', 'count is 0');
    if (count > dl) throw bad('count', `count ${count} exceeds the ${dl}-byte store`);
    let len: number;
    const fixed = RPM_TYPE_SIZE[type]!;
    if (type === RPM_TYPE.NULL) len = 0;
    else if (fixed > 0) {
      len = count * fixed;
      if (offset + len > dl) throw bad('count', `${count} × ${fixed} bytes at ${offset} run past the ${dl}-byte store`);
    } else {
      if (type === RPM_TYPE.STRING && count !== 1) throw bad('count', `STRING with count ${count}`);
      let p = offset;
      for (let k = 0; k < count; k++) {
        const nul = store.indexOf(0, p);
        if (nul < 0) throw bad('data', `string ${k} of ${count} at ${p} has no terminating NUL before the end of the store`);
        p = nul + 1;
      }
      len = p - offset;
    }
    const isRegion = tag === TAG.HEADERIMAGE || tag === TAG.HEADERSIGNATURES || tag === TAG.HEADERIMMUTABLE;
    if (isRegion) {
      // region tag (first entry): points at a 16-byte trailer whose offset is -(entries in region × 16)
      if (i !== 0 || type !== RPM_TYPE.BIN || count !== REGION_TRAILER_SIZE) throw bad('region', 'malformed region tag');
      const t = new Cursor(store, FORMAT, offset);
      t.need(REGION_TRAILER_SIZE, `${name} region trailer`);
      t.u32be('region trailer tag');
      const ttype = t.u32be('region trailer type');
      const toff = t.i32be('region trailer offset');
      const tcount = t.u32be('region trailer count');
      const ril = -toff / INDEX_ENTRY_SIZE;
      if (ttype !== RPM_TYPE.BIN || tcount !== REGION_TRAILER_SIZE || toff > 0 || !Number.isInteger(ril) || ril < 1 || ril > pre.indexCount) {
        throw bad('region trailer', `region trailer at ${offset} claims ${ril} entries of ${pre.indexCount}`);
      }
    }
    // non-overlapping entries cannot sum past the store: stops quadratic scans early
    claimed += len;
    if (claimed > dl) throw bad('data', `entries claim ${claimed} bytes of a ${dl}-byte store (overlapping data)`);
    if (len > 0) ranges.push({ start: offset, end: offset + len, tag, at: abs(at) });
    if (!entries.has(tag)) entries.set(tag, { tag, type, offset, count, data: store.subarray(offset, offset + len) });
  }
  // no two entries may claim the same bytes
  ranges.sort((a, b) => a.start - b.start);
  for (let k = 1; k < ranges.length; k++) {
    const prev = ranges[k - 1]!, cur = ranges[k]!;
    if (cur.start < prev.end) {
      throw formatError(FORMAT, `Cannot read rpm ${name} data at offset ${abs(storeStart + cur.start)}: tag ${cur.tag} overlaps tag ${prev.tag}`, {
        field: `${name} tag ${cur.tag}`,
        offset: abs(storeStart + cur.start),
      });
    }
  }
  return new RpmHeader(entries, abs(storeStart), HEADER_PREAMBLE_SIZE + pre.bodySize, name);
}

/** Whole header from one buffer (preamble included): for tests and tools. */
export function parseHeaderBlob(buf: Uint8Array, limits: HeaderLimits, opts: { name: string; base?: number }): RpmHeader {
  const base = opts.base ?? 0;
  const pre = parseHeaderPreamble(buf.subarray(0, HEADER_PREAMBLE_SIZE), limits, opts.name, base);
  const body = buf.subarray(HEADER_PREAMBLE_SIZE);
  if (body.length < pre.bodySize) {
    throw formatError(FORMAT, `Cannot read rpm ${opts.name} at offset ${base + HEADER_PREAMBLE_SIZE}: needs ${pre.bodySize} bytes, ${body.length} left`, {
      field: opts.name,
      offset: base + HEADER_PREAMBLE_SIZE,
    });
  }
  return parseHeader(pre, body.subarray(0, pre.bodySize), { name: opts.name, base });
}

/** the signature header is padded to a multiple of 8 bytes */
export function signaturePadding(headerSize: number): number {
  return (8 - (headerSize % 8)) % 8;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
