import type { Action } from '../../model.js';
import type { LinkTree } from '../tree.js';

type Alt = Extract<Action, { kind: 'alternative' }>;

/**
 * update-alternatives at link time: for each name the highest priority wins
 * (ties: the lexically first path), as link → /etc/alternatives/name → path.
 * Candidates whose path is not in the tree are ignored, as dpkg does.
 */
export function applyAlternatives(tree: LinkTree, alts: Alt[], resolvePath: (p: string) => string): { name: string; path: string; priority: number }[] {
  const byName = new Map<string, Alt[]>();
  for (const a of alts) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const chosen: { name: string; path: string; priority: number }[] = [];
  for (const name of [...byName.keys()].sort()) {
    const cands = byName
      .get(name)!
      .filter((a) => tree.get(resolvePath(a.path)))
      .sort((a, b) => b.priority - a.priority || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const win = cands[0];
    if (!win) continue;
    const link = resolvePath(win.link);
    if (tree.get(link)?.type === 'dir') continue;
    tree.symlink(`/etc/alternatives/${name}`, win.path, 'action:alternatives');
    tree.symlink(link, `/etc/alternatives/${name}`, 'action:alternatives');
    for (const s of win.slaves ?? []) {
      if (!tree.get(resolvePath(s.path))) continue;
      tree.symlink(`/etc/alternatives/${s.name}`, s.path, 'action:alternatives');
      tree.symlink(resolvePath(s.link), `/etc/alternatives/${s.name}`, 'action:alternatives');
    }
    chosen.push({ name, path: win.path, priority: win.priority });
  }
  return chosen;
}
