import type { AccountTool, Action } from '../../model.js';
import { WeldError } from '../../errors.js';
import type { LinkTree } from '../tree.js';
import type { VariantGroup, VariantUser } from '../variant.js';

type UserAction = Extract<Action, { kind: 'user' }>;
type GroupAction = Extract<Action, { kind: 'group' }>;

/** one account step of a package's scripts (or packaged sysusers.d files), in link order */
export interface AccountStep {
  pkg: string;
  phase: string;
  a: UserAction | GroupAction;
}

export interface Accounts {
  passwd: string[][];
  group: string[][];
  /** name → id allocations made by this link (recorded in the lock) */
  allocated: { users: Record<string, number>; groups: Record<string, number> };
  uidOf: Map<string, number>;
  gidOf: Map<string, number>;
}

// adduser.conf's FIRST_SYSTEM_UID..LAST_SYSTEM_UID (and _GID), FIRST_UID..LAST_UID; login.defs' SYS_UID_MAX
const SYS_MIN = 100;
const SYS_MAX = 999;
const USER_MIN = 1000;
const USER_MAX = 59999;

/**
 * The GECOS field adduser leaves: adduser 3.134 makes the account with useradd and no comment, then
 * sets a --gecos/--comment with chfn (its ch_comment): `chfn -f C` when C has no comma, else Perl's
 * split(/,/) (trailing empty fields dropped) as `-f -r`, then `-w`, `-h`, `-o` for the fields there are.
 * chfn writes "full,room,work,home" and ",other" when other is not empty, so "MySQL Server" comes out
 * "MySQL Server,,,".
 */
export function adduserGecos(comment: string): string {
  if (!comment.includes(',')) return `${comment},,,`;
  const f = comment.split(',');
  while (f.length && f[f.length - 1] === '') f.pop();
  const [full = '', room = '', work = '', home = '', other = ''] = f;
  return `${full},${room},${work},${home}${other ? `,${other}` : ''}`;
}

function parseDb(text: string | undefined): string[][] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/**
 * Builds /etc/passwd, group, shadow and gshadow. Base entries (base-passwd's
 * masters, or the setup package's /etc files) are kept as they are. The
 * scripts' accounts are made in link order (package name, phase, line), each
 * as its own tool makes it on a first install:
 * - adduser/addgroup --system: the first free id from 100 up (uid and gid each on its own),
 *   home /nonexistent, shell nologin, shadow '!';
 * - useradd -r/groupadd -r: the highest free id from 999 down, the user's group taking the
 *   uid when free, home /home/NAME, shell /etc/default/useradd's, shadow '!';
 * - systemd-sysusers: per invocation, its groups first, then its users, from 999 down with one
 *   cursor and ids free as both uid and gid, a user taking its group's id; home /, shadow '!*'.
 * The variant's accounts come last, from 999 down in name order. A lock pins every id it names.
 */
export function applyAccounts(
  tree: LinkTree,
  read: (path: string) => string | undefined,
  steps: AccountStep[],
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
  const uidOwner = new Map(passwd.map((p) => [Number(p[2]), p[0]!]));
  const gidOwner = new Map(group.map((g) => [Number(g[2]), g[0]!]));
  const nologin = variant.format === 'deb' ? '/usr/sbin/nologin' : '/sbin/nologin';
  /** how each new account was made: its shadow and gshadow fields follow */
  const madeBy = new Map<string, AccountTool | 'variant' | undefined>();
  const systemUser = new Set<string>();

  // ids the lock pins are kept free for their owners, so a relink allocates the same ids
  const reserved = new Set([...Object.values(pinned.users), ...Object.values(pinned.groups)]);
  const freeUid = (id: number, name: string, withGid = false) => !reserved.has(id) && (uidOwner.get(id) ?? name) === name && (!withGid || (gidOwner.get(id) ?? name) === name);
  const freeGid = (id: number, name: string, withUid = false) => !reserved.has(id) && (gidOwner.get(id) ?? name) === name && (!withUid || (uidOwner.get(id) ?? name) === name);
  const search = (from: number, to: number, ok: (id: number) => boolean) => {
    const step = from <= to ? 1 : -1;
    for (let id = from; step > 0 ? id <= to : id >= to; id += step) if (ok(id)) return id;
    throw new WeldError('conflict', 'E_IDS', `No free id left in ${Math.min(from, to)}-${Math.max(from, to)}`);
  };
  // systemd-sysusers looks for group ids in the uid pool too, one cursor down from 999 per run
  let cursor = SYS_MAX;
  const sysusersNext = (name: string) => (cursor = search(cursor, SYS_MIN, (id) => freeUid(id, name, true) && freeGid(id, name, true)));

  const memberOf = (g: string[], members: string[]) => {
    const mem = (g[3] ?? '').split(',').filter(Boolean);
    for (const m of members) if (!mem.includes(m)) mem.push(m);
    g[3] = mem.join(',');
  };
  const addGroup = (a: GroupAction | { name: string; gid?: number; members?: string[]; system: boolean; tool?: AccountTool | 'variant' }, preferred?: number): number => {
    const existing = group.find((g) => g[0] === a.name);
    if (existing) {
      memberOf(existing, a.members ?? []);
      return Number(existing[2]);
    }
    // a pin another account already holds (a base entry) is given up
    let gid = (gidOwner.get(pinned.groups[a.name]!) ?? a.name) === a.name ? pinned.groups[a.name] : undefined;
    if (gid === undefined && a.gid !== undefined && freeGid(a.gid, a.name)) gid = a.gid;
    if (gid === undefined && preferred !== undefined && freeGid(preferred, a.name, a.tool === 'sysusers')) gid = preferred;
    if (gid === undefined) {
      if (a.tool === 'adduser') gid = a.system ? search(SYS_MIN, SYS_MAX, (id) => freeGid(id, a.name)) : search(USER_MIN, USER_MAX, (id) => freeGid(id, a.name));
      else if (a.tool === 'useradd' && !a.system) gid = search(USER_MIN, USER_MAX, (id) => freeGid(id, a.name));
      else if (a.tool === 'sysusers') gid = sysusersNext(a.name);
      else gid = search(SYS_MAX, SYS_MIN, (id) => freeGid(id, a.name));
    }
    gidOwner.set(gid, a.name);
    allocated.groups[a.name] = gid;
    madeBy.set(`g:${a.name}`, a.tool);
    group.push([a.name, 'x', String(gid), '']);
    memberOf(group[group.length - 1]!, a.members ?? []);
    return gid;
  };
  const gidFor = (g: string | undefined) => (g === undefined ? undefined : /^\d+$/.test(g) ? Number(g) : group.find((x) => x[0] === g) ? Number(group.find((x) => x[0] === g)![2]) : undefined);
  const addUser = (u: UserAction | (VariantUser & { system: boolean; tool: 'variant' }), preferred?: number) => {
    if (passwd.some((p) => p[0] === u.name)) return;
    const tool = u.tool;
    // a primary group not made yet (`useradd -g foo` before foo): made as the user's tool would make it
    const primary = u.group ?? u.name;
    let gid = gidFor(primary);
    if (gid === undefined) gid = addGroup({ name: primary, system: u.system, tool });
    let uid = (uidOwner.get(pinned.users[u.name]!) ?? u.name) === u.name ? pinned.users[u.name] : undefined;
    if (uid === undefined && u.uid !== undefined && freeUid(u.uid, u.name)) uid = u.uid;
    if (uid === undefined && preferred !== undefined && freeUid(preferred, u.name, tool === 'sysusers')) uid = preferred;
    if (uid === undefined) {
      if (tool === 'adduser') uid = u.system ? search(SYS_MIN, SYS_MAX, (id) => freeUid(id, u.name)) : search(USER_MIN, USER_MAX, (id) => freeUid(id, u.name));
      else if (tool === 'useradd') uid = u.system ? search(SYS_MAX, SYS_MIN, (id) => freeUid(id, u.name)) : search(USER_MIN, USER_MAX, (id) => freeUid(id, u.name));
      else if (tool === 'sysusers') uid = sysusersNext(u.name);
      else if (gid >= SYS_MIN && freeUid(gid, u.name)) uid = gid;
      else uid = search(SYS_MAX, SYS_MIN, (id) => freeUid(id, u.name));
    }
    uidOwner.set(uid, u.name);
    allocated.users[u.name] = uid;
    madeBy.set(`u:${u.name}`, tool);
    if (u.system) systemUser.add(u.name);
    const home = u.home ?? (tool === 'sysusers' ? '/' : tool === 'useradd' || (tool === 'adduser' && !u.system) ? `/home/${u.name}` : '/nonexistent');
    const shell = u.shell ?? (tool === 'useradd' ? (variant.format === 'deb' ? '/bin/sh' : '/bin/bash') : tool === 'adduser' && !u.system ? '/bin/bash' : nologin);
    passwd.push([u.name, 'x', String(uid), String(gid), u.comment !== undefined && tool === 'adduser' ? adduserGecos(u.comment) : u.comment ?? '', home, shell]);
    for (const sg of u.groups ?? []) addGroup({ name: sg, members: [u.name], system: true, tool });
  };

  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.a.tool === 'sysusers') {
      // one systemd-sysusers run: its groups first, then its users (each `u` line's own group with it)
      let j = i;
      while (j + 1 < steps.length && steps[j + 1]!.a.tool === 'sysusers' && steps[j + 1]!.pkg === s.pkg && steps[j + 1]!.phase === s.phase) j++;
      const run = steps.slice(i, j + 1).map((x) => x.a);
      const own = (k: number) => k >= 0 && run[k]!.kind === 'group' && run[k + 1]?.kind === 'user' && run[k + 1]!.name === run[k]!.name && (run[k + 1] as UserAction).group === run[k]!.name;
      cursor = SYS_MAX;
      for (let k = 0; k < run.length; k++) if (run[k]!.kind === 'group' && !own(k)) addGroup(run[k] as GroupAction);
      for (let k = 0; k < run.length; k++) {
        const a = run[k]!;
        if (a.kind !== 'user') continue;
        const g = own(k - 1) ? run[k - 1] as GroupAction : undefined;
        // a `u` line's group tries the uid it names, the user then the gid its group got
        const gid = g ? addGroup(g, a.uid) : undefined;
        addUser(a, gid);
      }
      i = j;
      continue;
    }
    const next = steps[i + 1]?.a;
    if (s.a.kind === 'group' && next?.kind === 'user' && next.tool === s.a.tool && next.name === s.a.name && next.group === s.a.name && s.a.tool === 'useradd' && !group.some((g) => g[0] === s.a.name)) {
      // useradd -U picks the uid first, and the group takes it when free
      const before = passwd.length;
      addUser({ ...next, group: '0' });
      if (passwd.length > before) {
        const row = passwd[passwd.length - 1]!;
        row[3] = String(addGroup(s.a, Number(row[2])));
      }
      i++;
      continue;
    }
    if (s.a.kind === 'group') addGroup(s.a);
    else addUser(s.a);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const g of [...variant.groups].sort(byName)) addGroup({ ...g, system: true, tool: 'variant' });
  for (const u of [...variant.users].sort(byName)) addUser({ ...u, system: false, tool: 'variant' });

  const uidOf = new Map(passwd.map((p) => [p[0]!, Number(p[2])]));
  const gidOf = new Map(group.map((g) => [g[0]!, Number(g[2])]));
  const days = String(Math.floor(epoch / 86400));
  const shadowBase = parseDb(read('/etc/shadow'));
  const shadow = passwd.map((p) => {
    const base = shadowBase.find((s) => s[0] === p[0]);
    if (base) return base;
    const name = p[0]!;
    if (!madeBy.has(`u:${name}`)) return [name, name === 'root' || locked.has(name) ? '*' : '!', days, '0', '99999', '7', '', '', ''];
    const tool = madeBy.get(`u:${name}`);
    // useradd -r (which adduser --system runs) leaves password ageing empty; sysusers locks with '!*'
    if (tool === 'sysusers') return [name, '!*', days, '', '', '', '', '', ''];
    if ((tool === 'adduser' || tool === 'useradd') && systemUser.has(name)) return [name, '!', days, '', '', '', '', '', ''];
    return [name, '!', days, '0', '99999', '7', '', '', ''];
  });
  const gshadowBase = parseDb(read('/etc/gshadow'));
  const gshadow = group.map((g) => {
    const base = gshadowBase.find((s) => s[0] === g[0]);
    if (base) return base;
    const tool = madeBy.get(`g:${g[0]}`);
    return [g[0]!, tool === 'sysusers' ? '!*' : tool === 'adduser' || tool === 'useradd' ? '!' : '*', '', g[3] ?? ''];
  });
  const text = (rows: string[][]) => rows.map((r) => r.join(':')).join('\n') + '\n';
  tree.writeFile('/etc/passwd', text(passwd), 'action:users', 0o644);
  tree.writeFile('/etc/group', text(group), 'action:users', 0o644);
  const shadowGroup = gidOf.has('shadow') ? 'shadow' : 'root';
  tree.writeFile('/etc/shadow', text(shadow), 'action:users', shadowGroup === 'shadow' ? 0o640 : 0o000, 'root', shadowGroup);
  tree.writeFile('/etc/gshadow', text(gshadow), 'action:users', shadowGroup === 'shadow' ? 0o640 : 0o000, 'root', shadowGroup);
  return { passwd, group, allocated, uidOf, gidOf };
}
