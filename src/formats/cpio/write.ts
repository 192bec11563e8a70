/** A minimal newc/crc/stripped cpio writer, for tests and hostile inputs. */
export interface CpioWriteEntry {
  name?: string;
  mode?: number;
  data?: Uint8Array;
  nlink?: number;
  ino?: number;
  mtime?: number;
  /** write the 070702 form with the byte-sum checksum (or this wrong value) */
  crc?: boolean | number;
  /** write rpm's stripped 07070X form for this file index */
  strippedIndex?: number;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

export function encodeCpio(entries: CpioWriteEntry[], opts: { trailer?: boolean } = {}): Uint8Array {
  const out: Buffer[] = [];
  let off = 0;
  const push = (b: Buffer) => {
    out.push(b);
    off += b.length;
  };
  const all = opts.trailer === false ? entries : [...entries, { name: 'TRAILER!!!', mode: 0, nlink: 1 }];
  for (const e of all) {
    push(Buffer.alloc(pad4(off)));
    const data = Buffer.from(e.data ?? new Uint8Array(0));
    if (e.strippedIndex !== undefined) {
      push(Buffer.from('07070X' + hex8(e.strippedIndex), 'latin1'));
    } else {
      // one byte per char, so tests can write non-UTF-8 names
      const name = Buffer.from((e.name ?? '') + '\0', 'latin1');
      let sum = 0;
      for (const b of data) sum = (sum + b) >>> 0;
      const check = typeof e.crc === 'number' ? e.crc : e.crc ? sum : 0;
      const fields = [e.ino ?? 1, e.mode ?? 0o100644, 0, 0, e.nlink ?? 1, e.mtime ?? 0, data.length, 0, 0, 0, 0, name.length, check];
      push(Buffer.from((e.crc !== undefined && e.crc !== false ? '070702' : '070701') + fields.map(hex8).join(''), 'latin1'));
      push(name);
    }
    push(Buffer.alloc(pad4(off)));
    push(data);
  }
  push(Buffer.alloc(pad4(off)));
  return new Uint8Array(Buffer.concat(out));
}
