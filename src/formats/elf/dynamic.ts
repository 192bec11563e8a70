import { Cursor } from '../../util/cursor.js';
import { formatError } from '../../errors.js';

/**
 * What ldconfig reads from an ELF file (elf(5); glibc elf/readelflib.c):
 * class, machine, type, DT_SONAME, DT_NEEDED and PT_INTERP. Reads only the
 * headers it needs through a ByteSource, so a library is not read whole.
 */

export interface ElfDynamicInfo {
  elfClass: 32 | 64;
  machine: number;
  type: number;
  soname: string | null;
  needed: string[];
  interpreter: string | null;
}

export const EM_386 = 3;
export const EM_X86_64 = 62;
export const ET_DYN = 3;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;

/** Random access to a file's bytes: lets the ELF reader fetch a few headers instead of a whole library. */
export interface ByteSource {
  readonly size: number;
  /** up to `length` bytes at `offset` (fewer only at the end of the file) */
  read(offset: number, length: number): Uint8Array;
}

export const bufferSource = (buf: Uint8Array): ByteSource => ({ size: buf.length, read: (o, l) => buf.subarray(o, o + l) });

/** Reads what ldconfig needs from an ELF file: class, machine, type, DT_SONAME, DT_NEEDED, PT_INTERP. */
export function readElfDynamic(file: Uint8Array | ByteSource): ElfDynamicInfo {
  const src = file instanceof Uint8Array ? bufferSource(file) : file;
  // a cursor over [at, at+len): seeks are relative to `at`, errors name file offsets
  const window = (at: number, len: number, field: string): Cursor => {
    if (!Number.isSafeInteger(at) || at < 0 || at > src.size) throw formatError('elf', `Cannot seek to elf ${field} at offset ${at}: outside ${src.size} bytes`, { field, offset: at });
    return new Cursor(src.read(at, Math.max(0, Math.min(len, src.size - at))), 'elf', 0, at);
  };
  let c = window(0, 64, 'ELF header');
  const ident = c.bytes(16, 'e_ident');
  if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) throw formatError('elf', 'Cannot read ELF: bad magic', { offset: 0, field: 'e_ident' });
  const cls = ident[4];
  if (cls !== 1 && cls !== 2) throw formatError('elf', `Cannot read ELF: class ${cls}`, { offset: 4, field: 'EI_CLASS' });
  const is64 = cls === 2;
  const le = ident[5] === 1;
  if (ident[5] !== 1 && ident[5] !== 2) throw formatError('elf', `Cannot read ELF: data encoding ${ident[5]}`, { offset: 5, field: 'EI_DATA' });
  const u16 = (f: string): number => (le ? c.u16le(f) : c.u16be(f));
  const u32 = (f: string): number => (le ? c.u32le(f) : c.u32be(f));
  const word = (f: string): number => {
    if (!is64) return u32(f);
    const v = le ? c.u64le(f) : c.u64be(f);
    // offsets past 2^53 cannot be in a file anyway; clamp so bounds checks fail cleanly
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const type = u16('e_type');
  const machine = u16('e_machine');
  u32('e_version');
  word('e_entry');
  const phoff = word('e_phoff');
  word('e_shoff');
  u32('e_flags');
  u16('e_ehsize');
  const phentsize = u16('e_phentsize');
  const phnum = u16('e_phnum');
  const info: ElfDynamicInfo = { elfClass: is64 ? 64 : 32, machine, type, soname: null, needed: [], interpreter: null };

  c = window(phoff, phnum * phentsize, 'e_phoff');
  c.needArray(phnum, phentsize, 'program headers');
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dynOff = 0;
  let dynSize = 0;
  let interp: { offset: number; size: number } | null = null;
  for (let k = 0; k < phnum; k++) {
    c.seek(k * phentsize, 'program header');
    const ptype = u32('p_type');
    let offset: number, vaddr: number, filesz: number;
    if (is64) {
      u32('p_flags');
      offset = word('p_offset');
      vaddr = word('p_vaddr');
      word('p_paddr');
      filesz = word('p_filesz');
    } else {
      offset = u32('p_offset');
      vaddr = u32('p_vaddr');
      u32('p_paddr');
      filesz = u32('p_filesz');
    }
    if (ptype === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (ptype === PT_DYNAMIC) {
      dynOff = offset;
      dynSize = filesz;
    } else if (ptype === PT_INTERP) interp = { offset, size: filesz };
  }
  if (interp) info.interpreter = cString(src, interp.offset, 'PT_INTERP', interp.size);
  if (dynSize === 0) return info;

  const dyn: { tag: number; val: number }[] = [];
  // the entries end at DT_NULL; a segment without one is read to its end and fails there, as before
  c = window(dynOff, dynSize, 'PT_DYNAMIC');
  for (;;) {
    const tag = word('d_tag');
    const val = word('d_val');
    if (tag === DT_NULL) break;
    dyn.push({ tag, val });
  }
  const strtab = dyn.find((d) => d.tag === DT_STRTAB);
  if (!strtab) return info;
  // DT_STRTAB is a virtual address: map it through the PT_LOAD holding it, as readelflib.c does
  const seg = loads.find((l) => strtab.val >= l.vaddr && strtab.val - l.vaddr < l.filesz);
  if (!seg) return info;
  const strOff = strtab.val - seg.vaddr + seg.offset;
  for (const d of dyn) {
    if (d.tag === DT_NEEDED) info.needed.push(cString(src, strOff + d.val, 'DT_NEEDED'));
    else if (d.tag === DT_SONAME) info.soname = cString(src, strOff + d.val, 'DT_SONAME');
  }
  return info;
}

/** A NUL-terminated string at `at`, fetched in growing pieces (sonames are short; a hostile one is bounded by the file). */
function cString(src: ByteSource, at: number, field: string, hint = 256): string {
  if (!Number.isSafeInteger(at) || at < 0 || at >= src.size) throw formatError('elf', `Cannot read ELF ${field}: offset ${at} outside ${src.size} bytes`, { offset: at, field });
  let want = Math.max(16, hint);
  for (;;) {
    const piece = src.read(at, Math.min(want, src.size - at));
    const end = piece.indexOf(0);
    if (end >= 0) {
      // sonames that are not UTF-8 cannot round-trip through a JS string: skip them (ldconfig would keep the bytes)
      try {
        return utf8.decode(piece.subarray(0, end));
      } catch {
        throw formatError('elf', `Cannot read ELF ${field}: not UTF-8`, { offset: at, field });
      }
    }
    if (at + piece.length >= src.size) throw formatError('elf', `Cannot read ELF ${field}: unterminated string`, { offset: at, field });
    want *= 4;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
