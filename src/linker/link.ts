import type { FileEntry } from '../model.js';
import { WeldError, notFound } from '../errors.js';
import type { Store } from '../store/store.js';
import { nevra } from '../store/store.js';
import type { LinkData, PackageRow, StoredHeader } from '../store/catalog.js';
import { loadVariant, type Variant } from './variant.js';
import { mergePackages } from './merge.js';
import { applyActions, INSTALL_PHASES, type ActionsReport } from './actions/apply.js';
import type { GenerateAction } from './generators/generate.js';
import { storePaths } from '../store/location.js';
import type { LinkNode, LinkTree } from './tree.js';
import { readLock, type Lock } from './lock.js';
import { storeUniverse, variantResolveOptions } from './universe.js';
import { encodeCaps } from '../formats/caps/caps.js';
import { treeReader } from './reader.js';
import { CLASSIFIER_VERSION } from '../importer/scriptlets/classifier-version.js';

export interface LinkOptions {
  variant: Variant | string;
  /** lock file: read when it exists, pinned packages and ids; else written by the caller */
  lock?: string | null;
  sourceDateEpoch?: number;
  /** only these packages' closure (weld run --pkg) */
  roots?: string[];
  timing?: Record<string, number>;
}

export interface LinkedPackage {
  row: PackageRow;
  /** the full header, decoded on first access (the SBOM wants it; linking does not) */
  readonly header: StoredHeader;
  /** scriptlet actions, file actions and build time, from the catalog's link index */
  link: LinkData;
  files: FileEntry[];
}

export interface LinkResult {
  variant: Variant;
  packages: LinkedPackage[];
  tree: LinkTree;
  nodes: LinkNode[];
  actions: ActionsReport;
  lock: Lock;
  sourceDateEpoch: number;
  stats: {
    excluded: number;
    shared: number;
    resolved: { path: string; winner: string; loser: string }[];
    /** packages whose scriptlet actions an older classifier made: `weld import` them again */
    staleClassifier: string[];
  };
}

const lap = (t: Record<string, number> | undefined, k: string, t0: number) => {
  if (t) t[k] = Number((performance.now() - t0).toFixed(3));
  return performance.now();
};

/** Resolves the variant against the store, merges trees and applies actions. Writes no output; the store only gains cached ELF facts. */
export async function link(store: Store, opts: LinkOptions): Promise<LinkResult> {
  let t = performance.now();
  const variant = typeof opts.variant === 'string' ? await loadVariant(opts.variant) : opts.variant;
  t = lap(opts.timing, 'variant', t);
  const lock = opts.lock ? readLock(opts.lock) : null;
  if (lock && lock.format !== variant.format) throw new WeldError('conflict', 'E_LOCK', `Lock ${opts.lock} is for ${lock.format} packages, variant ${variant.name} takes ${variant.format}`);
  let chosen: PackageRow[];
  if (lock) {
    const rows = store.catalog.listPackages().filter((r) => r.format === variant.format);
    const byDigest = new Map(rows.map((r) => [r.source_digest, r]));
    const missing = lock.packages.filter((p) => !byDigest.has(p.digest));
    if (missing.length) {
      throw notFound(`Lock ${opts.lock} names ${missing.length} packages not in the store: ${missing.map((p) => `${p.name}-${p.version}${p.release ? '-' + p.release : ''} (${p.digest.slice(0, 12)})`).join(', ')}`, { missing });
    }
    chosen = lock.packages.map((p) => byDigest.get(p.digest)!);
  } else {
    const universe = storeUniverse(store, variant.format);
    if (!universe.packages.length) throw notFound(`The store has no ${variant.format} packages; import some first (variant ${variant.name} takes ${variant.format})`);
    const { resolve } = await import('./resolve.js');
    const res = resolve(universe.packages, opts.roots ?? variant.packages, variantResolveOptions(variant));
    chosen = res.packages.map((p) => universe.rows.get(p.key)!);
  }
  chosen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
  t = lap(opts.timing, 'resolve', t);

  const catalog = store.catalog;
  const packages: LinkedPackage[] = chosen.map((row) => {
    let header: StoredHeader | undefined;
    return {
      row,
      get header() {
        return (header ??= catalog.header(row.id));
      },
      link: catalog.linkData(row.id),
      files: catalog.fileList(row.id),
    };
  });
  t = lap(opts.timing, 'load', t);
  const epoch =
    opts.sourceDateEpoch ??
    (process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined) ??
    lock?.sourceDateEpoch ??
    // deb headers carry no build time: the newest file mtime is just as deterministic
    packages.reduce((m, p) => p.files.reduce((mm, f) => Math.max(mm, f.mtime), Math.max(m, p.link.buildTime ?? 0)), 0);
  if (!Number.isInteger(epoch) || epoch < 0) throw new WeldError('usage', 'E_USAGE', `SOURCE_DATE_EPOCH must be a non-negative integer`, {}, 2);

  const merged = mergePackages(
    packages.map((p) => ({ nevra: nevra(p.row), name: p.row.name, files: p.files })),
    { mergedUsr: variant.mergedUsr, exclude: variant.exclude, winners: variant.winners, mtime: epoch },
  );
  const tree = merged.tree;
  t = lap(opts.timing, 'merge', t);

  const reader = treeReader(store, tree, packages);
  let applied: Awaited<ReturnType<typeof applyActions>>;
  try {
    applied = await applyActions(
      tree,
      packages.map((p) => ({ nevra: nevra(p.row), scriptlets: p.link.scriptlets, fileActions: p.link.fileActions })),
      variant,
      { users: lock?.users ?? {}, groups: lock?.groups ?? {} },
      reader.read,
      epoch,
    );
  } finally {
    reader.close();
  }
  const { report, accounts } = applied;
  t = lap(opts.timing, 'actions', t);

  // owners by name, now that passwd/group are final
  const unknownOwners = new Set<string>();
  for (const n of tree.nodes.values()) {
    const uid = accounts.uidOf.get(n.user);
    const gid = accounts.gidOf.get(n.group);
    if (uid !== undefined) n.uid = uid;
    else if (/^\d+$/.test(n.user)) n.uid = Number(n.user);
    else unknownOwners.add(`user ${n.user}`);
    if (gid !== undefined) n.gid = gid;
    else if (/^\d+$/.test(n.group)) n.gid = Number(n.group);
    else unknownOwners.add(`group ${n.group}`);
    if (n.caps) n.xattrs = { ...(n.xattrs ?? {}), 'security.capability': encodeCaps(n.caps) };
  }
  if (unknownOwners.size) {
    const owners = [...unknownOwners].sort();
    const { definersOf, ownersMessage } = await import('./owners.js');
    const definers = definersOf(store, variant.format, owners);
    throw new WeldError('notfound', 'E_OWNER', ownersMessage(owners, definers), { owners, definers: Object.fromEntries(definers) });
  }
  // generated caches the image's own tools make (udev's hwdb.bin): last, in a view of the finished tree
  const generate = packages.flatMap((p) =>
    p.link.scriptlets.filter((sc) => INSTALL_PHASES.has(sc.phase)).flatMap((sc) => sc.actions.filter((a): a is GenerateAction => a.kind === 'generate').map((a) => ({ pkg: nevra(p.row), a }))),
  );
  if (generate.length) {
    const { applyGenerators } = await import('./generators/generate.js');
    report.generators = await applyGenerators(tree, generate, { objectsDir: storePaths(store.dir).objects, put: (d) => store.putBytes(d), epoch, nevras: new Map(packages.map((p) => [p.row.name, nevra(p.row)])) });
    t = lap(opts.timing, 'generators', t);
  }
  const nodes = tree.sorted();
  t = lap(opts.timing, 'finish', t);

  const newLock: Lock = {
    lockVersion: 1,
    variant: variant.name,
    format: variant.format,
    arch: variant.arch,
    salt: lock?.salt ?? store.salt,
    sourceDateEpoch: epoch,
    packages: packages.map((p) => ({ name: p.row.name, epoch: p.row.epoch, version: p.row.version, release: p.row.release, arch: p.row.arch, format: p.row.format, digest: p.row.source_digest })),
    users: { ...(lock?.users ?? {}), ...report.allocated.users },
    groups: { ...(lock?.groups ?? {}), ...report.allocated.groups },
  };
  return { variant, packages, tree, nodes, actions: report, lock: newLock, sourceDateEpoch: epoch, stats: { excluded: merged.excluded, shared: merged.shared, resolved: merged.resolved, staleClassifier: packages.filter((p) => (p.link.classifier ?? 1) < CLASSIFIER_VERSION).map((p) => nevra(p.row)) } };
}


