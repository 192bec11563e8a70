/**
 * Reads a kernel module's `.modinfo` ELF section: NUL-separated `key=value`
 * strings (depends=, softdep=, alias=, vermagic=…). modules.dep is what depmod
 * derives from `depends=`; Debian's linux-image package ships no modules.dep
 * (depmod writes it in postinst, which weld never runs), so weld reads this instead.
 * Pure; every read goes through the Cursor.
 */
import { Cursor, safeNumber } from '../util/cursor.js';
import { formatError } from '../errors.js';

const F = 'kernel module';
const SHT_NOBITS = 8;

/** key → values in file order (alias= and softdep= repeat) */
export type Modinfo = Map<string, string[]>;

export function readModinfo(buf: Uint8Array): Modinfo {
  const c = new Cursor(buf, F);
  const ident = c.bytes(16, 'e_ident');
  if (ident[0] !== 0x7f || ident[1] !== 0x45 || ident[2] !== 0x4c || ident[3] !== 0x46) throw formatError(F, 'Cannot read kernel module: not an ELF file', { offset: 0, field: 'e_ident' });
  const is64 = ident[4] === 2;
  if (ident[4] !== 1 && !is64) throw formatError(F, `Cannot read kernel module: ELF class ${ident[4]}`, { offset: 4, field: 'EI_CLASS' });
  const le = ident[5] === 1;
  if (ident[5] !== 1 && ident[5] !== 2) throw formatError(F, `Cannot read kernel module: ELF data encoding ${ident[5]}`, { offset: 5, field: 'EI_DATA' });
  const u16 = (at: number, f: string) => (c.seek(at, f), le ? c.u16le(f) : c.u16be(f));
  const u32 = (at: number, f: string) => (c.seek(at, f), le ? c.u32le(f) : c.u32be(f));
  const word = (at: number, f: string) => (is64 ? safeNumber((c.seek(at, f), le ? c.u64le(f) : c.u64be(f)), F, f) : u32(at, f));

  // ELF header and section header offsets (System V gABI, ELF32/ELF64)
  const shoff = word(is64 ? 0x28 : 0x20, 'e_shoff');
  const shentsize = u16(is64 ? 0x3a : 0x2e, 'e_shentsize');
  const shnum = u16(is64 ? 0x3c : 0x30, 'e_shnum');
  const shstrndx = u16(is64 ? 0x3e : 0x32, 'e_shstrndx');
  const minEnt = is64 ? 64 : 40;
  if (shentsize < minEnt) throw formatError(F, `Cannot read kernel module: section header size ${shentsize} < ${minEnt}`, { offset: is64 ? 0x3a : 0x2e, field: 'e_shentsize' });
  c.seek(shoff, 'e_shoff').needArray(shnum, shentsize, 'section headers');
  if (shstrndx >= shnum) throw formatError(F, `Cannot read kernel module: e_shstrndx ${shstrndx} ≥ e_shnum ${shnum}`, { field: 'e_shstrndx' });

  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: u32(at, 'sh_name'),
      type: u32(at + 4, 'sh_type'),
      offset: word(at + (is64 ? 24 : 16), 'sh_offset'),
      size: word(at + (is64 ? 32 : 20), 'sh_size'),
    };
  };
  const bytesOf = (s: { offset: number; size: number }, what: string) => c.seek(s.offset, what).bytes(s.size, what);
  const shstr = bytesOf(section(shstrndx), 'section name table');
  const info: Modinfo = new Map();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.name >= shstr.length) throw formatError(F, `Cannot read kernel module: section ${i} name offset ${s.name} is outside the name table`, { field: 'sh_name' });
    const end = shstr.indexOf(0, s.name);
    const name = new TextDecoder().decode(shstr.subarray(s.name, end < 0 ? shstr.length : end));
    if (name !== '.modinfo' || s.type === SHT_NOBITS) continue;
    const data = bytesOf(s, '.modinfo');
    for (const str of new TextDecoder().decode(data).split('\0')) {
      const eq = str.indexOf('=');
      if (eq <= 0) continue; // alignment padding between strings
      const k = str.slice(0, eq);
      const l = info.get(k);
      if (l) l.push(str.slice(eq + 1));
      else info.set(k, [str.slice(eq + 1)]);
    }
    return info;
  }
  throw formatError(F, 'Cannot read kernel module: no .modinfo section', { field: '.modinfo' });
}

/** modprobe treats '-' and '_' in module names alike (kmod's modname_normalize). */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** `kernel/drivers/md/dm-mod.ko.xz` → `dm_mod` */
export function moduleNameFromPath(path: string): string | null {
  const m = /([^/]+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(path);
  return m ? normalizeModuleName(m[1]!) : null;
}

/** `depends=a,b` → ['a', 'b'] normalised */
export function moduleDepends(info: Modinfo): string[] {
  return (info.get('depends') ?? []).flatMap((v) => v.split(',')).filter(Boolean).map(normalizeModuleName);
}

/** `softdep=pre: a b post: c` (kmod's softdep syntax) → {pre, post} */
export function moduleSoftdeps(info: Modinfo): { pre: string[]; post: string[] } {
  const out = { pre: [] as string[], post: [] as string[] };
  for (const v of info.get('softdep') ?? []) {
    let into: string[] | null = null;
    for (const tok of v.split(/\s+/).filter(Boolean)) {
      if (tok === 'pre:') into = out.pre;
      else if (tok === 'post:') into = out.post;
      else if (into) into.push(tok);
    }
  }
  return out;
}
