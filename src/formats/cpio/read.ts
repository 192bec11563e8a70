import { bug, formatError } from '../../errors.js';
import { ByteStream } from '../../util/bytestream.js';
import { displayText } from '../../util/text.js';

/** newc ("070701"), crc ("070702") and rpm's stripped form ("07070X": magic + 8-hex file index). */
export const CPIO_NEWC = '070701';
export const CPIO_CRC = '070702';
export const CPIO_STRIPPED = '07070X';
export const CPIO_TRAILER = 'TRAILER!!!';
/** 6-byte magic + 13 fields of 8 hex digits */
export const NEWC_HEADER_SIZE = 110;
const STRIPPED_FIELD_SIZE = 8;
const FIELDS = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'size', 'devMajor', 'devMinor', 'rdevMajor', 'rdevMinor', 'nameSize', 'check'] as const;

export interface CpioEntry {
  magic: typeof CPIO_NEWC | typeof CPIO_CRC | typeof CPIO_STRIPPED;
  /** member name as written ('' for stripped entries, which name a file by index) */
  name: string;
  nameBytes: Uint8Array;
  /** stripped entries: the index into the package's file list; -1 otherwise */
  fileIndex: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  /** offset of the entry header in the archive */
  offset: number;
  /** content; must be consumed or left alone before asking for the next entry (left alone = skipped) */
  body: AsyncIterable<Uint8Array>;
}

export interface CpioOptions {
  maxNameLength: number;
  /** size of a stripped entry's content, from the package header */
  strippedSize?: (fileIndex: number) => number;
  /** names the archive in error messages */
  where?: string;
}

type State = { kind: 'header' } | { kind: 'body'; left: number; sum: number; check: number | null; start: number; serial: number } | { kind: 'done' };

/**
 * Streams the entries of a cpio archive. The reader is an explicit state
 * machine (header → body → header … → done); premature EOF, bad magic, bad
 * hex fields or a crc mismatch are format errors naming the offset. Stops at
 * TRAILER!!! without reading further.
 */
export async function* readCpio(chunks: AsyncIterable<Uint8Array>, opts: CpioOptions): AsyncGenerator<CpioEntry> {
  const where = opts.where ?? 'cpio archive';
  const src = new ByteStream(chunks, 'cpio', where);
  const fail = (field: string, offset: number, why: string) => formatError('cpio', `Cannot read ${where} ${field} at offset ${offset}: ${why}`, { field, offset });
  const eof = (field: string, offset: number) => fail(field, offset, 'unexpected end of archive');
  let state: State = { kind: 'header' };
  let serial = 0;

  /** moves body bytes out (to the consumer, or nowhere when skipping), keeping the crc sum */
  const takeBody = async (max: number): Promise<Uint8Array | null> => {
    if (state.kind !== 'body') throw bug('cpio body read outside body state');
    const st = state;
    if (st.left === 0) return null;
    const part = await src.chunk(Math.min(max, st.left));
    if (!part) throw eof('entry data', src.offset);
    st.left -= part.length;
    if (st.check !== null) for (let i = 0; i < part.length; i++) st.sum = (st.sum + part[i]!) >>> 0;
    if (st.left === 0 && st.check !== null && st.sum !== st.check) {
      throw fail('entry checksum', st.start, `crc sum ${st.sum.toString(16)} does not match header ${st.check.toString(16)}`);
    }
    return part;
  };

  const align4 = async (field: string) => {
    const pad = (4 - (src.offset % 4)) % 4;
    if (pad && !(await src.tryExact(pad))) throw eof(field, src.offset);
  };

  try {
    for (;;) {
      if (state.kind === 'body') {
        // the consumer left (part of) the body: skip it
        while ((await takeBody(1 << 20)) !== null);
        state = { kind: 'header' };
      }
      await align4('entry padding');
      const start = src.offset;
      const magicBytes = await src.tryExact(6);
      if (!magicBytes) throw eof('entry magic', start);
      const magic = latin1(magicBytes);
      let entry: Omit<CpioEntry, 'body'>;
      let check: number | null = null;
      if (magic === CPIO_STRIPPED) {
        const fx = await src.tryExact(STRIPPED_FIELD_SIZE);
        if (!fx) throw eof('stripped file index', start + 6);
        const fileIndex = parseHex(fx, 0, fail, 'stripped file index', start + 6);
        if (!opts.strippedSize) throw fail('entry magic', start, 'stripped (07070X) entry but no package header to size it');
        const size = opts.strippedSize(fileIndex);
        await align4('stripped header padding');
        entry = { magic, name: '', nameBytes: new Uint8Array(0), fileIndex, ino: 0, mode: 0, uid: 0, gid: 0, nlink: 0, mtime: 0, size, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, offset: start };
      } else if (magic === CPIO_NEWC || magic === CPIO_CRC) {
        const h = await src.tryExact(NEWC_HEADER_SIZE - 6);
        if (!h) throw eof('entry header', start + 6);
        const f: Record<string, number> = {};
        FIELDS.forEach((name, i) => (f[name] = parseHex(h, i * 8, fail, `entry ${name}`, start + 6 + i * 8)));
        const nameSize = f.nameSize!;
        if (nameSize < 1 || nameSize > opts.maxNameLength + 1) throw fail('entry name size', start + 94, `name size ${nameSize} is outside 1..${opts.maxNameLength + 1}`);
        const nb = await src.tryExact(nameSize);
        if (!nb) throw eof('entry name', start + NEWC_HEADER_SIZE);
        if (nb[nameSize - 1] !== 0) throw fail('entry name', start + NEWC_HEADER_SIZE, 'name is not NUL-terminated');
        const nameBytes = nb.slice(0, nameSize - 1);
        if (nameBytes.includes(0)) throw fail('entry name', start + NEWC_HEADER_SIZE, 'name contains a NUL byte');
        await align4('entry name padding');
        // non-UTF-8 bytes print as \xNN, the same rule as header strings
        const name = displayText(nameBytes);
        if (name === CPIO_TRAILER) {
          state = { kind: 'done' };
          return;
        }
        if (magic === CPIO_CRC) check = f.check!;
        entry = {
          magic,
          name,
          nameBytes,
          fileIndex: -1,
          ino: f.ino!,
          mode: f.mode!,
          uid: f.uid!,
          gid: f.gid!,
          nlink: f.nlink!,
          mtime: f.mtime!,
          size: f.size!,
          devMajor: f.devMajor!,
          devMinor: f.devMinor!,
          rdevMajor: f.rdevMajor!,
          rdevMinor: f.rdevMinor!,
          offset: start,
        };
      } else {
        throw fail('entry magic', start, `bad magic ${JSON.stringify(magic)}`);
      }
      const mySerial = ++serial;
      state = { kind: 'body', left: entry.size, sum: 0, check, start, serial: mySerial };
      if (entry.size === 0 && check !== null && check !== 0) throw fail('entry checksum', start, `crc sum 0 does not match header ${check.toString(16)}`);
      const body: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: async function* () {
          for (;;) {
            if (state.kind !== 'body' || state.serial !== mySerial) throw bug('cpio entry body read after the archive moved on');
            const part = await takeBody(1 << 20);
            if (!part) return;
            yield part;
          }
        },
      };
      yield { ...entry, body };
    }
  } finally {
    await src.close();
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

function parseHex(b: Uint8Array, at: number, fail: (field: string, offset: number, why: string) => Error, field: string, offset: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = b[i]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else throw fail(field, offset, `${JSON.stringify(latin1(b.subarray(at, at + 8)))} is not 8 hex digits`);
    v = v * 16 + d;
  }
  return v;
}
