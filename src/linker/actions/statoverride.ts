import type { Action, Guard } from '../../model.js';
import { modeOf, realpath, type LinkNode, type LinkTree } from '../tree.js';
import { missingOwner, PHASE_RANK, type Owners } from './files.js';

type StatOverride = Extract<Action, { kind: 'statoverride' }>;

export interface StatOverrideResult {
  applied: number;
  /** inside a script branch whose file test the shipped tree answers "no" */
  notTaken: number;
  /** dpkg-statoverride --update of a path nothing ships: dpkg only records the override */
  absent: string[];
  /** what the script would have failed at (chown of a missing file, an undefined account): listed, not guessed */
  skipped: { package: string; phase: string; path: string; reason: string }[];
}

/**
 * Gives paths the owners and modes maintainer scripts set with
 * dpkg-statoverride, chown, chgrp and chmod, in the order the package
 * manager would run them, after the accounts exist (owners stay names; the
 * image writer resolves them). Links are followed, as chown and chmod do.
 * Unlike the file operations these apply even from scripts weld did not
 * understand whole: they change the metadata of a path that is there, never
 * what the tree holds.
 */
export function applyStatOverrides(
  tree: LinkTree,
  ops: { pkg: string; phase: string; a: StatOverride }[],
  resolve: (p: string) => string,
  owners: Owners,
  taken: (when: readonly Guard[] | undefined) => boolean = () => true,
): StatOverrideResult {
  const res: StatOverrideResult = { applied: 0, notTaken: 0, absent: [], skipped: [] };
  const order = ops.map((o, i) => ({ ...o, i })).sort((x, y) => (x.pkg < y.pkg ? -1 : x.pkg > y.pkg ? 1 : (PHASE_RANK[x.phase] ?? 9) - (PHASE_RANK[y.phase] ?? 9) || x.i - y.i));
  const get = (p: string) => tree.get(p);
  for (const { pkg, phase, a } of order) {
    if (!taken(a.when)) {
      res.notTaken++;
      continue;
    }
    const skip = (reason: string) => void res.skipped.push({ package: pkg, phase, path: a.path, reason });
    const real = realpath(get, resolve(a.path));
    const cur = real === null ? undefined : tree.get(real);
    if (!cur) {
      if (a.tool === 'dpkg-statoverride') res.absent.push(a.path);
      else skip(`${a.tool} of a path nothing ships or makes`);
      continue;
    }
    const undefinedOwner = missingOwner(a, owners);
    if (undefinedOwner) {
      skip(undefinedOwner);
      continue;
    }
    const n = { ...cur };
    if (a.user !== undefined || a.group !== undefined) {
      if (a.user !== undefined) n.user = a.user;
      if (a.group !== undefined) n.group = a.group;
      // chown(2) of anything but a directory drops setuid, setgid on a group-executable file, and capabilities
      if (a.tool === 'chown' && n.type !== 'dir') {
        let perm = n.mode & 0o7777 & ~0o4000;
        if (perm & 0o010) perm &= ~0o2000;
        n.mode = modeOf(n.type, perm);
        delete n.caps;
        if (n.xattrs?.['security.capability']) {
          const { ['security.capability']: _, ...rest } = n.xattrs;
          if (Object.keys(rest).length) n.xattrs = rest;
          else delete n.xattrs;
        }
      }
    }
    if (a.mode !== undefined) n.mode = modeOf(n.type, a.mode & 0o7777);
    tree.set(n);
    // hard links are one inode: they all take the new owner and mode
    if (cur.hardlink)
      for (const o of [...tree.nodes.values()])
        if (o.hardlink === cur.hardlink && o.path !== n.path) {
          const m: LinkNode = { ...o, mode: n.mode, user: n.user, group: n.group };
          if (n.caps) m.caps = n.caps;
          else delete m.caps;
          if (n.xattrs) m.xattrs = n.xattrs;
          else delete m.xattrs;
          tree.set(m);
        }
    res.applied++;
  }
  return res;
}
