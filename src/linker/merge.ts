import type { FileEntry } from '../model.js';
import { WeldError } from '../errors.js';
import { LinkTree, fromEntry, sameContent, type LinkNode } from './tree.js';
import { usrPath, isMergedTop, MERGED_DIRS } from './usrmerge.js';
import { matcher } from './glob.js';

export interface MergeInput {
  /** display identity, e.g. coreutils-9.1-1.amd64 */
  nevra: string;
  name: string;
  files: FileEntry[];
}

export interface MergeOptions {
  mergedUsr: boolean;
  exclude: string[];
  /** path → package name that wins a conflict */
  winners: Record<string, string>;
  mtime: number;
}

export interface MergeResult {
  tree: LinkTree;
  excluded: number;
  /** identical files shipped by more than one package */
  shared: number;
  /** conflicts the variant resolved */
  resolved: { path: string; winner: string; loser: string }[];
}

/**
 * Merges package file trees into one. Merged /usr is applied first, so
 * `/bin/x` and `/usr/bin/x` are the same path for conflict checks.
 */
export function mergePackages(pkgs: MergeInput[], opts: MergeOptions): MergeResult {
  const tree = new LinkTree(opts.mtime);
  const excluded = matcher(opts.exclude);
  const anyExcluded = opts.exclude.length > 0;
  let nExcluded = 0;
  let shared = 0;
  const resolved: MergeResult['resolved'] = [];
  const conflicts: { path: string; a: string; b: string; why: string }[] = [];
  if (opts.mergedUsr) {
    tree.mkdir('/usr', 'merged-usr');
    for (const d of MERGED_DIRS) {
      if (d === 'lib32' || d === 'libx32') continue;
      tree.symlink(`/${d}`, `usr/${d}`, 'merged-usr');
      tree.mkdir(`/usr/${d}`, 'merged-usr');
    }
  }
  const names = new Map(pkgs.map((p) => [p.nevra, p.name]));
  let hardlinkSeq = 0;
  for (const pkg of pkgs) {
    const groups = new Map<number, number>();
    for (const f of pkg.files) {
      if (f.flags.length && f.flags.includes('ghost')) continue;
      let p = f.path;
      if (opts.mergedUsr) {
        if (p.lastIndexOf('/') === 0 && isMergedTop(p)) {
          if (f.type === 'dir' || (f.type === 'symlink' && f.target.replace(/^\//, '') === `usr${p}`)) continue;
          conflicts.push({ path: p, a: 'merged-usr', b: pkg.nevra, why: `is a ${f.type}, but merged /usr makes it a symlink` });
          continue;
        }
        p = usrPath(p);
      }
      if (p !== '/' && anyExcluded && excluded(p)) {
        nExcluded++;
        continue;
      }
      if (p === '/') continue;
      let hl: number | undefined;
      if (f.hardlink) {
        hl = groups.get(f.hardlink);
        if (hl === undefined) groups.set(f.hardlink, (hl = ++hardlinkSeq));
      }
      const node = fromEntry(f, p, pkg.nevra, hl);
      const old = tree.get(p);
      if (!old) {
        try {
          tree.set(node);
        } catch (e) {
          if (e instanceof WeldError) conflicts.push({ path: p, a: String(e.data.parent), b: pkg.nevra, why: e.message });
          else throw e;
        }
        continue;
      }
      if (old.type === 'dir' && node.type === 'dir') continue; // first package's metadata wins for shared directories
      if (sameContent(old, node)) {
        shared++;
        continue;
      }
      const winner = opts.winners[p];
      const oldPkg = names.get(old.origin) ?? old.origin;
      if (winner && (winner === pkg.name || winner === oldPkg)) {
        if (winner === pkg.name) {
          if (old.type === 'dir') tree.delete(p);
          tree.set(node);
          resolved.push({ path: p, winner: pkg.nevra, loser: old.origin });
        } else resolved.push({ path: p, winner: old.origin, loser: pkg.nevra });
        continue;
      }
      conflicts.push({ path: p, a: old.origin, b: pkg.nevra, why: describeDiff(old, node) });
    }
  }
  if (conflicts.length) {
    const first = conflicts[0]!;
    throw new WeldError(
      'conflict',
      'E_FILE_CONFLICT',
      `File conflict: ${first.path} differs between ${first.a} and ${first.b} (${first.why})` +
        (conflicts.length > 1 ? `; and ${conflicts.length - 1} more conflicts` : '') +
        `. Name the winner in the variant's [conflicts] table, e.g. "${first.path}" = "<package>"`,
      { conflicts },
    );
  }
  return { tree, excluded: nExcluded, shared, resolved };
}

function describeDiff(a: LinkNode, b: LinkNode): string {
  if (a.type !== b.type) return `${a.type} vs ${b.type}`;
  if (a.type === 'symlink') return `-> ${a.target} vs -> ${b.target}`;
  if (a.type === 'file' && a.object !== b.object) return 'different content';
  return `mode ${(a.mode & 0o7777).toString(8)} vs ${(b.mode & 0o7777).toString(8)}`;
}
