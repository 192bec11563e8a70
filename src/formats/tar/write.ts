import { BLOCK, GNU_LONGLINK_NAME, GNU_MAGIC, TAR_FIELD, TYPE, USTAR_MAGIC, type TarField } from './format.js';
import { concatBytes } from '../../util/bytes.js';

/** One entry for the small tar encoder used by tests and fixture builders. */
export interface TarWriteEntry {
  path: string | Uint8Array;
  /** typeflag character, default '0' */
  typeflag?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
  data?: Uint8Array;
  /** header size when it should differ from data.length (hostile tests) */
  size?: number;
  linkpath?: string | Uint8Array;
  devmajor?: number;
  devminor?: number;
  /** pax records written in an 'x' header before the entry */
  pax?: Record<string, string | Uint8Array>;
  /** write path/linkpath through GNU ././@LongLink L/K headers */
  gnuLongNames?: boolean;
  /** numeric fields written in GNU base-256 */
  base256?: TarField[];
  /** 'gnu' writes the old GNU magic */
  magic?: 'ustar' | 'gnu';
  /** corrupt the checksum (hostile tests) */
  badChecksum?: boolean;
}

const enc = new TextEncoder();
const bytes = (v: string | Uint8Array): Uint8Array => (typeof v === 'string' ? enc.encode(v) : v);

/** Encodes entries as a tar stream, ending with two zero blocks unless `end` is false. */
export function encodeTar(entries: TarWriteEntry[], opts: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    if (e.pax) {
      const recs = Object.entries(e.pax).map(([k, v]) => paxRecord(k, bytes(v)));
      parts.push(...member({ path: 'PaxHeaders/x', typeflag: TYPE.paxLocal }, concatBytes(recs)));
    }
    let path = bytes(e.path);
    let link = bytes(e.linkpath ?? '');
    if (e.gnuLongNames) {
      if (link.length) parts.push(...member({ path: GNU_LONGLINK_NAME, typeflag: TYPE.gnuLongLink, magic: 'gnu' }, concatBytes([link, new Uint8Array(1)])));
      parts.push(...member({ path: GNU_LONGLINK_NAME, typeflag: TYPE.gnuLongName, magic: 'gnu' }, concatBytes([path, new Uint8Array(1)])));
      path = path.subarray(0, 100);
      link = link.subarray(0, 100);
    }
    parts.push(...member({ ...e, path, linkpath: link }, data));
  }
  if (opts.end ?? true) parts.push(new Uint8Array(2 * BLOCK));
  return concatBytes(parts);
}

function member(e: TarWriteEntry, data: Uint8Array): Uint8Array[] {
  const h = new Uint8Array(BLOCK);
  const put = (f: TarField, v: Uint8Array) => h.set(v.subarray(0, TAR_FIELD[f][1]), TAR_FIELD[f][0]);
  const num = (f: TarField, v: number) => {
    const len = TAR_FIELD[f][1];
    if (e.base256?.includes(f)) {
      const b = new Uint8Array(len);
      let x = BigInt(v);
      if (x < 0n) x += 1n << BigInt(8 * len);
      for (let i = len - 1; i >= 0; i--, x >>= 8n) b[i] = Number(x & 0xffn);
      b[0] = v < 0 ? 0xff : 0x80 | b[0]!;
      put(f, b);
    } else put(f, enc.encode(v.toString(8).padStart(len - 1, '0') + '\0'));
  };
  put('name', bytes(e.path));
  num('mode', e.mode ?? 0o644);
  num('uid', e.uid ?? 0);
  num('gid', e.gid ?? 0);
  num('size', e.size ?? data.length);
  num('mtime', e.mtime ?? 0);
  put('typeflag', enc.encode(e.typeflag ?? TYPE.file));
  put('linkname', bytes(e.linkpath ?? ''));
  put('magic', enc.encode(e.magic === 'gnu' ? GNU_MAGIC : USTAR_MAGIC));
  put('uname', enc.encode(e.uname ?? 'root'));
  put('gname', enc.encode(e.gname ?? 'root'));
  num('devmajor', e.devmajor ?? 0);
  num('devminor', e.devminor ?? 0);
  h.fill(0x20, TAR_FIELD.chksum[0], TAR_FIELD.chksum[0] + TAR_FIELD.chksum[1]);
  let sum = h.reduce((a, b) => a + b, 0);
  if (e.badChecksum) sum += 1;
  put('chksum', enc.encode(sum.toString(8).padStart(6, '0') + '\0 '));
  const padded = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  padded.set(data);
  return [h, padded];
}

/** "<len> key=value\n" where len counts its own digits */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = data(` ${key}=`, value, '\n');
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return concatBytes([enc.encode(String(len)), body]);
}

function data(a: string, v: Uint8Array, z: string): Uint8Array {
  return concatBytes([enc.encode(a), v, enc.encode(z)]);
}

