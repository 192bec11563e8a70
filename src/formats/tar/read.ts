import { formatError } from '../../errors.js';
import { ByteStream } from '../../util/bytestream.js';
import { BLOCK, GNU_MAGIC, TAR_FIELD, TYPE, USTAR_MAGIC, type TarField } from './format.js';
import { concatBytes } from '../../util/bytes.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** member name bytes after GNU long names, ustar prefix and pax `path` */
  path: Uint8Array;
  /** symlink or hardlink target bytes; empty otherwise */
  linkpath: Uint8Array;
  type: TarEntryType;
  /** permission bits only (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** body length in bytes */
  size: number;
  /** seconds since the epoch (pax sub-second part dropped) */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** from pax SCHILY.xattr.* / LIBARCHIVE.xattr.* */
  xattrs: Record<string, Uint8Array>;
  /** offset of the entry's own header block in the tar stream */
  offset: number;
}

export interface TarEntry extends TarHeader {
  /** the entry's data; read it before the next entry, or not at all (it is then skipped) */
  body: AsyncIterable<Uint8Array>;
}

export interface TarOptions {
  /** names the archive in errors */
  where: string;
  /** cap on one pax / GNU long-name record, bytes */
  maxMetaBytes?: number;
}

/** pax records and GNU long names waiting for the entry they describe */
interface Pending {
  longName?: Uint8Array;
  longLink?: Uint8Array;
  pax: Map<string, Uint8Array>;
}

type State =
  | { kind: 'header'; zeroBlocks: number }
  | { kind: 'meta'; typeflag: string; size: number; offset: number }
  | { kind: 'entry'; header: TarHeader }
  | { kind: 'skip'; left: number; pad: number }
  | { kind: 'end' };

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/**
 * Streams tar entries: ustar, old GNU, GNU `././@LongLink` (L/K) and pax
 * (x/g) headers, base-256 numbers. Checksums are verified; metadata records
 * are capped; end of input before the end-of-archive blocks is a format error.
 */
export async function* readTar(input: AsyncIterable<Uint8Array>, opts: TarOptions): AsyncGenerator<TarEntry> {
  const { where } = opts;
  const maxMeta = opts.maxMetaBytes ?? 1024 * 1024;
  const bs = new ByteStream(input, 'tar', where);
  const fail = (msg: string, offset: number, field: string) =>
    formatError('tar', `Cannot read tar ${field} in ${where} at offset ${offset}: ${msg}`, { field, offset, where });
  const globalPax = new Map<string, Uint8Array>();
  let pending: Pending = { pax: new Map() };
  let state: State = { kind: 'header', zeroBlocks: 0 };
  let entryId = 0;
  const live = { id: 0, left: 0 };
  try {
    for (;;) {
      switch (state.kind) {
        case 'header': {
          if (state.zeroBlocks === 1 && (await bs.atEnd())) {
            state = { kind: 'end' }; // one zero block then EOF: GNU tar accepts it too
            break;
          }
          if (await bs.atEnd()) throw fail('unexpected end of data (no end-of-archive blocks)', bs.offset, 'header');
          const offset = bs.offset;
          const header = await bs.exact(BLOCK, 'header');
          if (header.every((b) => b === 0)) {
            state = state.zeroBlocks === 1 ? { kind: 'end' } : { kind: 'header', zeroBlocks: 1 };
            break;
          }
          if (state.zeroBlocks === 1) throw fail('lone zero block inside the archive', offset - BLOCK, 'header');
          verifyChecksum(header, offset, fail);
          const typeflag = String.fromCharCode(header[TAR_FIELD.typeflag[0]]!);
          const size = readNumber(header, 'size', offset, fail);
          if (size < 0) throw fail(`negative size ${size}`, offset + TAR_FIELD.size[0], 'size');
          if (typeflag === TYPE.paxLocal || typeflag === TYPE.paxGlobal || typeflag === TYPE.gnuLongName || typeflag === TYPE.gnuLongLink) {
            if (size > maxMeta) throw fail(`${describeMeta(typeflag)} of ${size} bytes exceeds the ${maxMeta}-byte limit`, offset, 'size');
            state = { kind: 'meta', typeflag, size, offset };
            break;
          }
          state = { kind: 'entry', header: buildHeader(header, offset, typeflag, size, pending, globalPax, fail) };
          pending = { pax: new Map() };
          break;
        }
        case 'meta': {
          const { typeflag, size, offset } = state;
          const data = (await bs.exact(size, describeMeta(typeflag))).slice();
          await bs.skip(pad(size), 'padding');
          if (typeflag === TYPE.gnuLongName) pending.longName = cString(data);
          else if (typeflag === TYPE.gnuLongLink) pending.longLink = cString(data);
          else parsePax(data, offset + BLOCK, typeflag === TYPE.paxGlobal ? globalPax : pending.pax, fail);
          state = { kind: 'header', zeroBlocks: 0 };
          break;
        }
        case 'entry': {
          const h: TarHeader = state.header;
          // only regular files and hardlinks carry data (libarchive does the same)
          const bodySize: number = h.type === 'file' || h.type === 'hardlink' ? h.size : 0;
          const id = ++entryId;
          live.id = id;
          live.left = bodySize;
          const field = `entry data at header offset ${h.offset}`;
          const body = (async function* (): AsyncGenerator<Uint8Array> {
            while (live.id === id && live.left > 0) {
              const c = await bs.some(live.left, field);
              live.left -= c.length;
              yield c;
            }
          })();
          yield { ...h, body };
          state = { kind: 'skip', left: live.left, pad: pad(bodySize) };
          live.id = 0;
          break;
        }
        case 'skip':
          await bs.skip(state.left + state.pad, 'entry data');
          state = { kind: 'header', zeroBlocks: 0 };
          break;
        case 'end':
          // trailing blocking-factor padding is not looked at
          return;
      }
    }
  } finally {
    await bs.close();
  }
}

type Fail = (msg: string, offset: number, field: string) => Error;

function describeMeta(typeflag: string): string {
  return typeflag === TYPE.gnuLongName ? 'GNU long name' : typeflag === TYPE.gnuLongLink ? 'GNU long link' : 'pax header';
}

function pad(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function fieldBytes(h: Uint8Array, f: TarField): Uint8Array {
  const [o, l] = TAR_FIELD[f];
  return h.subarray(o, o + l);
}

function cString(b: Uint8Array): Uint8Array {
  const nul = b.indexOf(0);
  return nul >= 0 ? b.subarray(0, nul) : b;
}

function verifyChecksum(h: Uint8Array, offset: number, fail: Fail): void {
  const stored = readOctal(fieldBytes(h, 'chksum'), offset, 'chksum', fail);
  let unsigned = 0;
  let signed = 0;
  const [co, cl] = TAR_FIELD.chksum;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= co && i < co + cl ? 0x20 : h[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  // some historic tars summed signed chars; accept either
  if (stored !== unsigned && stored !== signed) throw fail(`checksum mismatch (stored ${stored}, computed ${unsigned})`, offset + co, 'chksum');
}

function readOctal(b: Uint8Array, offset: number, field: string, fail: Fail): number {
  let i = 0;
  while (i < b.length && b[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x37) {
      v = v * 8 + (c - 0x30);
      digits++;
    } else if (c === 0 || c === 0x20) break;
    else throw fail(`${JSON.stringify(latin1.decode(b))} is not an octal number`, offset, field);
  }
  for (; i < b.length; i++) if (b[i] !== 0 && b[i] !== 0x20) throw fail(`${JSON.stringify(latin1.decode(b))} has junk after the number`, offset, field);
  if (!Number.isSafeInteger(v)) throw fail(`${v} is too large`, offset, field);
  return digits ? v : 0;
}

/** Octal, or GNU base-256 when the first byte has its top bit set (0x80 positive, 0xff negative). */
function readNumber(h: Uint8Array, f: TarField, headerOffset: number, fail: Fail): number {
  const b = fieldBytes(h, f);
  const offset = headerOffset + TAR_FIELD[f][0];
  if (b[0]! & 0x80) {
    const negative = b[0] === 0xff;
    let v = BigInt(b[0]! & (negative ? 0xff : 0x7f));
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    if (negative) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`base-256 value ${v} is too large`, offset, f);
    return Number(v);
  }
  return readOctal(b, offset, f, fail);
}

const TYPES: Record<string, TarEntryType> = {
  [TYPE.file]: 'file',
  [TYPE.fileOld]: 'file',
  [TYPE.contiguous]: 'file',
  [TYPE.hardlink]: 'hardlink',
  [TYPE.symlink]: 'symlink',
  [TYPE.char]: 'char',
  [TYPE.block]: 'block',
  [TYPE.dir]: 'dir',
  [TYPE.fifo]: 'fifo',
};

function buildHeader(h: Uint8Array, offset: number, typeflag: string, size: number, pending: Pending, globalPax: Map<string, Uint8Array>, fail: Fail): TarHeader {
  let type = TYPES[typeflag];
  if (!type) throw fail(`unsupported entry type ${JSON.stringify(typeflag)}`, offset + TAR_FIELD.typeflag[0], 'typeflag');
  const magic = latin1.decode(fieldBytes(h, 'magic')) + latin1.decode(fieldBytes(h, 'version'));
  let path: Uint8Array = cString(fieldBytes(h, 'name'));
  if (magic === USTAR_MAGIC) {
    const prefix = cString(fieldBytes(h, 'prefix'));
    if (prefix.length) path = concatBytes([prefix, new Uint8Array([0x2f]), path]);
  } else if (magic !== GNU_MAGIC && typeflag === TYPE.fileOld && path[path.length - 1] === 0x2f) {
    type = 'dir'; // V7 tar marks directories only by the trailing slash
  }
  const hdr: TarHeader = {
    path: pending.longName ?? path,
    linkpath: pending.longLink ?? cString(fieldBytes(h, 'linkname')),
    type,
    mode: readNumber(h, 'mode', offset, fail) & 0o7777,
    uid: readNumber(h, 'uid', offset, fail),
    gid: readNumber(h, 'gid', offset, fail),
    uname: utf8.decode(cString(fieldBytes(h, 'uname'))),
    gname: utf8.decode(cString(fieldBytes(h, 'gname'))),
    size,
    mtime: readNumber(h, 'mtime', offset, fail),
    devmajor: type === 'char' || type === 'block' ? readNumber(h, 'devmajor', offset, fail) : 0,
    devminor: type === 'char' || type === 'block' ? readNumber(h, 'devminor', offset, fail) : 0,
    xattrs: {},
    offset,
  };
  // pax precedence: local over global over the ustar fields
  const pax = new Map([...globalPax, ...pending.pax]);
  const paxNumber = (key: string, float = false): number | undefined => {
    const v = pax.get(key);
    if (v === undefined || v.length === 0) return undefined;
    const s = latin1.decode(v);
    if (!(float ? /^-?[0-9]+(\.[0-9]*)?$/ : /^[0-9]+$/).test(s)) throw fail(`pax ${key}=${JSON.stringify(s)} is not a number`, offset, `pax ${key}`);
    const n = Math.floor(Number(s));
    if (!Number.isSafeInteger(n)) throw fail(`pax ${key}=${s} is too large`, offset, `pax ${key}`);
    return n;
  };
  for (const [key, value] of pax) {
    if (value.length === 0) continue;
    if (key === 'path') hdr.path = value;
    else if (key === 'linkpath') hdr.linkpath = value;
    else if (key === 'uname') hdr.uname = utf8.decode(value);
    else if (key === 'gname') hdr.gname = utf8.decode(value);
    else if (key.startsWith('SCHILY.xattr.')) hdr.xattrs[key.slice('SCHILY.xattr.'.length)] = value;
    else if (key.startsWith('LIBARCHIVE.xattr.')) hdr.xattrs[decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length))] = Buffer.from(latin1.decode(value), 'base64');
    else if (key.startsWith('GNU.sparse.')) throw fail('GNU sparse files are not supported', offset, `pax ${key}`);
  }
  hdr.size = paxNumber('size') ?? hdr.size;
  hdr.mtime = paxNumber('mtime', true) ?? hdr.mtime;
  hdr.uid = paxNumber('uid') ?? hdr.uid;
  hdr.gid = paxNumber('gid') ?? hdr.gid;
  if (hdr.type === 'char' || hdr.type === 'block') {
    hdr.devmajor = paxNumber('SCHILY.devmajor') ?? hdr.devmajor;
    hdr.devminor = paxNumber('SCHILY.devminor') ?? hdr.devminor;
  }
  if (hdr.path.length === 0) throw fail('empty member name', offset, 'name');
  return hdr;
}

/** pax extended header: records "<len> <key>=<value>\n", len counting the whole record. */
function parsePax(data: Uint8Array, offset: number, into: Map<string, Uint8Array>, fail: Fail): void {
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers NUL-pad the record block
    let sp = pos;
    while (sp < data.length && data[sp]! >= 0x30 && data[sp]! <= 0x39 && sp - pos < 20) sp++;
    if (sp === pos || data[sp] !== 0x20) throw fail('bad record length', offset + pos, 'pax header');
    const len = Number(latin1.decode(data.subarray(pos, sp)));
    const end = pos + len;
    if (len <= sp - pos + 1 || end > data.length || data[end - 1] !== 0x0a) throw fail(`record length ${len} does not fit`, offset + pos, 'pax header');
    const rec = data.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw fail('record without "key="', offset + pos, 'pax header');
    const key = utf8.decode(rec.subarray(0, eq));
    const value = rec.slice(eq + 1);
    // kept even when empty: an empty value unsets the keyword (POSIX pax), masking a global one
    into.set(key, value);
    pos = end;
  }
}

