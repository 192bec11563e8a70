import type { LinkTree } from '../tree.js';
import { bufferSource, type ByteSource, type ElfDynamicInfo } from '../../formats/elf/dynamic.js';
import { encodeLdCache } from '../../formats/ldcache/cache.js';
import { scanForLdCache, type LdTree } from '../ldcache.js';

/** Whole-file reads, plus random access where the caller has it (libraries are read for a few headers only). */
export type FileReader = ((path: string) => Uint8Array | undefined) & {
  source?: (path: string) => ByteSource | undefined;
  /** ELF facts of a file (elfFacts), when the caller keeps them */
  elf?: (path: string) => ElfDynamicInfo | null;
};

const GENERATOR = /ldconfig \([^)\n]*\)[^\0\n]* release version [0-9.]+/;

/** ldconfig's generator string, read from the ldconfig binary the tree ships (byte-equality needs it). */
function generatorFrom(tree: LinkTree, read: FileReader): string | null {
  for (const p of ['/usr/sbin/ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig.real', '/sbin/ldconfig.real']) {
    if (tree.get(p)?.type !== 'file') continue;
    const b = read(p);
    if (!b) continue;
    // find candidates with a byte search; the regex then runs on a few hundred bytes, not the whole binary
    const bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (let at = bytes.indexOf('ldconfig ('); at >= 0; at = bytes.indexOf('ldconfig (', at + 1)) {
      const m = GENERATOR.exec(bytes.subarray(at, at + 512).toString('latin1'));
      if (m && m.index === 0) return m[0];
    }
  }
  return null;
}

export function asLdTree(tree: LinkTree, read: FileReader): LdTree {
  // one pass builds every directory's listing: scanning all nodes per readdir was quadratic
  let children: Map<string, string[]> | null = null;
  const index = () => {
    const m = new Map<string, string[]>();
    for (const k of tree.nodes.keys()) {
      if (k === '/') continue;
      const i = k.lastIndexOf('/');
      const dir = i === 0 ? '/' : k.slice(0, i);
      let l = m.get(dir);
      if (!l) m.set(dir, (l = []));
      l.push(k.slice(i + 1));
    }
    return m;
  };
  return {
    lstat(p) {
      const n = tree.get(p);
      if (!n) return null;
      return n.type === 'file' || n.type === 'dir' || n.type === 'symlink' ? n.type : 'other';
    },
    readlink(p) {
      return tree.get(p)?.target ?? '';
    },
    readdir(p) {
      children ??= index();
      return [...(children.get(p) ?? [])];
    },
    readFile(p) {
      return read(p) ?? new Uint8Array(0);
    },
    ...(read.source ? { source: (p: string) => read.source!(p) ?? bufferSource(new Uint8Array(0)) } : {}),
    ...(read.elf ? { elf: (p: string) => read.elf!(p) } : {}),
  };
}

/**
 * Writes /etc/ld.so.cache as `ldconfig -X` would for this tree. Only when the
 * tree ships ldconfig (libc-bin): a tree without it has no cache either.
 */
export async function writeLdCacheAsync(tree: LinkTree, read: FileReader): Promise<{ entries: number } | null> {
  const generator = generatorFrom(tree, read);
  if (!generator) return null;
  const libs = await scanForLdCache(asLdTree(tree, read), { config: '/etc/ld.so.conf' });
  tree.writeFile('/etc/ld.so.cache', encodeLdCache(libs, { generator }), 'action:ldconfig', 0o644);
  return { entries: libs.length };
}
