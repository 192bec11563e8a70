/**
 * Link-time effects of setcap, dpkg-divert and postconf -e, in the order
 * the package manager would run the scripts (package, then phase, then line).
 */
import type { Action, Guard } from '../../model.js';
import { realpath, type LinkNode, type LinkTree } from '../tree.js';
import { PHASE_RANK } from './files.js';

type Caps = Extract<Action, { kind: 'caps' }>;
type Divert = Extract<Action, { kind: 'divert' }>;
type Postconf = Extract<Action, { kind: 'postconf' }>;
type Usermod = Extract<Action, { kind: 'usermod' }>;
type Step<A> = { pkg: string; phase: string; a: A };

export interface SystemResult {
  /** files given (or cleared of) capabilities */
  caps: { path: string; caps: string }[];
  /** diversions in force after the scripts (dpkg's record; the image carries no dpkg database) */
  diversions: { path: string; divert: string; package?: string }[];
  /** files a --rename moved */
  renamed: { from: string; to: string }[];
  /** postconf -e edits: the main.cf changed, and the keys set */
  postconf: { path: string; keys: string[] }[];
  /** primary groups usermod -g changed */
  usermod: { name: string; group: string }[];
  skipped: { package: string; phase: string; kind: string; path: string; reason: string }[];
}

function ordered<A>(ops: Step<A>[]): Step<A>[] {
  return ops.map((o, i) => ({ ...o, i })).sort((x, y) => (x.pkg < y.pkg ? -1 : x.pkg > y.pkg ? 1 : (PHASE_RANK[x.phase] ?? 9) - (PHASE_RANK[y.phase] ?? 9) || x.i - y.i));
}

/** the package name of a nevra (`name-version.arch`) as the tree's origins spell it */
const nameOf = (nevra: string) => nevra.replace(/-[^-]+(-[^-]+)?\.[^.]+$/, '');

/**
 * setcap writes security.capability on the file a path resolves to (setcap
 * follows links); the tree's `caps` is libcap's text, which the linker encodes
 * as vfs_cap_data revision 2, what setcap writes for the initial namespace.
 */
export function applyCaps(tree: LinkTree, ops: Step<Caps>[], resolve: (p: string) => string, res: SystemResult): void {
  for (const { pkg, phase, a } of ordered(ops)) {
    const real = realpath((q) => tree.get(q), resolve(a.path));
    const cur = real === null ? undefined : tree.get(real);
    if (!cur || cur.type !== 'file') {
      res.skipped.push({ package: pkg, phase, kind: 'caps', path: a.path, reason: cur ? `setcap of a ${cur.type}` : 'setcap of a path nothing ships or makes' });
      continue;
    }
    const n: LinkNode = { ...cur };
    if (a.caps) n.caps = a.caps;
    else delete n.caps;
    tree.set(n);
    res.caps.push({ path: cur.path, caps: a.caps });
  }
}

/**
 * dpkg-divert --add/--remove. Only --rename touches files: it moves the
 * diverted path's file to (--remove: back from) the divert name, when there is
 * one and the other name is free. A --remove of a diversion this link did not
 * add finds none ("No diversion", exit 0): a fresh image has no others.
 */
export function applyDiversions(tree: LinkTree, ops: Step<Divert>[], resolve: (p: string) => string, res: SystemResult, taken: (when: readonly Guard[] | undefined) => boolean = () => true): void {
  const table = new Map<string, { divert: string; package?: string }>();
  const move = (from: string, to: string) => {
    const f = resolve(from);
    const t = resolve(to);
    const cur = tree.get(f);
    if (!cur || tree.get(t)) return;
    tree.delete(f);
    tree.ensureParents(t, cur.origin);
    tree.set({ ...cur, path: t });
    res.renamed.push({ from: f, to: t });
  };
  for (const { pkg, phase, a } of ordered(ops)) {
    // dash claims sh.1.gz only `if [ -d /usr/share/man/man1/ ]`, which an image without man pages answers no
    if (!taken(a.when)) continue;
    const divert = a.divert ?? `${a.path}.distrib`;
    const have = table.get(a.path);
    if (a.op === 'add') {
      if (have && (have.divert !== divert || have.package !== a.package)) {
        res.skipped.push({ package: pkg, phase, kind: 'divert', path: a.path, reason: `dpkg-divert --add clashes with the diversion to ${have.divert}${have.package ? ` by ${have.package}` : ''}` });
        continue;
      }
      const d: { divert: string; package?: string } = { divert };
      if (a.package !== undefined) d.package = a.package;
      table.set(a.path, d);
      // dpkg-divert does not rename a file the diverting package itself ships
      const cur = tree.get(resolve(a.path));
      if (a.rename && cur && nameOf(cur.origin) !== a.package) move(a.path, divert);
    } else {
      if (!have) continue;
      if (a.package !== undefined && have.package !== a.package) {
        res.skipped.push({ package: pkg, phase, kind: 'divert', path: a.path, reason: `dpkg-divert --remove of the diversion ${have.package ? `by ${have.package}` : '(local)'}, as ${a.package}` });
        continue;
      }
      table.delete(a.path);
      if (a.rename) move(have.divert, a.path);
    }
  }
  res.diversions = [...table.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([path, d]) => ({ path, ...d }));
}

/**
 * postconf -e's rewrite of main.cf (postconf_edit.c): a `KEY = VALUE` line
 * (one not starting with blank or '#') whose key is set is replaced, with its
 * continuation lines, by `KEY = NEW`; keys not found are appended, in the
 * order given. Other lines stay byte for byte.
 */
export function postconfEdit(text: string, settings: [string, string][]): string {
  const want = new Map<string, string>();
  for (const [k, v] of settings) want.set(k, v);
  const found = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  let replacing = false;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && !/^[ \t]*$/.test(line)) {
      if (!replacing) out.push(line);
      continue;
    }
    replacing = false;
    const m = /^([^#\s=][^\s=]*)\s*=/.exec(line);
    const key = m?.[1];
    if (key !== undefined && want.has(key)) {
      out.push(`${key} = ${want.get(key)}`);
      found.add(key);
      replacing = true;
      continue;
    }
    out.push(line);
  }
  for (const [k, v] of want) if (!found.has(k)) out.push(`${k} = ${v}`);
  return out.map((l) => l + '\n').join('');
}

export function applyPostconf(tree: LinkTree, ops: Step<Postconf>[], resolve: (p: string) => string, text: (p: string) => string | undefined, res: SystemResult, partial: Set<string> = new Set()): void {
  for (const { pkg, phase, a } of ordered(ops)) {
    // an edit of content, like the file operations: none from a script weld only partly understood
    if (partial.has(`${pkg}\0${phase}`)) {
      res.skipped.push({ package: pkg, phase, kind: 'postconf', path: `${a.dir}/main.cf`, reason: 'the same script has steps weld cannot model, so its edits are not applied' });
      continue;
    }
    const p = realpath((q) => tree.get(q), resolve(`${a.dir}/main.cf`));
    const cur = p === null ? undefined : tree.get(p);
    const body = p === null ? undefined : text(p);
    if (!cur || cur.type !== 'file' || body === undefined) {
      // postconf -e of a missing main.cf fails ("open …/main.cf: No such file or directory")
      res.skipped.push({ package: pkg, phase, kind: 'postconf', path: `${a.dir}/main.cf`, reason: 'postconf -e of a main.cf nothing ships or makes' });
      continue;
    }
    const next = postconfEdit(body, a.settings);
    tree.writeFile(p!, next, cur.origin.startsWith('action:') ? cur.origin : 'action:postconf', cur.mode & 0o7777, cur.user, cur.group);
    res.postconf.push({ path: p!, keys: a.settings.map(([k]) => k) });
  }
}

/**
 * usermod -g: the user's primary group in /etc/passwd, once both exist (as
 * usermod, which fails on a missing user or group). Accounts are the users
 * action's rows; /etc/passwd is written again from them.
 */
export function applyUsermod(tree: LinkTree, ops: Step<Usermod>[], accounts: { passwd: string[][]; gidOf: Map<string, number> }, res: SystemResult): void {
  if (!ops.length) return;
  let changed = false;
  for (const { pkg, phase, a } of ordered(ops)) {
    const row = accounts.passwd.find((r) => r[0] === a.name);
    const gid = /^\d+$/.test(a.group) ? Number(a.group) : accounts.gidOf.get(a.group);
    if (!row || gid === undefined) {
      res.skipped.push({ package: pkg, phase, kind: 'usermod', path: '/etc/passwd', reason: `usermod -g ${a.group} ${a.name}: no ${row ? `group ${a.group}` : `user ${a.name}`}` });
      continue;
    }
    if (row[3] !== String(gid)) {
      row[3] = String(gid);
      changed = true;
    }
    res.usermod.push({ name: a.name, group: a.group });
  }
  if (changed) {
    const cur = tree.get('/etc/passwd')!;
    tree.writeFile('/etc/passwd', accounts.passwd.map((r) => r.join(':') + '\n').join(''), cur.origin, cur.mode & 0o7777, cur.user, cur.group);
  }
}
