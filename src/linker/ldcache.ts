import { isWeldError } from '../errors.js';
import { walkPath } from './tree.js';
import { bufferSource, readElfDynamic, type ByteSource, type ElfDynamicInfo } from '../formats/elf/dynamic.js';
import { dlCacheLibcmp, FLAG_ELF, ldconfigFlags, type LdCacheLib } from '../formats/ldcache/cache.js';

/**
 * ldconfig's scan of a tree (elf/ldconfig.c search_dir): which directories it
 * searches and which file it picks per soname. The cache bytes are
 * formats/ldcache's, the ELF facts formats/elf's.
 */

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
  const walk = walkPath(path, 'fail');
  for (let r = walk.next(); ; ) {
    if (r.done) return r.value;
    const t = await tree.lstat(r.value);
    r = walk.next(t === null ? null : t === 'symlink' ? { target: await tree.readlink(r.value) } : 'other');
  }
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

const enc = new TextEncoder();

/** glob(3) sorts with strcoll; in the C locale that is byte order */
function byteOrder(a: string, b: string): number {
  const x = enc.encode(a);
  const y = enc.encode(b);
  const n = Math.min(x.length, y.length);
  for (let k = 0; k < n; k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
  return x.length - y.length;
}
