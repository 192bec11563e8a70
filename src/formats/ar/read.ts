import { formatError } from '../../errors.js';
import { displayText } from '../../util/text.js';
import { ByteStream } from '../../util/bytestream.js';
import { AR_FIELD, AR_FMAG, AR_HEADER_LEN, AR_MAGIC, AR_MAGIC_LEN, BSD_LONGNAME_PREFIX } from './format.js';

export interface ArMember {
  /** member name with GNU `/` terminator and padding removed; raw bytes in nameBytes */
  name: string;
  nameBytes: Uint8Array;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  /** data size, BSD long name excluded */
  size: number;
  /** offset of the member header in the archive */
  offset: number;
  /**
   * The member's data. Read it before asking for the next member, or not at
   * all (the reader then skips it); never concurrently with the reader.
   */
  body: AsyncIterable<Uint8Array>;
}

export interface ArOptions {
  /** names the archive in errors, e.g. "foo.deb" */
  where: string;
  /** cap on a BSD long name and on the GNU long-name table */
  maxNameBytes?: number;
  /** cap on the number of members */
  maxMembers?: number;
}

const ascii = new TextDecoder('latin1');

/** Streams the members of an ar archive; bounded by the largest input chunk and name caps. */
export async function* readAr(input: AsyncIterable<Uint8Array>, opts: ArOptions): AsyncGenerator<ArMember> {
  const { where } = opts;
  const maxName = opts.maxNameBytes ?? 1024 * 1024;
  const maxMembers = opts.maxMembers ?? 65536;
  const bs = new ByteStream(input, 'ar', where);
  const fail = (msg: string, offset: number, field: string) =>
    formatError('ar', `Cannot read ar ${field} in ${where} at offset ${offset}: ${msg}`, { field, offset, where });
  try {
    const magic = await bs.exact(AR_MAGIC_LEN, 'magic');
    if (ascii.decode(magic) !== AR_MAGIC) throw fail('not an ar archive (bad magic)', 0, 'magic');
    let longNames: Uint8Array | null = null;
    let count = 0;
    // which member's body is live, and how much of it is unread
    const live = { id: 0, remaining: 0, pad: 0 };
    for (;;) {
      await bs.skip(live.remaining, 'member data');
      live.remaining = 0;
      await bs.skip(live.pad, 'member padding');
      live.pad = 0;
      live.id++;
      if (await bs.atEnd()) return;
      const offset = bs.offset;
      const h = await bs.exact(AR_HEADER_LEN, 'member header');
      const field = (f: keyof typeof AR_FIELD) => ascii.decode(h.subarray(AR_FIELD[f][0], AR_FIELD[f][0] + AR_FIELD[f][1]));
      if (field('ar_fmag') !== AR_FMAG) throw fail('bad header terminator', offset + AR_FIELD.ar_fmag[0], 'member header');
      const num = (f: keyof typeof AR_FIELD, radix: 8 | 10): number => {
        const s = field(f).trimEnd();
        if (s === '') return 0;
        if (!(radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/).test(s)) throw fail(`${JSON.stringify(s)} is not a number`, offset + AR_FIELD[f][0], f);
        return parseInt(s, radix);
      };
      let size = num('ar_size', 10);
      const mtime = num('ar_date', 10);
      const uid = num('ar_uid', 10);
      const gid = num('ar_gid', 10);
      const mode = num('ar_mode', 8);
      const rawName = field('ar_name').trimEnd();
      if (++count > maxMembers) throw fail(`more than ${maxMembers} members`, offset, 'member header');
      live.pad = size % 2;
      let nameBytes: Uint8Array;
      if (rawName.startsWith(BSD_LONGNAME_PREFIX)) {
        const len = Number(rawName.slice(BSD_LONGNAME_PREFIX.length));
        if (!Number.isSafeInteger(len) || len < 0 || len > size || len > maxName) throw fail(`bad BSD long name length ${JSON.stringify(rawName)}`, offset, 'ar_name');
        const nb = await bs.exact(len, 'BSD long name');
        const nul = nb.indexOf(0);
        nameBytes = nul >= 0 ? nb.subarray(0, nul) : nb;
        size -= len;
      } else if (rawName === '//') {
        // GNU long-name table: names end in "/\n"
        if (size > maxName) throw fail(`long-name table of ${size} bytes exceeds ${maxName}`, offset, 'ar_name');
        longNames = (await bs.exact(size, 'long-name table')).slice();
        continue;
      } else if (rawName === '/' || rawName === '/SYM64/') {
        live.remaining = size; // symbol table: not a member anyone asks for
        continue;
      } else if (/^\/[0-9]+$/.test(rawName)) {
        const at = Number(rawName.slice(1));
        if (!longNames || at >= longNames.length) throw fail(`long name ${rawName} has no entry in the long-name table`, offset, 'ar_name');
        let end = at;
        while (end < longNames.length && longNames[end] !== 0x0a) end++;
        nameBytes = longNames.subarray(at, end);
        if (nameBytes[nameBytes.length - 1] === 0x2f) nameBytes = nameBytes.subarray(0, -1);
      } else {
        // GNU ends short names with '/', System V/dpkg pad with spaces
        nameBytes = h.slice(0, rawName.length);
        if (nameBytes[nameBytes.length - 1] === 0x2f) nameBytes = nameBytes.subarray(0, -1);
      }
      live.remaining = size;
      const id = live.id;
      const memberField = `member ${JSON.stringify(displayText(nameBytes))} data`;
      const body = (async function* (): AsyncGenerator<Uint8Array> {
        while (live.id === id && live.remaining > 0) {
          const c = await bs.some(live.remaining, memberField);
          live.remaining -= c.length;
          yield c;
        }
      })();
      yield { name: displayText(nameBytes), nameBytes, mtime, uid, gid, mode, size, offset, body };
    }
  } finally {
    await bs.close();
  }
}
