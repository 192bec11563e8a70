import type { Action } from '../../model.js';
import { WeldError } from '../../errors.js';
import type { LinkTree } from '../tree.js';
import type { VariantGroup, VariantUser } from '../variant.js';

type UserAction = Extract<Action, { kind: 'user' }>;
type GroupAction = Extract<Action, { kind: 'group' }>;

export interface Accounts {
  passwd: string[][];
  group: string[][];
  /** name → id allocations made by this link (recorded in the lock) */
  allocated: { users: Record<string, number>; groups: Record<string, number> };
  uidOf: Map<string, number>;
  gidOf: Map<string, number>;
}

const SYS_MAX = 999;
const SYS_MIN = 100;

function parseDb(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/**
 * Builds /etc/passwd, group, shadow and gshadow. Base entries (base-passwd's
 * masters, or the setup package's /etc files) are kept as they are; new
 * system accounts get ids from 999 down, in name order, unless the lock pins them.
 */
export function applyAccounts(
  tree: LinkTree,
  read: (path: string) => string | undefined,
  requested: { users: UserAction[]; groups: GroupAction[] },
  variant: { users: VariantUser[]; groups: VariantGroup[]; format: 'rpm' | 'deb' },
  pinned: { users: Record<string, number>; groups: Record<string, number> },
  epoch: number,
): Accounts {
  // base-passwd's masters, shadowed as its postinst + `shadowconfig on` leave them: 'x' here, '*' in shadow
  const masters = read('/etc/passwd') === undefined;
  const passwd = parseDb(read('/etc/passwd') ?? read('/usr/share/base-passwd/passwd.master'));
  const group = parseDb(read('/etc/group') ?? read('/usr/share/base-passwd/group.master'));
  const locked = new Set<string>();
  if (masters) {
    for (const p of passwd) if (p[1] !== 'x') (locked.add(p[0]!), (p[1] = 'x'));
    for (const g of group) if (g[1] !== 'x') g[1] = 'x';
  }
  if (!passwd.some((p) => p[0] === 'root')) passwd.unshift(['root', 'x', '0', '0', 'root', '/root', '/bin/sh']);
  if (!group.some((g) => g[0] === 'root')) group.unshift(['root', 'x', '0', '']);
  const allocated = { users: {} as Record<string, number>, groups: {} as Record<string, number> };
  const usedGid = new Set(group.map((g) => Number(g[2])));
  const usedUid = new Set(passwd.map((p) => Number(p[2])));
  const nologin = variant.format === 'deb' ? '/usr/sbin/nologin' : '/sbin/nologin';

  // ids the lock pins are kept free for their owners, so a relink allocates the same ids
  const reserved = new Set([...Object.values(pinned.users), ...Object.values(pinned.groups)]);
  const next = (used: Set<number>) => {
    for (let id = SYS_MAX; id >= SYS_MIN; id--) if (!used.has(id) && !reserved.has(id)) return id;
    throw new WeldError('conflict', 'E_IDS', `No free system id left in ${SYS_MIN}-${SYS_MAX}`);
  };

  // groups: explicit, then those users need, in name order
  const wantGroups = new Map<string, { gid?: number; members: Set<string> }>();
  const addGroup = (name: string, gid?: number, members: string[] = []) => {
    const g = wantGroups.get(name) ?? { members: new Set<string>() };
    if (gid !== undefined && g.gid === undefined) g.gid = gid;
    for (const m of members) g.members.add(m);
    wantGroups.set(name, g);
  };
  for (const g of [...requested.groups, ...variant.groups.map((g) => ({ ...g, kind: 'group' as const, system: true }))]) addGroup(g.name, g.gid, g.members ?? []);
  const users = [...requested.users, ...variant.users.map((u) => ({ ...u, kind: 'user' as const, system: false }))];
  const numeric = (g: string) => /^\d+$/.test(g);
  for (const u of users) {
    // a primary group may name an existing group, or be a bare gid (useradd -g 100)
    if (!numeric(u.group ?? u.name)) addGroup(u.group ?? u.name);
    for (const sg of u.groups ?? []) addGroup(sg, undefined, [u.name]);
  }
  for (const name of [...wantGroups.keys()].sort()) {
    const w = wantGroups.get(name)!;
    const existing = group.find((g) => g[0] === name);
    if (existing) {
      const mem = new Set((existing[3] ?? '').split(',').filter(Boolean));
      for (const m of w.members) mem.add(m);
      existing[3] = [...mem].sort().join(',');
      continue;
    }
    let gid = pinned.groups[name] ?? w.gid;
    if (gid === undefined || usedGid.has(gid)) gid = next(usedGid);
    usedGid.add(gid);
    allocated.groups[name] = gid;
    group.push([name, 'x', String(gid), [...w.members].sort().join(',')]);
  }
  const gidOf = new Map(group.map((g) => [g[0]!, Number(g[2])]));
  const primaryGid = (u: { name: string; group?: string }) => (numeric(u.group ?? u.name) ? Number(u.group) : gidOf.get(u.group ?? u.name));

  const seen = new Set<string>();
  const sortedUsers = [...users].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const u of sortedUsers) {
    if (seen.has(u.name) || passwd.some((p) => p[0] === u.name)) continue;
    seen.add(u.name);
    let uid = pinned.users[u.name] ?? u.uid;
    if (uid === undefined) {
      const g = primaryGid(u);
      uid = g !== undefined && !usedUid.has(g) && g >= SYS_MIN ? g : next(usedUid);
    } else if (usedUid.has(uid)) uid = next(usedUid);
    usedUid.add(uid);
    allocated.users[u.name] = uid;
    passwd.push([u.name, 'x', String(uid), String(primaryGid(u) ?? 0), u.comment ?? '', u.home ?? '/nonexistent', u.shell ?? nologin]);
  }
  const uidOf = new Map(passwd.map((p) => [p[0]!, Number(p[2])]));

  const days = Math.floor(epoch / 86400);
  const shadowBase = parseDb(read('/etc/shadow'));
  const shadow = passwd.map((p) => shadowBase.find((s) => s[0] === p[0]) ?? [p[0]!, p[0] === 'root' || locked.has(p[0]!) ? '*' : '!', String(days), '0', '99999', '7', '', '', '']);
  const gshadowBase = parseDb(read('/etc/gshadow'));
  const gshadow = group.map((g) => gshadowBase.find((s) => s[0] === g[0]) ?? [g[0]!, '*', '', g[3] ?? '']);
  const text = (rows: string[][]) => rows.map((r) => r.join(':')).join('\n') + '\n';
  tree.writeFile('/etc/passwd', text(passwd), 'action:users', 0o644);
  tree.writeFile('/etc/group', text(group), 'action:users', 0o644);
  const shadowGroup = gidOf.has('shadow') ? 'shadow' : 'root';
  tree.writeFile('/etc/shadow', text(shadow), 'action:users', shadowGroup === 'shadow' ? 0o640 : 0o000, 'root', shadowGroup);
  tree.writeFile('/etc/gshadow', text(gshadow), 'action:users', shadowGroup === 'shadow' ? 0o640 : 0o000, 'root', shadowGroup);
  return { passwd, group, allocated, uidOf, gidOf };
}
