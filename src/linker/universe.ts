import type { Store } from '../store/store.js';
import type { PackageRow } from '../store/catalog.js';
import type { PackageFormat } from '../model.js';
import type { Variant } from './variant.js';
import type { ResolveOptions, ResolverPackage } from './resolve.js';

/**
 * The store's packages of one format as the resolver sees them, read from the
 * link index alone (no header or file list is decoded), and the catalog row
 * behind each resolver key.
 */
export function storeUniverse(store: Store, format: PackageFormat): { packages: ResolverPackage[]; rows: Map<string, PackageRow> } {
  const index = store.catalog.resolverIndex(format);
  const packages = index.map(({ row: r, entry: e }) => ({
    key: String(r.id),
    format: r.format,
    name: r.name,
    epoch: r.epoch,
    version: r.version,
    release: r.release,
    arch: r.arch,
    provides: e.provides,
    requires: e.requires,
    preDepends: e.preDepends,
    conflicts: e.conflicts,
    breaks: e.breaks,
    obsoletes: e.obsoletes,
    files: e.files,
  }));
  return { packages, rows: new Map(index.map(({ row }) => [String(row.id), row])) };
}

/** What a variant asks of the resolver. */
export function variantResolveOptions(v: Variant): ResolveOptions {
  return { format: v.format, arch: v.arch, prefer: Object.values(v.prefer), ignoreConflicts: v.ignoreConflicts };
}
