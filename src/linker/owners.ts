import type { Action } from '../model.js';
import type { Store } from '../store/store.js';

/** account databases packages ship: base-passwd's masters (deb), setup's /etc files (rpm) */
const DATABASES: Record<string, 'user' | 'group'> = {
  '/usr/share/base-passwd/passwd.master': 'user',
  '/usr/share/base-passwd/group.master': 'group',
  '/etc/passwd': 'user',
  '/etc/group': 'group',
};

/**
 * For owners ("user foo", "group bar") no account in the link defines: the
 * packages in the store that would, by a shipped account database or a typed
 * account step of their scripts or sysusers.d files. Only the error path runs it.
 */
export function definersOf(store: Store, format: 'rpm' | 'deb', owners: string[]): Map<string, string[]> {
  const want = new Set(owners);
  const out = new Map<string, string[]>();
  const add = (owner: string, pkg: string) => {
    if (!want.has(owner)) return;
    const l = out.get(owner) ?? [];
    if (!l.includes(pkg)) l.push(pkg);
    out.set(owner, l);
  };
  const fromAction = (a: Action, pkg: string) => {
    if (a.kind === 'user') add(`user ${a.name}`, pkg);
    // a membership line only adds to a group some other step makes
    if (a.kind === 'group' && !a.members?.length) add(`group ${a.name}`, pkg);
  };
  const rows = store.catalog.listPackages().filter((r) => r.format === format);
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
  for (const row of rows) {
    for (const f of store.catalog.fileList(row.id)) {
      const kind = DATABASES[f.path];
      if (!kind || f.type !== 'file' || !f.object) continue;
      const text = Buffer.from(store.readObject(f.object)).toString('utf8');
      for (const l of text.split('\n')) if (l && !l.startsWith('#')) add(`${kind} ${l.split(':')[0]}`, row.name);
    }
    const link = store.catalog.linkData(row.id);
    for (const s of link.scriptlets) for (const a of s.actions) fromAction(a, row.name);
    for (const fa of link.fileActions) for (const a of fa.actions) fromAction(a, row.name);
  }
  return out;
}

/** "…: group mail, group staff; base-passwd in the store defines group mail, group staff: add it to packages" */
export function ownersMessage(owners: string[], definers: Map<string, string[]>): string {
  const byPkg = new Map<string, string[]>();
  const nobody: string[] = [];
  for (const o of owners) {
    const pkgs = definers.get(o);
    if (!pkgs?.length) nobody.push(o);
    // the first package by name that defines it is the one to suggest
    else byPkg.set(pkgs[0]!, [...(byPkg.get(pkgs[0]!) ?? []), o]);
  }
  const hints = [...byPkg].map(([pkg, os]) => `${pkg} in the store defines ${os.join(', ')}: add "${pkg}" to packages`);
  if (nobody.length) hints.push(`no package in the store defines ${nobody.join(', ')}: add it under [[users]] or [[groups]] in the variant`);
  return `Files are owned by names no package or variant defines: ${owners.join(', ')}; ${hints.join('; ')}`;
}
