import { Cursor } from '../util/cursor.js';
import { formatError, isWeldError } from '../errors.js';

/**
 * glibc's ld.so.cache in the "glibc-ld.so.cache1.1" format only, as glibc 2.36
 * ldconfig writes it by default (elf/cache.c save_cache, sysdeps/generic/dl-cache.h),
 * plus a scanner that mirrors ldconfig's search_dir() over a tree.
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
export function buildLdCache(libs: LdCacheLib[], opts: LdCacheOptions): Uint8Array {
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

// ---------------------------------------------------------------- ELF

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
const ET_DYN = 3;
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

// ---------------------------------------------------------------- scanning a tree

export type LdNodeType = 'file' | 'dir' | 'symlink' | 'other';
type Maybe<T> = T | Promise<T>;

/** Read-only access to a tree; paths are absolute within the tree, no symlinks followed by the tree itself. */
export interface LdTree {
  /** type of the node at path (not following a final symlink); null when absent */
  lstat(path: string): Maybe<LdNodeType | null>;
  readlink(path: string): Maybe<string>;
  /** names in a directory, any order */
  readdir(path: string): Maybe<string[]>;
  /** whole content of a regular file */
  readFile(path: string): Maybe<Uint8Array>;
  /** random access to a regular file, when the tree can do better than reading it whole */
  source?(path: string): Maybe<ByteSource>;
  /** what readElfDynamic says of a regular file, null when ldconfig would skip it; when the tree keeps these facts */
  elf?(path: string): Maybe<ElfDynamicInfo | null>;
}

/** ELF facts of a file as searchDir wants them: null for what ldconfig skips (too small, not ELF, truncated). */
export function elfFacts(bytes: ByteSource): ElfDynamicInfo | null {
  if (bytes.size < 64) return null; // ldconfig: "too small, not checked"
  try {
    return readElfDynamic(bytes);
  } catch (e) {
    if (isWeldError(e)) return null; // not ELF (linker scripts) or truncated: ldconfig skips it
    throw e;
  }
}

export interface LdScanOptions {
  /** config file inside the tree */
  config?: string;
  /** ldconfig's built-in dirs, searched after the config's (Debian amd64 2.36 order) */
  systemDirs?: string[];
}

export const DEBIAN_AMD64_SYSTEM_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'];

/** chroot_canon(): resolves every symlink inside the tree; null when a component is missing or links loop. */
export async function canonicalPath(tree: LdTree, path: string): Promise<string | null> {
  const todo = path.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const p = '/' + [...done, part].join('/');
    const t = await tree.lstat(p);
    if (t === null) return null;
    if (t === 'symlink') {
      if (++links > 40) return null;
      const target = await tree.readlink(p);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return '/' + done.join('/');
}

function globToRegExp(pat: string): RegExp {
  let re = '^';
  for (let k = 0; k < pat.length; k++) {
    const ch = pat[k]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pat.indexOf(']', k + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = pat.slice(k + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        k = end;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

async function glob(tree: LdTree, pattern: string): Promise<string[]> {
  let paths = ['/'];
  for (const part of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const base of paths) {
      const join = (n: string): string => (base === '/' ? `/${n}` : `${base}/${n}`);
      if (!/[*?[]/.test(part)) {
        next.push(join(part));
        continue;
      }
      const dir = await canonicalPath(tree, base);
      if (!dir || (await tree.lstat(dir)) !== 'dir') continue;
      const re = globToRegExp(part);
      for (const n of await tree.readdir(dir)) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(n));
    }
    paths = next;
  }
  const out: string[] = [];
  for (const p of paths) if ((await canonicalPath(tree, p)) !== null) out.push(p);
  return out.sort(byteOrder);
}

/** The search directories ldconfig would use: config entries (includes expanded) then built-ins, deduplicated by the directory they resolve to. */
export async function ldSearchDirs(tree: LdTree, opts: LdScanOptions = {}): Promise<string[]> {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const add = async (line: string): Promise<void> => {
    // a `dir=libc6` type suffix only matters for libc5-era flags
    let p = line.includes('=') ? line.slice(0, line.indexOf('=')) : line;
    p = p.replace(/\s+$/, '');
    while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
    const canon = await canonicalPath(tree, p);
    if (canon === null || (await tree.lstat(canon)) !== 'dir') return;
    if (seen.has(canon)) return; // "given more than once": the first spelling wins
    seen.add(canon);
    dirs.push(p);
  };
  const parse = async (file: string, depth: number): Promise<void> => {
    if (depth > 16) return;
    const canon = await canonicalPath(tree, file);
    if (!canon || (await tree.lstat(canon)) !== 'file') return;
    const text = new TextDecoder().decode(await tree.readFile(canon));
    for (const raw of text.split('\n')) {
      const line = raw.split('#')[0]!.replace(/^\s+/, '');
      if (!line.trim()) continue;
      if (/^include[ \t]/.test(line)) {
        for (let pat of line.slice(8).split(/[ \t]+/).filter(Boolean)) {
          if (!pat.startsWith('/')) pat = file.slice(0, file.lastIndexOf('/') + 1) + pat;
          for (const f of await glob(tree, pat)) await parse(f, depth + 1);
        }
      } else if (/^hwcap[ \t]/i.test(line)) {
        continue;
      } else await add(line);
    }
  };
  await parse(opts.config ?? '/etc/ld.so.conf', 0);
  for (const d of opts.systemDirs ?? DEBIAN_AMD64_SYSTEM_DIRS) await add(d);
  return dirs;
}

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** search_dir() for one directory: one entry per soname, files preferred over links, newest name by libcmp. */
async function searchDir(tree: LdTree, dir: string): Promise<LdCacheLib[]> {
  const real = await canonicalPath(tree, dir);
  if (!real) return [];
  const names = (await tree.readdir(real)).slice().sort();
  const found = new Map<string, { name: string; soname: string; flags: number; isLink: boolean }>();
  const order: string[] = [];
  for (const name of names) {
    if (!(name.startsWith('lib') || name.startsWith('ld-')) || !name.includes('.so')) continue;
    const p = real === '/' ? `/${name}` : `${real}/${name}`;
    const t = await tree.lstat(p);
    let isLink = t === 'symlink';
    let target = p;
    if (isLink) {
      const c = await canonicalPath(tree, p);
      if (!c) continue; // stale link
      target = c;
    } else if (t !== 'file') continue;
    if ((await tree.lstat(target)) !== 'file') continue;
    const info = tree.elf ? await tree.elf(target) : elfFacts(tree.source ? await tree.source(target) : bufferSource(await tree.readFile(target)));
    if (!info) continue;
    const flags = ldconfigFlags(info);
    if (flags === null) continue;
    let soname = info.soname ?? name;
    if (isLink && basename(p) !== soname) {
      // a link that is neither the soname nor a `.so` dev link counts as a file
      if (!(name.endsWith('.so') && soname.startsWith(name))) isLink = false;
    }
    if (isLink) soname = name;
    const prev = found.get(soname);
    if (prev) {
      if ((!isLink && prev.isLink) || (isLink === prev.isLink && dlCacheLibcmp(prev.name, name) < 0)) {
        prev.name = name;
        prev.isLink = isLink;
        if (prev.flags !== flags && prev.flags === FLAG_ELF) prev.flags = flags;
      }
      continue;
    }
    found.set(soname, { name, soname, flags, isLink });
    order.push(soname);
  }
  // ldconfig prepends to its list, so the last one read is added to the cache first
  return order.reverse().map((s) => {
    const f = found.get(s)!;
    return { dir, name: f.soname, soname: f.soname, flags: f.flags };
  });
}

/** Everything ldconfig -X would put in the cache for this tree, in add_to_cache order. */
export async function scanForLdCache(tree: LdTree, opts: LdScanOptions = {}): Promise<LdCacheLib[]> {
  const out: LdCacheLib[] = [];
  for (const dir of await ldSearchDirs(tree, opts)) out.push(...(await searchDir(tree, dir)));
  return out;
}

/** glob(3) sorts with strcoll; in the C locale that is byte order */
function byteOrder(a: string, b: string): number {
  const x = enc.encode(a);
  const y = enc.encode(b);
  const n = Math.min(x.length, y.length);
  for (let k = 0; k < n; k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
  return x.length - y.length;
}
