import type { Store } from '../store/store.js';
import { nevra } from '../store/store.js';
import { ObjectSource } from '../store/source.js';
import type { PackageRow } from '../store/catalog.js';
import type { FileReader } from './actions/ldconfig.js';
import { bufferSource, type ByteSource, type ElfDynamicInfo } from '../formats/elf/dynamic.js';
import { elfFacts } from './ldcache.js';
import type { LinkTree } from './tree.js';

/**
 * How the actions read the merged tree: whole files (passwd, presets), byte
 * ranges (ELF headers), and ELF facts kept per package in the store, so a
 * relink opens no library. close() releases files and saves new facts.
 */
export function treeReader(store: Store, tree: LinkTree, packages: readonly { row: PackageRow }[]): { read: FileReader; close(): void } {
  // ldconfig reads a library once per name that reaches it (soname links, ldconfig itself): read each object once
  const objects = new Map<string, Uint8Array>();
  const read: FileReader = (p: string): Uint8Array | undefined => {
    const n = tree.get(p);
    if (!n || n.type !== 'file') return undefined;
    if (n.data) return n.data;
    if (!n.object) return new Uint8Array(0);
    let b = objects.get(n.object);
    if (!b) objects.set(n.object, (b = store.readObject(n.object)));
    return b;
  };
  const sources = new Map<string, ObjectSource>();
  read.source = (p: string): ByteSource | undefined => {
    const n = tree.get(p);
    if (!n || n.type !== 'file') return undefined;
    if (n.data || !n.object) return bufferSource(n.data ?? new Uint8Array(0));
    let s = sources.get(n.object);
    if (!s) sources.set(n.object, (s = new ObjectSource(store.objects.pathOf(n.object), n.size)));
    return s;
  };
  const pkgId = new Map(packages.map((p) => [nevra(p.row), p.row.id]));
  const cache = store.getPackageElf(packages.map((p) => p.row.id));
  const learned = new Set<number>();
  read.elf = (p: string): ElfDynamicInfo | null => {
    const n = tree.get(p);
    const id = n?.object ? pkgId.get(n.origin) : undefined;
    // generated files and files without content are not cached
    if (!n || id === undefined) return elfFacts(read.source!(p) ?? bufferSource(new Uint8Array(0)));
    const facts = cache.get(id);
    const known = facts?.[n.object!];
    if (known !== undefined && isElfFacts(known)) return known;
    const info = elfFacts(read.source!(p)!);
    if (facts) facts[n.object!] = info;
    else cache.set(id, { [n.object!]: info });
    learned.add(id);
    return info;
  };
  return {
    read,
    close() {
      for (const s of sources.values()) s.close();
      try {
        store.putPackageElf([...learned].sort((a, b) => a - b).map((id) => ({ package: id, facts: cache.get(id)! })));
      } catch {
        // a read-only store still links; the cache is an optimisation
      }
    },
  };
}

/** A cached fact is used only when it has the shape readElfDynamic gives (null: ldconfig skips the file). */
function isElfFacts(v: unknown): v is ElfDynamicInfo | null {
  if (v === null) return true;
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => x === null || typeof x === 'string';
  return (o.elfClass === 32 || o.elfClass === 64) && Number.isInteger(o.machine) && Number.isInteger(o.type) && str(o.soname) && str(o.interpreter) && Array.isArray(o.needed) && o.needed.every((x) => typeof x === 'string');
}
