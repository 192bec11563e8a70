import type { Action, Dep, DepEntry, FileEntry, PackageMeta, Scriptlet } from '../model.js';
import { isRichName, parseRichDep } from '../formats/rpm/richdep.js';

/**
 * A package's canonical form is its header (this type, a msgpack blob) and its
 * file list (src/store/filelist.ts). Everything else the catalog holds for a
 * package is derived from those two by `derive`.
 */
export type StoredHeader = Omit<PackageMeta, 'files'> & { fileActions?: { source: string; actions: Action[] }[] };

/** What the resolver needs of a package (link_index.resolver, JSON). */
export interface ResolverEntry {
  provides: DepEntry[];
  requires: DepEntry[];
  preDepends: DepEntry[];
  conflicts: DepEntry[];
  /** deb Breaks, enforced like Conflicts (schema 4 on) */
  breaks?: DepEntry[];
  /** rpm Obsoletes: no closure may hold a package together with one it obsoletes (schema 4 on) */
  obsoletes?: DepEntry[];
  /** rpm only (file provides); [] for deb */
  files: string[];
}

/** What applying actions needs of a package (link_index.link, JSON): scriptlets without their bodies. */
export interface LinkData {
  buildTime: number | null;
  scriptlets: Scriptlet[];
  fileActions: { source: string; actions: Action[] }[];
  /** classifier version of the scriptlets' actions (absent: 1) */
  classifier?: number;
}

export interface Derived {
  resolver: ResolverEntry;
  link: LinkData;
}

/**
 * Everything the catalog derives from a package's header and file list. Every
 * write path (import, reclassification, migration) stores what this returns,
 * and readers of a store without derived rows compute it the same way.
 */
export function derive(h: StoredHeader, files: () => FileEntry[]): Derived {
  return {
    resolver: {
      provides: withRich(h.provides),
      requires: withRich(h.requires),
      preDepends: withRich(h.preDepends),
      conflicts: withRich(h.conflicts),
      breaks: withRich(h.breaks ?? []),
      obsoletes: withRich(h.obsoletes ?? []),
      files: h.format === 'rpm' ? files().map((f) => f.path) : [],
    },
    link: {
      buildTime: h.buildTime ?? null,
      // bodies are for show and the classifier; the linker applies the actions only
      scriptlets: h.scriptlets.map((s) => ({ ...s, body: '' })),
      fileActions: h.fileActions ?? [],
      classifier: h.classifier ?? 1,
    },
  };
}

/** rpm rich (boolean) dependencies, parsed once here: the resolver reads `rich`, never the text. */
function withRich(deps: DepEntry[]): DepEntry[] {
  if (!deps.some((d) => ('anyOf' in d ? d.anyOf.some(isRich) : isRich(d)))) return deps;
  return deps.map((d) => ('anyOf' in d ? { anyOf: d.anyOf.map(richAtom) } : richAtom(d)));
}

const isRich = (d: Dep) => isRichName(d.name);

function richAtom(d: Dep): Dep {
  if (!isRich(d)) return d;
  try {
    return { ...d, rich: parseRichDep(d.name) };
  } catch {
    // unparseable: left without `rich`, so the resolver reports it as it stands
    return d;
  }
}
