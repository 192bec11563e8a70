import { Cursor } from '../../util/cursor.js';
import { formatError } from '../../errors.js';
import { EM_386, EM_X86_64, ET_DYN, type ElfDynamicInfo } from '../elf/dynamic.js';

/**
 * glibc's ld.so.cache in the "glibc-ld.so.cache1.1" format only, as glibc 2.36
 * ldconfig writes it by default (elf/cache.c save_cache, sysdeps/generic/dl-cache.h),
 * and the flags x86 ldconfig gives a library. Which directories to scan is
 * the linker's (linker/ldcache.ts).
 * Not supported: glibc-hwcaps and legacy hwcap subdirectories, the old
 * "ld.so-1.7.0" format, big-endian caches.
 */

/** dl-cache.h / ldconfig.h flag values */
export const FLAG_ELF = 0x0001;
export const FLAG_ELF_LIBC5 = 0x0002;
export const FLAG_ELF_LIBC6 = 0x0003;
export const FLAG_X8664_LIB64 = 0x0300;
export const FLAG_X8664_LIBX32 = 0x0800;

const CACHEMAGIC_VERSION_NEW = 'glibc-ld.so.cache1.1';
const HEADER_SIZE = 48; // struct cache_file_new
const ENTRY_SIZE = 24; // struct file_entry_new
const FLAGS_ENDIAN_LITTLE = 2; // cache_file_new_flags_endian_little
const EXTENSION_MAGIC = 0xeaa42174; // (uint32_t) -358342284
const EXTENSION_TAG_GENERATOR = 0;
const EXTENSION_SECTION_SIZE = 16;

/** One cache entry as search_dir() hands it to add_to_cache(). */
export interface LdCacheLib {
  /** the search directory as configured, e.g. /lib/x86_64-linux-gnu */
  dir: string;
  /** file name within dir that the cache points at (the soname for normal dirs) */
  name: string;
  soname: string;
  flags: number;
  /** x86 ISA level from GNU_PROPERTY_X86_ISA_1_NEEDED; only used for glibc-hwcaps entries, which are unsupported */
  isaLevel?: number;
}

export interface LdCacheOptions {
  /** the extension's generator string, e.g. "ldconfig (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36" */
  generator: string;
}

const enc = new TextEncoder();

const sbyte = (b: number): number => (b >= 128 ? b - 256 : b);
const isDigitByte = (b: number): boolean => b >= 0x30 && b <= 0x39;

/**
 * glibc's _dl_cache_libcmp: runs of digits compare numerically (as a C int),
 * other bytes as signed chars. Negative when a sorts before b.
 */
export function dlCacheLibcmp(a: string, b: string): number {
  const p = enc.encode(a);
  const q = enc.encode(b);
  let i = 0;
  let j = 0;
  const at = (s: Uint8Array, k: number): number => (k < s.length ? s[k]! : 0);
  while (at(p, i) !== 0) {
    const c1 = at(p, i);
    const c2 = at(q, j);
    if (isDigitByte(c1)) {
      if (!isDigitByte(c2)) return 1;
      let v1 = c1 - 0x30;
      let v2 = c2 - 0x30;
      i++;
      j++;
      while (isDigitByte(at(p, i))) v1 = (Math.imul(v1, 10) + at(p, i++) - 0x30) | 0;
      while (isDigitByte(at(q, j))) v2 = (Math.imul(v2, 10) + at(q, j++) - 0x30) | 0;
      if (v1 !== v2) return (v1 - v2) | 0;
    } else if (isDigitByte(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return sbyte(c1) - sbyte(c2);
    } else {
      i++;
      j++;
    }
  }
  return sbyte(at(p, i)) - sbyte(at(q, j));
}

/** cache.c compare(): sonames descending by libcmp, then flags descending. */
function compareEntries(e1: LdCacheLib, e2: LdCacheLib): number {
  const res = dlCacheLibcmp(e2.soname, e1.soname);
  if (res === 0) {
    if (e1.flags < e2.flags) return 1;
    if (e1.flags > e2.flags) return -1;
  }
  return res;
}

/** Orders entries as ldconfig's sorted insertion does: a stable sort, so ties keep scan order. */
export function sortLdCacheEntries(libs: LdCacheLib[]): LdCacheLib[] {
  return [...libs].sort(compareEntries);
}

/** stringtable.c: deduplicated strings, sorted by reversed bytes descending, with tail merging. */
function buildStringTable(strings: string[]): { bytes: Uint8Array; offsets: Map<string, number> } {
  const uniq = [...new Set(strings)].map((s) => ({ s, b: enc.encode(s), off: 0 }));
  if (uniq.length === 0) return { bytes: new Uint8Array(0), offsets: new Map() };
  uniq.sort((l, r) => {
    const n = Math.min(l.b.length, r.b.length);
    for (let k = 1; k <= n; k++) {
      const lc = l.b[l.b.length - k]!;
      const rc = r.b[r.b.length - k]!;
      if (lc !== rc) return rc - lc;
    }
    // longer strings first, so a suffix can share their tail
    return r.b.length - l.b.length;
  });
  for (let k = 1; k < uniq.length; k++) {
    const prev = uniq[k - 1]!;
    const cur = uniq[k]!;
    const tail = prev.b.length >= cur.b.length && prev.b.subarray(prev.b.length - cur.b.length).every((x, m) => x === cur.b[m]);
    cur.off = tail ? prev.off + prev.b.length - cur.b.length : prev.off + prev.b.length + 1;
  }
  const last = uniq[uniq.length - 1]!;
  const bytes = new Uint8Array(last.off + last.b.length + 1);
  for (const u of uniq) bytes.set(u.b, u.off);
  return { bytes, offsets: new Map(uniq.map((u) => [u.s, u.off])) };
}

const align4 = (n: number): number => (n + 3) & ~3;

/** Writes the cache bytes for entries given in scan order (ldconfig's add_to_cache order). */
export function encodeLdCache(libs: LdCacheLib[], opts: LdCacheOptions): Uint8Array {
  const sorted = sortLdCacheEntries(libs);
  // add_to_cache interns the path first, then the soname
  const names: string[] = [];
  for (const l of libs) names.push(`${l.dir}/${l.name}`, l.soname);
  const strings = buildStringTable(names);

  const n = sorted.length;
  const strOffset = HEADER_SIZE + n * ENTRY_SIZE;
  const extensionOffset = align4(strOffset + strings.bytes.length);
  const generator = enc.encode(opts.generator);
  const extensionSize = 8 + EXTENSION_SECTION_SIZE; // generator section only: no hwcaps
  const total = extensionOffset + extensionSize + generator.length;

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(enc.encode(CACHEMAGIC_VERSION_NEW), 0);
  dv.setUint32(20, n, true);
  dv.setUint32(24, strings.bytes.length, true);
  out[28] = FLAGS_ENDIAN_LITTLE;
  dv.setUint32(32, extensionOffset, true);
  sorted.forEach((l, k) => {
    const at = HEADER_SIZE + k * ENTRY_SIZE;
    dv.setInt32(at, l.flags, true);
    dv.setUint32(at + 4, strOffset + strings.offsets.get(l.soname)!, true);
    dv.setUint32(at + 8, strOffset + strings.offsets.get(`${l.dir}/${l.name}`)!, true);
    // osversion_unused and hwcap stay 0
  });
  out.set(strings.bytes, strOffset);
  dv.setUint32(extensionOffset, EXTENSION_MAGIC, true);
  dv.setUint32(extensionOffset + 4, 1, true);
  dv.setUint32(extensionOffset + 8, EXTENSION_TAG_GENERATOR, true);
  dv.setUint32(extensionOffset + 12, 0, true);
  dv.setUint32(extensionOffset + 16, extensionOffset + extensionSize, true);
  dv.setUint32(extensionOffset + 20, generator.length, true);
  out.set(generator, extensionOffset + extensionSize);
  return out;
}

/** Reads back the generator string of a cache (to reuse a real ldconfig's). */
export function readLdCacheGenerator(cache: Uint8Array): string | null {
  const c = new Cursor(cache, 'ld.so.cache');
  const magic = new TextDecoder().decode(c.bytes(20, 'magic'));
  if (magic !== CACHEMAGIC_VERSION_NEW) throw formatError('ld.so.cache', `Cannot read ld.so.cache: bad magic '${magic}'`, { offset: 0, field: 'magic' });
  c.seek(32, 'extension_offset');
  const ext = c.u32le('extension_offset');
  if (ext === 0) return null;
  c.seek(ext, 'extension');
  if (c.u32le('extension magic') !== EXTENSION_MAGIC) return null;
  const count = c.u32le('extension count');
  c.needArray(count, EXTENSION_SECTION_SIZE, 'extension sections');
  for (let k = 0; k < count; k++) {
    const tag = c.u32le('section tag');
    c.u32le('section flags');
    const off = c.u32le('section offset');
    const size = c.u32le('section size');
    if (tag === EXTENSION_TAG_GENERATOR) {
      const g = new Cursor(cache, 'ld.so.cache', 0).seek(off, 'generator');
      return new TextDecoder().decode(g.bytes(size, 'generator'));
    }
  }
  return null;
}

/** readelflib.c known interpreters and libraries that classify a library as libc5/libc6 */
const KNOWN_INTERPRETERS: Record<string, number> = {
  '/lib/ld-linux.so.1': FLAG_ELF_LIBC5,
  '/lib/ld-linux.so.2': FLAG_ELF_LIBC6,
  '/lib64/ld-linux-x86-64.so.2': FLAG_ELF_LIBC6,
  '/libx32/ld-linux-x32.so.2': FLAG_ELF_LIBC6,
};
const KNOWN_LIBS: Record<string, number> = { 'libc.so.5': FLAG_ELF_LIBC5, 'libm.so.5': FLAG_ELF_LIBC5, 'libc.so.6': FLAG_ELF_LIBC6, 'libm.so.6': FLAG_ELF_LIBC6 };

/** The cache flags x86 ldconfig gives a library (sysdeps/unix/sysv/linux/x86/readelflib.c); null when it skips it. */
export function ldconfigFlags(info: ElfDynamicInfo): number | null {
  if (info.type !== ET_DYN) return null;
  if (info.machine === EM_X86_64) return info.elfClass === 64 ? FLAG_X8664_LIB64 | FLAG_ELF_LIBC6 : FLAG_X8664_LIBX32 | FLAG_ELF_LIBC6;
  if (info.machine !== EM_386 || info.elfClass !== 32) return null;
  let flag = FLAG_ELF;
  if (info.interpreter && KNOWN_INTERPRETERS[info.interpreter]) flag = KNOWN_INTERPRETERS[info.interpreter]!;
  else for (const n of info.needed) if (KNOWN_LIBS[n]) return KNOWN_LIBS[n]!;
  return flag;
}
