/**
 * Recognisers for the commands maintainer scripts run. Each one turns a
 * resolved command line into actions, a noop note, or an opaque action with
 * a reason; it also gives the exit status when it is knowable without running
 * anything (tests, `true`), so the walker can prune branches.
 */
import type { Action, Guard, LikeShipped, SedEdit } from '../../model.js';
import { readSedScript, sedCommandLine } from './sed.js';
import type { Ctx, Env, Tri, Val } from './values.js';
import { parseSysusers } from './sysusers.js';
import { parseTmpfiles } from './tmpfiles.js';
import { evalTest } from './testexpr.js';
import { compareVersionsWithEmpty } from './versions.js';
import { a2Command } from './apache.js';
import { classifySystem } from './system.js';
import { classifyLeftover } from './leftovers.js';
import { pythonCommand } from './python.js';

export interface Cmd {
  /** as written: may be a path such as /sbin/ldconfig */
  name: string;
  /** resolved arguments; null where a value is unknown or has several possibilities */
  args: (string | null)[];
  alts: Val[];
  text: string;
  line: number;
  heredoc?: string;
  stdinRedirected: boolean;
  /** per argument, when its word holds `$(stat -L -c %a|%u|%g P)`: the word as those and literal text (eval.ts statWord) */
  stat?: (StatWord | null)[];
}

/** `$(stat -L -c %a P)` (mode), `%u` (owner id), `%g` (group id) of an absolute path */
export interface StatRef {
  fmt: 'a' | 'u' | 'g';
  path: string;
}
export type StatWord = (StatRef | string)[];

export interface Result {
  actions: Action[];
  status: Tri;
  exit?: boolean;
}

type Handler = (c: Cmd, env: Env, cx: Ctx) => Result;

const noop = (what: string, status: Tri = null): Result => ({ actions: [{ kind: 'noop', what }], status });
const acts = (actions: Action[], status: Tri = null): Result => ({ actions, status });
export const opaque = (c: Cmd, reason: string): Result => ({ actions: [{ kind: 'opaque', text: c.text, reason: `${reason} at line ${c.line}` }], status: null });

function base(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** the arguments, or null when one of them is unknown */
function exactArgs(c: Cmd): string[] | null {
  return c.args.every((a) => a !== null) ? (c.args as string[]) : null;
}

const unresolved = (c: Cmd): Result => opaque(c, `cannot resolve the arguments of "${base(c.name)}"`);

/** stands for an argument that is a `$(stat …)` word, with its index, in exactArgs(withStat(c)) */
const STAT_ARG = '\0stat ';

/** the arguments with each `$(stat -L -c … P)` word as a placeholder likeOf reads */
function withStat(c: Cmd): Cmd {
  if (!c.stat) return c;
  return { ...c, args: c.args.map((x, i) => (x === null && c.stat![i] ? `${STAT_ARG}${i}` : x)) };
}

/**
 * What a `$(stat …)` argument gives: mkdir -m and chmod a mode (`%a`), chgrp a group (`%g`), chown
 * `%u`, `%u:%g` or `:%g`. Undefined when the argument is no such word; a reason when it is one
 * weld does not model.
 */
function likeOf(c: Cmd, arg: string | undefined, as: 'mode' | 'chgrp' | 'chown'): LikeShipped | string | undefined {
  if (arg === undefined || !arg.startsWith(STAT_ARG)) return undefined;
  const w = c.stat?.[Number(arg.slice(STAT_ARG.length))];
  if (!w) return undefined;
  const ref = (x: StatWord, fmt: StatRef['fmt']) => (x.length === 1 && typeof x[0] !== 'string' && x[0]!.fmt === fmt ? x[0]!.path : null);
  if (as !== 'chown') {
    const p = ref(w, as === 'mode' ? 'a' : 'g');
    if (p === null) return `the value of ${as === 'mode' ? 'the mode' : 'the group'} is not one $(stat -L -c %${as === 'mode' ? 'a' : 'g'} PATH)`;
    return as === 'mode' ? { mode: p } : { group: p };
  }
  const sep = w.findIndex((x) => x === ':');
  const u = sep < 0 ? w : w.slice(0, sep);
  const g = sep < 0 ? [] : w.slice(sep + 1);
  const like: LikeShipped = {};
  const up = u.length ? ref(u, 'u') : null;
  const gp = g.length ? ref(g, 'g') : null;
  if ((u.length && up === null) || (g.length && gp === null) || (!up && !gp)) return 'the owner is not $(stat -L -c %u PATH):$(stat -L -c %g PATH)';
  if (up) like.user = up;
  if (gp) like.group = gp;
  return like;
}

interface Opts {
  flags: Map<string, string | true>;
  rest: string[];
}

/**
 * getopt-style parsing. `withValue` lists options that take a value (short
 * letters or long names); unknown options are kept as flags so callers can
 * refuse what they do not understand.
 */
function getopt(args: string[], withValue: string[]): Opts {
  const flags = new Map<string, string | true>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (withValue.includes(name) && i + 1 < args.length) flags.set(name, args[++i]!);
      else flags.set(name, true);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const f = a[k]!;
        if (withValue.includes(f)) {
          const v = k + 1 < a.length ? a.slice(k + 1) : args[++i];
          if (v !== undefined) flags.set(f, v);
          break;
        }
        flags.set(f, true);
      }
    } else rest.push(a);
  }
  return { flags, rest };
}

function str(o: Opts, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = o.flags.get(n);
    if (typeof v === 'string') return v;
  }
  return undefined;
}

function num(s: string | undefined): number | undefined {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;
}

// ---------------------------------------------------------------- users

function useradd(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['u', 'uid', 'g', 'gid', 'G', 'groups', 'd', 'home-dir', 'home', 's', 'shell', 'c', 'comment', 'K', 'key', 'b', 'base-dir', 'e', 'expiredate', 'f', 'inactive', 'k', 'skel', 'p', 'password', 'R', 'root', 'P', 'prefix', 'Z', 'selinux-user']);
  const name = o.rest[o.rest.length - 1];
  if (!name || o.rest.length !== 1) return opaque(c, 'useradd without exactly one user name');
  const u: Extract<Action, { kind: 'user' }> = { kind: 'user', name, system: o.flags.has('r') || o.flags.has('system'), tool: 'useradd' };
  const uid = num(str(o, 'u', 'uid'));
  if (uid !== undefined) u.uid = uid;
  const group = str(o, 'g', 'gid');
  if (group !== undefined) u.group = group;
  const groups = str(o, 'G', 'groups');
  if (groups) u.groups = groups.split(',').filter(Boolean);
  const home = str(o, 'd', 'home-dir', 'home');
  if (home !== undefined) u.home = home;
  const shell = str(o, 's', 'shell');
  if (shell !== undefined) u.shell = shell;
  const comment = str(o, 'c', 'comment');
  if (comment !== undefined) u.comment = comment;
  const out: Action[] = [];
  // -U, or USERGROUPS_ENAB yes (Debian's and Fedora's login.defs) without -g or -N: a group of the same name comes with the user
  if (o.flags.has('U') || o.flags.has('user-group') || (group === undefined && !o.flags.has('N') && !o.flags.has('no-user-group'))) {
    out.push({ kind: 'group', name, system: u.system, tool: 'useradd' });
    u.group ??= name;
  }
  out.push(u);
  return acts(out);
}

function groupadd(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['g', 'gid', 'K', 'key', 'p', 'password', 'R', 'root', 'P', 'prefix', 'U', 'users']);
  if (o.rest.length !== 1) return opaque(c, 'groupadd without exactly one group name');
  const g: Extract<Action, { kind: 'group' }> = { kind: 'group', name: o.rest[0]!, system: o.flags.has('r') || o.flags.has('system'), tool: 'useradd' };
  const gid = num(str(o, 'g', 'gid'));
  if (gid !== undefined) g.gid = gid;
  const users = str(o, 'U', 'users');
  if (users) g.members = users.split(',').filter(Boolean);
  return acts([g]);
}

/** Debian adduser(8)/addgroup(8): `--system` accounts, or `adduser USER GROUP` membership */
function adduser(c: Cmd, isGroup: boolean): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['home', 'shell', 'ingroup', 'uid', 'gid', 'gecos', 'firstuid', 'lastuid', 'firstgid', 'lastgid', 'conf', 'c', 'comment', 'add_extra_groups', 'add-extra-groups', 'extrausers']);
  const system = o.flags.has('system');
  if (o.rest.length === 2 && !isGroup) {
    return acts([{ kind: 'group', name: o.rest[1]!, members: [o.rest[0]!], system: true, tool: 'adduser' }]);
  }
  if (o.rest.length !== 1) return opaque(c, `${isGroup ? 'addgroup' : 'adduser'} with ${o.rest.length} names`);
  const name = o.rest[0]!;
  if (isGroup || o.flags.has('group') && !system) {
    const g: Extract<Action, { kind: 'group' }> = { kind: 'group', name, system, tool: 'adduser' };
    const gid = num(str(o, 'gid'));
    if (gid !== undefined) g.gid = gid;
    return acts([g]);
  }
  const out: Action[] = [];
  const u: Extract<Action, { kind: 'user' }> = { kind: 'user', name, system, tool: 'adduser' };
  const uid = num(str(o, 'uid'));
  if (uid !== undefined) u.uid = uid;
  if (o.flags.has('group')) {
    // --system --group: a group of the same name, the user's primary group
    const g: Extract<Action, { kind: 'group' }> = { kind: 'group', name, system, tool: 'adduser' };
    const gid = num(str(o, 'gid'));
    if (gid !== undefined) g.gid = gid;
    out.push(g);
    u.group = name;
  } else {
    const ing = str(o, 'ingroup') ?? str(o, 'gid');
    if (ing !== undefined) u.group = ing;
    // adduser --system without --group puts the user in nogroup
    else if (system) u.group = 'nogroup';
  }
  const home = str(o, 'home');
  if (home !== undefined) u.home = home;
  const shell = str(o, 'shell');
  if (shell !== undefined) u.shell = shell;
  else if (system) u.shell = '/usr/sbin/nologin';
  const comment = str(o, 'gecos', 'comment', 'c');
  if (comment !== undefined) u.comment = comment;
  out.push(u);
  return acts(out);
}

function usermod(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['G', 'groups', 'g', 'gid', 'd', 'home', 's', 'shell', 'c', 'comment', 'l', 'login', 'u', 'uid', 'e', 'f', 'p', 'R', 'root', 'P', 'prefix', 'Z']);
  const groups = str(o, 'G', 'groups');
  const append = o.flags.has('a') || o.flags.has('append');
  const known = [...o.flags.keys()].every((k) => ['a', 'append', 'G', 'groups'].includes(k));
  if (o.rest.length === 1 && groups && append && known) {
    return acts(groups.split(',').filter(Boolean).map((g) => ({ kind: 'group', name: g, members: [o.rest[0]!], system: true, tool: 'useradd' })));
  }
  return opaque(c, 'usermod other than "-a -G groups user" changes an existing account');
}

function gpasswd(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  if ((a[0] === '-a' || a[0] === '--add') && a.length === 3) return acts([{ kind: 'group', name: a[2]!, members: [a[1]!], system: true, tool: 'useradd' }]);
  return opaque(c, 'gpasswd other than "-a user group"');
}

function sysusers(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['root', 'replace', 'image', 'cat-config']);
  if (o.rest.includes('-') || (c.heredoc !== undefined && o.rest.length === 0)) {
    if (c.heredoc === undefined) return opaque(c, 'systemd-sysusers reads standard input that is not a here-document');
    return acts(parseSysusers(c.heredoc, `systemd-sysusers here-document at line ${c.line}`));
  }
  // the named files ship in the package's sysusers.d: the importer parses them there
  return noop(`systemd-sysusers ${o.rest.length ? o.rest.join(' ') : '(all)'}: users come from the packaged sysusers.d files`);
}

// ---------------------------------------------------------------- services

type ServiceOp = Extract<Action, { kind: 'service' }>['op'];
const SYSTEMCTL_OPS: Record<string, ServiceOp> = {
  enable: 'enable',
  reenable: 'enable',
  preset: 'preset',
  disable: 'disable',
  mask: 'mask',
  unmask: 'unmask',
  start: 'start',
  stop: 'stop',
  restart: 'restart',
  'try-restart': 'restart',
  condrestart: 'restart',
  'reload-or-restart': 'restart',
  'try-reload-or-restart': 'restart',
  reload: 'reload',
  'daemon-reload': 'daemon-reload',
};
const SYSTEMCTL_QUERIES = new Set(['is-active', 'is-enabled', 'is-failed', 'is-system-running', 'status', 'show', 'cat', 'list-units', 'list-unit-files', 'daemon-reexec', 'reset-failed', 'kill']);

function service(op: ServiceOp, units: string[], user: boolean): Action {
  const a: Extract<Action, { kind: 'service' }> = { kind: 'service', op, units };
  if (user) a.user = true;
  return a;
}

function systemctl(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['root', 'preset-mode', 'type', 't', 'state', 'property', 'p', 'signal', 's', 'H', 'host', 'M', 'machine', 'job-mode']);
  const [verb, ...units] = o.rest;
  if (!verb) return opaque(c, 'systemctl without a verb');
  const user = o.flags.has('user') || o.flags.has('global');
  if (SYSTEMCTL_QUERIES.has(verb)) return noop(`systemctl ${verb} (runtime query)`);
  if (verb === 'preset-all') return acts([service('preset', [], user)]);
  const op = SYSTEMCTL_OPS[verb];
  if (!op) return opaque(c, `unknown systemctl verb "${verb}"`);
  const out = [service(op, units, user)];
  // enable --now also starts, disable --now also stops
  if (o.flags.has('now') && (op === 'enable' || op === 'disable')) out.push(service(op === 'enable' ? 'start' : 'stop', units, user));
  return acts(out);
}

/** Fedora's %systemd_post & co. expand to this helper (systemd ≥ 254) */
function updateHelper(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const [verb, ...units] = a;
  const table: Record<string, [ServiceOp, boolean]> = {
    'install-system-units': ['preset', false],
    'install-user-units': ['preset', true],
    'remove-system-units': ['disable', false],
    'remove-user-units': ['disable', true],
    'mark-restart-system-units': ['restart', false],
    'mark-restart-user-units': ['restart', true],
    'mark-reload-system-units': ['reload', false],
    'mark-reload-user-units': ['reload', true],
    'system-reload': ['daemon-reload', false],
    'user-reload': ['daemon-reload', true],
    'system-reexec': ['daemon-reload', false],
    'user-reexec': ['daemon-reload', true],
  };
  const t = verb ? table[verb] : undefined;
  if (!t) return opaque(c, `unknown systemd-update-helper verb "${verb ?? ''}"`);
  return acts([service(t[0], units, t[1])]);
}

function debSystemdHelper(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, []);
  const [verb, ...units] = o.rest;
  const user = o.flags.has('user');
  switch (verb) {
    // on a first install deb-systemd-helper enable runs `systemctl preset --preset-mode=enable-only`
    // when the root has systemctl, and links the unit itself when not: the linker's preset op
    case 'enable':
      return acts([service('preset', units, user)]);
    case 'reenable':
      return acts([service('enable', units, user)]);
    case 'disable':
      return acts([service('disable', units, user)]);
    case 'purge':
      // purge forgets the state and removes the links: a disable
      return acts([service('disable', units, user)]);
    case 'mask':
      return acts([service('mask', units, user)]);
    case 'unmask':
      return acts([service('unmask', units, user)]);
    case 'update-state':
      return noop('deb-systemd-helper update-state (bookkeeping of enable links)');
    // a fresh install has no state files: debian-installed is false (so units dh_installsystemd
    // ships disabled, --no-enable, stay disabled), and was-enabled is true when none are recorded
    case 'debian-installed':
      return noop('deb-systemd-helper debian-installed (no state file on a first install)', false);
    case 'was-enabled':
      return noop('deb-systemd-helper was-enabled (no state file on a first install)', true);
    case 'is-enabled':
      return noop(`deb-systemd-helper ${verb} (query)`);
    default:
      return opaque(c, `unknown deb-systemd-helper verb "${verb ?? ''}"`);
  }
}

function debSystemdInvoke(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, []);
  const [verb, ...units] = o.rest;
  const op = verb ? SYSTEMCTL_OPS[verb] : undefined;
  if (!op) return opaque(c, `unknown deb-systemd-invoke verb "${verb ?? ''}"`);
  return acts([service(op, units, o.flags.has('user'))]);
}

/** sysvinit names: the unit is the init script's name */
function invokeRcD(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, []);
  const [name, verb] = o.rest;
  const op = verb ? { ...SYSTEMCTL_OPS, 'force-reload': 'reload' as ServiceOp }[verb] : undefined;
  if (!name || !op) return opaque(c, `unknown invoke-rc.d action "${verb ?? ''}"`);
  return acts([service(op, [name], false)]);
}

function updateRcD(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, []);
  const [name, verb] = o.rest;
  if (!name || !verb) return opaque(c, 'update-rc.d without a name and an action');
  // `defaults` makes sysvinit's rc links only (and a daemon-reload): a native unit's links are
  // deb-systemd-helper's; `enable`/`disable` also toggle the unit through systemctl (init-system-helpers 1.65)
  const levels = o.rest.slice(2);
  const rc = (op: Extract<Action, { kind: 'rclinks' }>['op']): Action => ({ kind: 'rclinks', op, script: name, ...(levels.length ? { levels } : {}) });
  if (verb === 'defaults' || verb === 'defaults-disabled' || verb === 'remove') return acts([rc(verb)]);
  // the legacy `start NN 2 3 . stop …` form: its numbers and levels are discarded for the LSB header's
  if (verb === 'start' || verb === 'stop') return acts([{ kind: 'rclinks', op: 'defaults', script: name }]);
  if (verb === 'enable' || verb === 'disable') return acts([rc(verb), service(verb, [name], false)]);
  return opaque(c, `unknown update-rc.d action "${verb}"`);
}

function serviceCmd(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a || a.length < 2) return a ? opaque(c, 'service without a name and an action') : unresolved(c);
  const op = SYSTEMCTL_OPS[a[1]!];
  if (!op) return opaque(c, `unknown service action "${a[1]}"`);
  return acts([service(op, [a[0]!], false)]);
}

function chkconfig(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  if (a[0] === '--add' && a[1]) return acts([service('enable', [a[1]], false)]);
  if (a[0] === '--del' && a[1]) return acts([service('disable', [a[1]], false)]);
  if (a.length === 2 && (a[1] === 'on' || a[1] === 'off')) return acts([service(a[1] === 'on' ? 'enable' : 'disable', [a[0]!], false)]);
  return opaque(c, 'unknown chkconfig usage');
}

// ---------------------------------------------------------------- alternatives

function alternatives(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const rest = a.filter((x, i) => !['--quiet', '--force', '--verbose', '--debug'].includes(x) && !['--altdir', '--admindir', '--log'].includes(a[i - 1] ?? ''));
  const args = rest.filter((x) => !['--altdir', '--admindir', '--log'].includes(x));
  const verb = args[0];
  if (verb === '--install') {
    const [link, name, path, prio] = args.slice(1, 5);
    if (!link || !name || !path || prio === undefined || !/^-?\d+$/.test(prio)) return opaque(c, 'update-alternatives --install needs link name path priority');
    const alt: Extract<Action, { kind: 'alternative' }> = { kind: 'alternative', link, name, path, priority: Number(prio) };
    const slaves: { link: string; name: string; path: string }[] = [];
    for (let i = 5; i < args.length; ) {
      if ((args[i] === '--slave' || args[i] === '--follower') && i + 3 < args.length) {
        slaves.push({ link: args[i + 1]!, name: args[i + 2]!, path: args[i + 3]! });
        i += 4;
      } else if (args[i] === '--initscript' || args[i] === '--family') i += 2;
      else return opaque(c, `unknown update-alternatives option "${args[i]}"`);
    }
    if (slaves.length) alt.slaves = slaves;
    return acts([alt]);
  }
  if (verb === '--remove' || verb === '--remove-all') return noop(`update-alternatives ${verb} ${args.slice(1).join(' ')} (removal)`);
  if (verb === '--auto') return noop(`update-alternatives --auto ${args[1] ?? ''} (automatic mode is the default)`);
  if (verb === '--query' || verb === '--display' || verb === '--list' || verb === '--get-selections') return noop(`update-alternatives ${verb} (query)`);
  return opaque(c, `update-alternatives ${verb ?? ''} is not modelled`);
}

// ---------------------------------------------------------------- files

function mkdirCmd(c: Cmd, env: Env, cx: Ctx): Result {
  const a = exactArgs(withStat(c));
  if (!a) return unresolved(c);
  // -Z and --context[=CTX] take no separate value (GNU mkdir)
  const o = getopt(a, ['m', 'mode']);
  const like = likeOf(c, str(o, 'm', 'mode'), 'mode');
  if (typeof like === 'string') return opaque(c, `mkdir -m: ${like}`);
  const mode = like ? undefined : parseOctal(str(o, 'm', 'mode'));
  const out: Action[] = [];
  for (const p of o.rest.map((x) => at(x, env))) {
    if (!p.startsWith('/')) return opaque(c, `mkdir of a relative path "${p}"`);
    const d: Extract<Action, { kind: 'directory' }> = { kind: 'directory', path: p };
    if (mode !== undefined) d.mode = mode;
    if (like) d.like = like;
    cx.createdDirs.add(p);
    out.push(d);
  }
  return acts(out);
}

/** an octal mode: up to four digits, after an optional leading 0 (`02555`) */
function parseOctal(s: string | undefined): number | undefined {
  // chmod(1) and dpkg-statoverride take a leading 0 before the four digits (02555, 04755)
  return s !== undefined && /^0?[0-7]{1,4}$/.test(s) ? parseInt(s, 8) : undefined;
}

/** The shell's working directory lives among its variables under a name no script can spell. */
const CWD_VAR = ' cwd';

/** P against the script's working directory (`cd`); null when that is unknown. */
export function absPath(p: string, env: Env): string | null {
  if (p.startsWith('/')) return p;
  const cwd = env.vars.get(CWD_VAR);
  if (!cwd || cwd.length !== 1 || !cwd[0]!.startsWith('/')) return null;
  const segs: string[] = [];
  for (const x of `${cwd[0]}/${p}`.split('/')) {
    if (!x || x === '.') continue;
    if (x === '..') segs.pop();
    else segs.push(x);
  }
  return '/' + segs.join('/') + (p.endsWith('/') && segs.length ? '/' : '');
}

/** a path operand made absolute where the working directory is known, else as written */
const at = (p: string, env: Env): string => absPath(p, env) ?? p;

/** cd DIR: later relative paths resolve against it; an unknown DIR makes them unknown */
function cdCmd(c: Cmd, env: Env): Result {
  const a = c.args.filter((x) => x !== '-P' && x !== '-L');
  const dir = a.length === 1 && a[0] !== null && a[0] !== '-' ? absPath(a[0]!, env) : null;
  env.vars.set(CWD_VAR, dir === null ? null : [dir.length > 1 ? dir.replace(/\/+$/, '') : dir]);
  return noop(`cd ${dir ?? '(unknown)'}`);
}

/** install -d only: copying files is not something an action models */
function installCmd(c: Cmd, env: Env, cx: Ctx): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['m', 'mode', 'o', 'owner', 'g', 'group', 'S', 'suffix', 't', 'target-directory', 'context']);
  if (!o.flags.has('d') && !o.flags.has('directory')) return opaque(c, 'install copies files');
  const mode = parseOctal(str(o, 'm', 'mode'));
  const user = str(o, 'o', 'owner');
  const group = str(o, 'g', 'group');
  const out: Action[] = [];
  for (const p of o.rest.map((x) => at(x, env))) {
    if (!p.startsWith('/')) return opaque(c, `install -d of a relative path "${p}"`);
    const d: Extract<Action, { kind: 'directory' }> = { kind: 'directory', path: p };
    if (mode !== undefined) d.mode = mode;
    if (user !== undefined) d.user = user;
    if (group !== undefined) d.group = group;
    cx.createdDirs.add(p);
    out.push(d);
  }
  return acts(out);
}

type OwnerTool = 'chown' | 'chgrp' | 'chmod';

/**
 * chown/chgrp/chmod. On a file or directory the script made itself they are
 * part of that action; on any other absolute path (a file or directory a
 * package ships) they are a statoverride, which the linker applies once the
 * accounts exist.
 */
function chownChmod(c: Cmd, env: Env, cx: Ctx, tool: OwnerTool): Result {
  const a = exactArgs(withStat(c));
  if (!a) return unresolved(c);
  if (REMOVAL.test(cx.phase)) return noop(`${tool} on package removal`);
  // chmod's symbolic modes (-x, u+s) look like options: only these are options
  const isOpt = (x: string) => /^(-[RfvchH]+|--(recursive|silent|quiet|verbose|changes|no-dereference|dereference|reference=.*|from=.*))$/.test(x);
  const opts = a.filter(isOpt);
  const rest = a.filter((x) => !isOpt(x));
  const from = opts.find((x) => x.startsWith('--reference=') || x.startsWith('--from='));
  if (from) return opaque(c, `${tool} ${from} depends on the state of another file`);
  const [spec, ...paths] = rest;
  if (!spec || !paths.length) return opaque(c, `${tool} without a target`);
  if (paths.some((x) => x.startsWith(STAT_ARG))) return unresolved(c);
  const like = likeOf(c, spec, tool === 'chmod' ? 'mode' : tool);
  if (typeof like === 'string') return opaque(c, `${tool}: ${like}`);
  const mode = tool === 'chmod' && !like ? parseOctal(spec) : undefined;
  if (tool === 'chmod' && mode === undefined && !like) return opaque(c, `chmod with a symbolic mode "${spec}"`);
  let user: string | undefined;
  let group: string | undefined;
  if (like) {
    // given at link time from the path as shipped
  } else if (tool === 'chgrp') group = spec;
  else if (tool === 'chown') {
    // USER, USER:GROUP, :GROUP (and the old USER.GROUP)
    const sep = spec.includes(':') ? spec.indexOf(':') : spec.indexOf('.');
    user = sep < 0 ? spec : spec.slice(0, sep);
    group = sep < 0 ? undefined : spec.slice(sep + 1);
    // `chown USER:` gives USER's login group, which only the finished account database knows
    if (sep >= 0 && user && !group) return opaque(c, `chown "${spec}" sets the user's login group`);
  }
  const out: Action[] = [];
  for (const p of paths.map((x) => at(x, env))) {
    if (isTemp(p)) return opaque(c, `${tool} of the temporary file from mktemp changes what a later copy of it keeps`);
    // a file or directory this script made: its owner and mode are part of that action
    let made: Extract<Action, { kind: 'file' | 'directory' }> | undefined;
    if (cx.createdFiles.has(p)) made = { kind: 'file', path: p, truncate: false };
    else if (cx.createdDirs.has(p) || p.endsWith('/')) made = { kind: 'directory', path: p.replace(/(.)\/+$/, '$1') };
    if (made) {
      if (user) made.user = user;
      if (group) made.group = group;
      if (mode !== undefined) made.mode = mode;
      if (like && made.kind === 'directory') made.like = like;
      else if (like) return opaque(c, `${tool} of a file the script made, from $(stat …)`);
      out.push(made);
      continue;
    }
    const r = ownerPathProblem(p, opts);
    if (r) return opaque(c, `${tool} ${r}`);
    const o: Extract<Action, { kind: 'statoverride' }> = { kind: 'statoverride', tool: tool === 'chmod' ? 'chmod' : 'chown', path: p };
    if (user) o.user = user;
    if (group) o.group = group;
    if (mode !== undefined) o.mode = mode;
    if (like) o.like = like;
    out.push(o);
  }
  return acts(out);
}

/** why chown/chmod of a path the script did not make is not a statoverride; null when it is one */
function ownerPathProblem(p: string, opts: string[]): string | null {
  if (!p.startsWith('/')) return `of a relative path "${p}"`;
  if (/[*?[]/.test(p)) return `of "${p}", a pattern the packages' files would have to match`;
  if (opts.some((x) => /^-[a-zA-Z]*R/.test(x) || x === '--recursive')) return `-R of "${p}", a whole tree`;
  if (opts.some((x) => /^-[a-zA-Z]*h/.test(x) || x === '--no-dereference')) return `of "${p}" with ${opts.join(' ')}`;
  return null;
}

/** what dpkg-statoverride --add recorded in this script, among the variables, under names no script can spell */
const overrideVar = (path: string) => ` statoverride ${path}`;

/**
 * dpkg-statoverride. A fresh image has no overrides, so `--list PATH` fails
 * unless this script added one, and `--remove` has nothing to remove.
 * `--add` from postinst changes the file only with `--update` (otherwise dpkg
 * applies it when it next unpacks the package); from preinst, the unpack that
 * follows applies it.
 */
function statoverrideCmd(c: Cmd, env: Env, cx: Ctx): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['admindir', 'instdir', 'root']);
  const known = new Set(['add', 'remove', 'list', 'update', 'force', 'force-all', 'force-statoverride-add', 'force-statoverride-remove', 'quiet', 'admindir', 'instdir', 'root']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `dpkg-statoverride --${other} is not modelled`);
  if (o.flags.has('list')) {
    if (o.rest.length !== 1) return noop('dpkg-statoverride --list (query)', null);
    const v = env.vars.get(overrideVar(o.rest[0]!));
    const status = v === undefined ? false : v?.length === 1 ? v[0] === 'yes' : null;
    return noop(`dpkg-statoverride --list ${o.rest[0]} (query: ${status === false ? 'no override in a fresh image' : 'added by this script'})`, status);
  }
  if (o.flags.has('remove')) {
    if (REMOVAL.test(cx.phase)) return noop('dpkg-statoverride --remove on package removal');
    if (o.rest.length !== 1) return opaque(c, 'dpkg-statoverride --remove without exactly one path');
    const v = env.vars.get(overrideVar(o.rest[0]!));
    if (v !== undefined && !(v?.length === 1 && v[0] === 'no')) return opaque(c, `dpkg-statoverride --remove of the override this script added for ${o.rest[0]}`);
    return noop(`dpkg-statoverride --remove ${o.rest[0]} (a fresh image has no override to remove)`, true);
  }
  if (!o.flags.has('add')) return opaque(c, 'dpkg-statoverride without --add, --remove or --list');
  if (REMOVAL.test(cx.phase)) return noop('dpkg-statoverride --add on package removal');
  if (o.rest.length !== 4) return opaque(c, `dpkg-statoverride --add with ${o.rest.length} operands, not USER GROUP MODE PATH`);
  const [user, group, modeText, path] = o.rest as [string, string, string, string];
  const mode = parseOctal(modeText);
  if (mode === undefined) return opaque(c, `dpkg-statoverride --add with mode "${modeText}", not octal`);
  if (!path.startsWith('/') || /[*?[]/.test(path)) return opaque(c, `dpkg-statoverride --add of "${path}", not an absolute path`);
  env.vars.set(overrideVar(path), ['yes']);
  if (!o.flags.has('update') && cx.phase !== 'preinst' && cx.phase !== 'pre') {
    return noop(`dpkg-statoverride --add ${path} without --update (dpkg applies it when it next unpacks the package)`, true);
  }
  // dpkg's '#ID' spelling of a numeric owner
  const id = (s: string) => s.replace(/^#(\d+)$/, '$1');
  return acts([{ kind: 'statoverride', tool: 'dpkg-statoverride', path, user: id(user), group: id(group), mode }], true);
}

function tmpfilesCmd(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['root', 'prefix', 'exclude-prefix', 'E', 'image', 'replace']);
  if (!o.flags.has('create')) return noop(`systemd-tmpfiles ${a.join(' ')} (boot-time cleanup)`);
  if (o.rest.includes('-') || (c.heredoc !== undefined && !o.rest.length)) {
    if (c.heredoc === undefined) return opaque(c, 'systemd-tmpfiles reads standard input that is not a here-document');
    return acts(parseTmpfiles(c.heredoc));
  }
  return acts([{ kind: 'tmpfiles', configs: o.rest }]);
}

/** phases that run only when a package goes away: an image build never runs them */
const REMOVAL = /^(prerm|postrm|preun|postun|preuntrans|postuntrans|triggerun|triggerpostun)$/;

/** ln -s TARGET LINK: a symlink action; hard links and relative link paths stay opaque */
function lnCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('ln on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['S', 'suffix', 't', 'target-directory']);
  const known = new Set(['s', 'symbolic', 'f', 'force', 'n', 'no-dereference', 'T', 'no-target-directory', 'v', 'verbose']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `ln -${other} is not modelled`);
  if (!o.flags.has('s') && !o.flags.has('symbolic')) return opaque(c, 'ln without -s makes a hard link');
  if (o.rest.length !== 2) return opaque(c, `ln -s with ${o.rest.length} operands`);
  const target = o.rest[0]!;
  const link = at(o.rest[1]!, env);
  if (!link.startsWith('/') || link.endsWith('/')) return opaque(c, `ln -s to a relative or directory path "${link}"`);
  if (!target) return opaque(c, 'ln -s with an empty target');
  const force = o.flags.has('f') || o.flags.has('force');
  // ln -sf succeeds wherever the linker makes the link (where it cannot, it lists why): `ln -sf … && mv …` goes on
  return acts([{ kind: 'symlink', path: link, target, force }], force ? true : null);
}

/** cp FROM TO between two absolute paths: a copy action (the linker checks FROM is a regular file) */
function cpCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('cp on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['S', 'suffix', 't', 'target-directory']);
  if (o.rest.length === 2 && isTemp(at(o.rest[1]!, env))) return cpToTemp(c, o, env);
  // -a, -d, -P copy a symlink as a link, -r a tree: not modelled
  // -Z sets an SELinux context, which an image does not carry
  const known = new Set(['p', 'f', 'force', 'n', 'no-clobber', 'v', 'verbose', 'preserve', 'Z']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `cp -${other} is not modelled`);
  if (o.rest.length !== 2) return opaque(c, `cp with ${o.rest.length} operands`);
  const [from, to] = o.rest.map((x) => at(x, env)) as [string, string];
  if (isTemp(from)) return opaque(c, 'cp from the temporary file from mktemp');
  if (!from.startsWith('/') || !to.startsWith('/') || to.endsWith('/')) return opaque(c, `cp between "${from}" and "${to}" (relative or into a directory)`);
  const preserve = o.flags.has('p') || o.flags.has('preserve');
  cx.createdFiles.add(to);
  return acts([{ kind: 'copy', from, to, preserve, noClobber: o.flags.has('n') || o.flags.has('no-clobber') }]);
}

// ---------------------------------------------------------------- temporary files, mv, sed, ucf

/**
 * Set while the walk is inside a branch whose condition is neither known nor a file
 * test the linker answers (`if grep -q …`). Every branch is walked, so an action
 * there may not happen at all: the steps that replace content (write, mv, ucf) stay
 * opaque there rather than be applied on a guess.
 */
export const UNDECIDED_VAR = ' undecided';
export const undecided = (env: Env): boolean => env.vars.get(UNDECIDED_VAR)?.includes('yes') ?? false;

/**
 * `$(mktemp)` stands for a file only this script sees: a path no real file has
 * (it holds a NUL). What the script puts in it is followed in a variable of the
 * same kind as the umask's, one possibility per path through the script, so a
 * later `ucf TMP DEST` knows the content it installs, or knows that it does not.
 */
export const TEMP_MARK = '\0mktemp';
export const isTemp = (p: string) => p.includes(TEMP_MARK);
const tempVar = (p: string) => ` temp ${p}`;

export interface TempState {
  /** the shipped file copied into it, null while it is empty */
  from: string | null;
  /** cp -p or -a: the copy has the shipped file's mode and owner (mktemp's 0600 otherwise) */
  preserve: boolean;
  edits: SedEdit[];
  /** why its content is not known */
  unknown?: string;
}

/** a new temporary file (what `$(mktemp)` expands to at LINE) */
export function makeTemp(env: Env, line: number): string {
  const p = `/tmp/${TEMP_MARK}${line}`;
  env.vars.set(tempVar(p), [JSON.stringify({ from: null, preserve: false, edits: [] } satisfies TempState)]);
  return p;
}

function tempStates(env: Env, p: string): TempState[] | null {
  const v = env.vars.get(tempVar(p));
  return v ? v.map((x) => JSON.parse(x) as TempState) : null;
}

function setTemp(env: Env, p: string, states: TempState[]): void {
  env.vars.set(tempVar(p), [...new Set(states.map((x) => JSON.stringify(x)))]);
}

function cpToTemp(c: Cmd, o: Opts, env: Env): Result {
  const known = new Set(['a', 'archive', 'p', 'preserve', 'f', 'force', 'Z', 'v', 'verbose']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `cp -${other} into the temporary file from mktemp is not modelled`);
  const from = at(o.rest[0]!, env);
  const to = at(o.rest[1]!, env);
  if (!from.startsWith('/') || isTemp(from)) return opaque(c, `cp of "${from}" into the temporary file from mktemp`);
  // -a copies a link as a link, which the later copy out of it follows again: the same content
  setTemp(env, to, [{ from, preserve: ['a', 'archive', 'p', 'preserve'].some((f) => o.flags.has(f)), edits: [] }]);
  return noop(`cp ${from} into the temporary file from mktemp`, null);
}

/** mv [-f] FROM TO: a rename (`X.dpkg-new` made by the script, then moved over X) */
function mvCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('mv on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['S', 'suffix', 't', 'target-directory']);
  const known = new Set(['f', 'force', 'v', 'verbose', 'T', 'no-target-directory']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `mv -${other} is not modelled`);
  if (o.rest.length !== 2) return opaque(c, `mv with ${o.rest.length} operands`);
  const [from, to] = o.rest.map((x) => at(x, env)) as [string, string];
  if (isTemp(from) || isTemp(to)) return opaque(c, 'mv of the temporary file from mktemp');
  if (!from.startsWith('/') || !to.startsWith('/') || to.endsWith('/') || from.endsWith('/')) return opaque(c, `mv between "${from}" and "${to}" (relative or into a directory)`);
  if (undecided(env)) return opaque(c, `mv ${from} ${to} in a branch whose condition weld cannot decide`);
  cx.createdFiles.delete(from);
  cx.createdFiles.add(to);
  return acts([{ kind: 'rename', from, to }], o.flags.has('f') || o.flags.has('force') ? true : null);
}

/**
 * sed as a filter (no -i, no `w`, no `e`) changes nothing: a noop saying what it
 * prints. `sed -i` of the temporary file from mktemp records its substitutions;
 * of any other file it stays opaque.
 */
function sedCmd(c: Cmd, env: Env, cx: Ctx): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const cl = sedCommandLine(a);
  if (typeof cl === 'string') return opaque(c, cl);
  const sc = readSedScript(cl.script, cl.ere);
  if (typeof sc === 'string') return opaque(c, `sed script ${JSON.stringify(cl.script)}: ${sc}`);
  if (sc.sideEffect) return opaque(c, `sed ${JSON.stringify(cl.script)}: ${sc.sideEffect}`);
  if (!cl.inPlace) return noop(`sed ${JSON.stringify(cl.script)} (text filter: prints ${cl.files.length ? cl.files.join(' ') : 'its input'} edited)`);
  if (REMOVAL.test(cx.phase)) return noop('sed -i on package removal');
  const files = cl.files.map((f) => at(f, env));
  if (!files.length) return opaque(c, 'sed -i without a file');
  const real = files.find((f) => !isTemp(f));
  if (real !== undefined) return opaque(c, `sed -i edits ${real} in place, which weld models only for the temporary copy of a shipped file`);
  for (const f of files) {
    const states = tempStates(env, f);
    if (!states) return opaque(c, `sed -i of a temporary file weld did not see made`);
    setTemp(env, f, states.map((st) => (st.unknown ? st : typeof sc.substs === 'string' ? { ...st, unknown: `sed ${JSON.stringify(cl.script)} edits it: ${sc.substs}` } : { ...st, edits: [...st.edits, ...sc.substs] })));
  }
  return noop(`sed -i ${JSON.stringify(cl.script)} on the temporary file from mktemp`, null);
}

/**
 * ucf NEW DEST on a fresh install: DEST does not exist and ucf has no record of it,
 * so ucf copies NEW there with `cp -p` ("Creating config file … with new version",
 * ucf 3.0043 replace_conf_file). NEW is a shipped template, or the temporary copy
 * of one that the script edited.
 */
function ucfCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (c.args.includes('--purge') && REMOVAL.test(cx.phase)) return noop('ucf --purge on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['sum-file', 'state-dir', 'src-dir']);
  const known = new Set(['three-way', '3', 'debconf-ok', 'd', 'sum-file', 'verbose', 'v']);
  const other = [...o.flags.keys()].find((k) => !known.has(k));
  if (other) return opaque(c, `ucf --${other} is not modelled`);
  if (o.rest.length !== 2) return opaque(c, `ucf with ${o.rest.length} operands, not NEW DEST`);
  const [src, dest] = o.rest.map((x) => at(x, env)) as [string, string];
  if (!dest.startsWith('/') || isTemp(dest)) return opaque(c, `ucf to "${dest}", not an absolute path`);
  if (undecided(env)) return opaque(c, `ucf installs ${dest} in a branch whose condition weld cannot decide`);
  if (!isTemp(src)) {
    if (!src.startsWith('/')) return opaque(c, `ucf of "${src}", not an absolute path`);
    cx.createdFiles.add(dest);
    return acts([{ kind: 'copy', from: src, to: dest, preserve: true, noClobber: true }]);
  }
  const states = tempStates(env, src);
  if (!states) return opaque(c, 'ucf of a temporary file weld did not see made');
  if (states.length !== 1) return opaque(c, `ucf installs ${dest} from a temporary file whose content depends on which way the script went (${states.length} possibilities, from values weld does not know such as debconf answers)`);
  const st = states[0]!;
  if (st.unknown) return opaque(c, `ucf installs ${dest} from a temporary file whose content weld does not know: ${st.unknown}`);
  if (st.from === null) return opaque(c, `ucf installs ${dest} from an empty temporary file`);
  if (!st.preserve) return opaque(c, `ucf installs ${dest} from a temporary file that kept mktemp's mode 0600`);
  cx.createdFiles.add(dest);
  const cp: Extract<Action, { kind: 'copy' }> = { kind: 'copy', from: st.from, to: dest, preserve: true, noClobber: true };
  if (st.edits.length) cp.edits = st.edits;
  return acts([cp]);
}

/** ucfr PKG FILE: ucf's record of which package owns FILE (/var/lib/ucf, package-manager state) */
function ucfrCmd(c: Cmd, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('ucfr on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['state-dir']);
  if (o.flags.has('purge')) return opaque(c, 'ucfr --purge at install time');
  if (o.rest.length !== 2) return opaque(c, `ucfr with ${o.rest.length} operands, not PACKAGE FILE`);
  return noop(`ucfr ${o.rest.join(' ')} (ucf's registry of configuration files)`, true);
}

// ---------------------------------------------------------------- debconf

/** what this script db_set a question to, under a name no script can spell; ` debconf *` after a db_set of an unknown question */
const debconfVar = (q: string) => ` debconf ${q}`;

/**
 * db_get gives RET the answer of a fresh noninteractive install: what this script
 * db_set, else the package's template default (debconf.ts); unknown otherwise.
 */
function debconfCmd(name: string, c: Cmd, env: Env, cx: Ctx): Result {
  const q = c.args[0] ?? null;
  if (name === 'db_set' || name === 'db_reset') {
    cx.debconfSets?.push({ question: q, when: [...env.guards] });
    if (q === null) env.vars.set(debconfVar('*'), ['?']);
    else env.vars.set(debconfVar(q), name === 'db_reset' ? (cx.debconf?.has(q) ? [cx.debconf.get(q)!] : null) : c.args.length === 2 ? c.alts[1]! : null);
    env.vars.set('RET', null);
    return noop(`debconf ${name} ${q ?? '?'}`, null);
  }
  let v: Val = null;
  if (q !== null && !env.vars.has(debconfVar('*'))) {
    const set = env.vars.get(debconfVar(q));
    if (set !== undefined) v = set;
    else if (cx.debconf?.has(q)) v = [cx.debconf.get(q)!];
  }
  env.vars.set('RET', v);
  return noop(`db_get ${q ?? '?'} (${v && v.length === 1 ? `a fresh install's answer "${v[0]}"` : 'answer unknown'})`, v ? true : null);
}

/** The shell's umask lives among its variables under a name no script can spell. */
const UMASK_VAR = ' umask';

/** Mode of a file made now: 0666 less the umask; undefined for the usual 022, null when the umask is unknown. */
export function createMode(env: Env): number | undefined | null {
  const v = env.vars.get(UMASK_VAR);
  if (v === undefined) return undefined;
  if (v === null || v.length !== 1) return null;
  const u = parseInt(v[0]!, 8);
  return u === 0o022 ? undefined : 0o666 & ~u;
}

function touchCmd(c: Cmd, cx: Ctx, env: Env): Result {
  if (REMOVAL.test(cx.phase)) return noop('touch on package removal');
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, ['d', 'date', 'r', 'reference', 't']);
  if ([...o.flags.keys()].some((k) => k === 'c' || k === 'no-create' || k === 'h')) return noop('touch of existing files (timestamps are the image\'s)');
  if (!o.rest.length) return opaque(c, 'touch without a file');
  const cm = createMode(env);
  if (cm === null) return opaque(c, 'touch under an unknown umask');
  const out: Action[] = [];
  for (const p of o.rest.map((x) => at(x, env))) {
    if (!p.startsWith('/') || p.endsWith('/')) return opaque(c, `touch of a relative path "${p}"`);
    cx.createdFiles.add(p);
    const f: Extract<Action, { kind: 'file' }> = { kind: 'file', path: p, truncate: false };
    if (cm !== undefined) f.createMode = cm;
    out.push(f);
  }
  return acts(out);
}

function rmdirCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('rmdir on package removal');
  const a0 = exactArgs(c);
  if (!a0) return unresolved(c);
  const a = a0.map((x) => (x.startsWith('-') ? x : at(x, env)));
  if (a.length !== 1 || !a[0]!.startsWith('/') || a[0]!.startsWith('-')) return rmCmd(c, env, cx);
  return acts([{ kind: 'rmdir', path: a[0]!.replace(/(.)\/+$/, '$1') }]);
}

function rmCmd(c: Cmd, env: Env, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop(`${base(c.name)} on package removal`);
  // rm -f of named paths: usually leftovers of older versions, which a fresh image does not have
  const a0 = base(c.name) === 'rm' ? exactArgs(c) : null;
  if (a0) {
    const o = getopt(a0, []);
    o.rest = o.rest.map((x) => at(x, env));
    if (o.rest.length && o.rest.every(isTemp)) return noop('rm of the temporary file from mktemp');
    const known = new Set(['f', 'force', 'r', 'R', 'recursive', 'v', 'verbose']);
    if (o.rest.length && [...o.flags.keys()].every((k) => known.has(k)) && o.rest.every((p) => p.startsWith('/') && p.length > 1 && !/[*?[]/.test(p))) {
      return acts(o.rest.map((p) => ({ kind: 'remove', path: p.replace(/(.)\/+$/, '$1') })));
    }
  }
  const a = c.args;
  return opaque(c, `${base(c.name)} ${a.filter((x) => x && !x.startsWith('-')).join(' ')} removes files at install time`);
}

// ---------------------------------------------------------------- caches

/** tools that rebuild a derived file from what packages ship */
const CACHE_TOOLS = new Set([
  'depmod', 'fc-cache', 'glib-compile-schemas', 'update-mime-database', 'gtk-update-icon-cache', 'gtk4-update-icon-cache',
  'update-desktop-database', 'update-ca-certificates', 'update-ca-trust', 'install-info', 'mandb', 'update-initramfs',
  'gio-querymodules', 'gdk-pixbuf-query-loaders', 'texhash', 'mktexlsr', 'update-info-dir', 'update-fonts-dir',
  'update-fonts-scale', 'update-fonts-alias', 'mkfontdir', 'mkfontscale', 'update-xmlcatalog', 'update-catalog',
  'update-menus', 'update-mime', 'pam-auth-update', 'dracut', 'kernel-install', 'update-grub', 'grub2-mkconfig',
  'udevadm', 'systemd-hwdb', 'py3compile', 'pycompile', 'py3clean', 'pyclean', 'update-gconf-defaults',
  'gconftool-2', 'update-perl-sax-parsers', 'dpkg-trigger', 'locale-gen', 'update-locale', 'update-pciids',
  'mkinitrd', 'new-kernel-pkg', 'weak-modules', 'ldconfig.real', 'systemd-hwdb', 'catalog', 'update-binfmts',
  'update-gsfontmap', 'fmtutil-sys', 'updmap-sys', 'gdk-pixbuf-query-loaders-64', 'gtk-query-immodules-3.0',
  'gtk-query-immodules-2.0', 'update-gtk-immodules', 'update-icon-caches', 'xmlcatalog', 'install-sgmlcatalog',
  // /etc/shells from shells.d; /etc/shadow and /etc/gshadow from passwd and group
  'update-shells', 'shadowconfig', 'pwconv', 'grpconv',
]);

function cacheCmd(c: Cmd, cx: Ctx): Result {
  const a = c.args.map((x, i) => x ?? (c.alts[i] === null ? '?' : c.alts[i]!.join('|')));
  const tool = base(c.name);
  const g = generatorOf(tool, a.filter((x) => !/^--root=/.test(x)), cx.format);
  if (g) return acts([g]);
  // `udevadm` is a cache tool only for `hwdb --update`; `udevadm control/trigger` talk to a running udevd
  if (tool === 'udevadm' && !(a[0] === 'hwdb' && a.includes('--update'))) return noop(`udevadm ${a[0] ?? ''} (runtime)`);
  // --root points at the install root, which is the image itself
  return acts([{ kind: 'cache', tool, args: a.filter((x) => !/^--root=/.test(x)) }]);
}

// ---------------------------------------------------------------- first-boot state

/*
 * Host keys, snakeoil certificates, private keys and machine ids are the
 * installing machine's own: an image must not carry them (every copy would
 * share them), so they become `firstboot` actions the linker makes at boot.
 */
const firstboot = (what: Extract<Action, { kind: 'firstboot' }>['what'], tool: string, paths: (string | null | undefined)[]): Result =>
  acts([{ kind: 'firstboot', what, tool, paths: paths.filter((p): p is string => typeof p === 'string' && p.startsWith('/')) }]);

/** the arguments with unknown ones as a placeholder no option or path matches */
const UNKNOWN_ARG = '\0?';
const knownArgs = (c: Cmd): string[] => c.args.map((a) => a ?? UNKNOWN_ARG);
const known = (s: string | undefined): string | undefined => (s === undefined || s.includes(UNKNOWN_ARG) ? undefined : s);

function sshKeygen(c: Cmd): Result {
  const o = getopt(knownArgs(c), ['a', 'b', 'C', 'D', 'E', 'F', 'f', 'G', 'I', 'J', 'j', 'K', 'M', 'm', 'N', 'n', 'O', 'P', 'r', 'S', 's', 'T', 't', 'V', 'W', 'w', 'Y', 'Z', 'z']);
  // fingerprints, public halves and known_hosts look-ups read keys, they make none
  for (const q of ['l', 'y', 'B', 'F', 'H', 'R', 'Q', 'L', 'k', 'e', 'i', 'D', 'Y']) if (o.flags.has(q)) return noop(`ssh-keygen -${q} (reads a key)`);
  if (o.flags.has('A')) return firstboot('ssh-host-key', 'ssh-keygen', []);
  const f = known(str(o, 'f'));
  if (f !== undefined && f.startsWith('/') && !/\/ssh_host_[^/]*_key$/.test(f)) return firstboot('private-key', 'ssh-keygen', [f]);
  // `ssh-keygen -q -f "$file" -N '' -t rsa` in a host-key loop: the file may be unknown, the key is a host key
  return firstboot('ssh-host-key', 'ssh-keygen', [f]);
}

/** ssl-cert's make-ssl-cert: the default snakeoil pair, or a certificate from a template */
function makeSslCert(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const o = getopt(a, []);
  if (o.rest[0] === 'generate-default-snakeoil') return firstboot('ssl-snakeoil', 'make-ssl-cert', ['/etc/ssl/certs/ssl-cert-snakeoil.pem', '/etc/ssl/private/ssl-cert-snakeoil.key']);
  if (o.rest.length === 2) return firstboot('private-key', 'make-ssl-cert', [o.rest[1]]);
  return opaque(c, 'make-ssl-cert other than generate-default-snakeoil or TEMPLATE OUTPUT');
}

/** openssl subcommands that make a new private key */
function opensslCmd(c: Cmd): Result {
  const a = knownArgs(c);
  const sub = a[0];
  const opt = (name: string) => {
    const i = a.indexOf(name);
    return i >= 0 ? known(a[i + 1]) : undefined;
  };
  if (sub === 'req' && (a.includes('-keyout') || a.includes('-newkey') || (a.includes('-new') && !a.includes('-key')))) {
    return firstboot('private-key', 'openssl', [opt('-keyout') ?? (a.includes('-keyout') ? undefined : opt('-out'))]);
  }
  if (sub === 'genrsa' || sub === 'gendsa' || sub === 'genpkey' || (sub === 'ecparam' && a.includes('-genkey'))) return firstboot('private-key', 'openssl', [opt('-out')]);
  return opaque(c, 'unknown command "openssl"');
}

/** dbus-uuidgen --ensure[=FILE] writes a machine id; without it, it only prints one */
function dbusUuidgen(c: Cmd): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  const e = a.find((x) => x === '--ensure' || x.startsWith('--ensure='));
  if (e) return firstboot('machine-id', 'dbus-uuidgen', [e.includes('=') ? e.slice(e.indexOf('=') + 1) : '/var/lib/dbus/machine-id']);
  return noop('dbus-uuidgen (prints an id)');
}

const FIRSTBOOT_COMMANDS: Record<string, Handler> = {
  'ssh-keygen': (c) => sshKeygen(c),
  'make-ssl-cert': (c) => makeSslCert(c),
  openssl: (c) => opensslCmd(c),
  'dbus-uuidgen': (c) => dbusUuidgen(c),
  'systemd-machine-id-setup': (c) => (c.args.includes('--print') ? noop('systemd-machine-id-setup --print (query)') : firstboot('machine-id', 'systemd-machine-id-setup', ['/etc/machine-id'])),
  // SELinux labels of what a script made; weld's images carry the labels their packages ship
  restorecon: () => noop('restorecon (SELinux relabel)'),
};


/**
 * Caches weld makes by running the image's own tool (src/linker/generators): which tool, on which
 * inputs, to which outputs. systemd-hwdb(8) `update` compiles hwdb.d into hwdb.bin, in /etc/udev or,
 * with --usr, udev's own directory (Debian: /lib/udev; Fedora: /usr/lib/udev). journalctl
 * --update-catalog compiles the catalog sources into /var/lib/systemd/catalog/database (journalctl(1)).
 */
function generatorOf(tool: string, args: string[], format: 'rpm' | 'deb'): Extract<Action, { kind: 'generate' }> | null {
  if (tool === 'systemd-hwdb' && args.length && args.every((x) => ['update', '--usr', '--strict', '-s'].includes(x)) && args.includes('update')) {
    const udev = format === 'deb' ? '/lib/udev' : '/usr/lib/udev';
    const dir = args.includes('--usr') ? udev : '/etc/udev';
    return { kind: 'generate', generator: 'hwdb', tool, args, inputs: ['/etc/udev/hwdb.d', `${udev}/hwdb.d`], outputs: [`${dir}/hwdb.bin`] };
  }
  if (tool === 'journalctl' && args.length === 1 && args[0] === '--update-catalog') {
    return { kind: 'generate', generator: 'journal-catalog', tool, args, inputs: ['/usr/local/lib/systemd/catalog', '/usr/lib/systemd/catalog'], outputs: ['/var/lib/systemd/catalog/database'] };
  }
  return null;
}

// ---------------------------------------------------------------- table

const QUIET: Record<string, string> = {
  echo: 'message',
  printf: 'message',
  cat: 'message',
  getent: 'account query',
  id: 'account query',
  which: 'command lookup',
  type: 'command lookup',
  hash: 'command lookup',
  sleep: 'sleep',
  trap: 'trap',
  wait: 'wait',
  grep: 'text query',
  'dpkg-query': 'package query',
  'dpkg-architecture': 'package query',
  logger: 'log message',
  basename: 'text query',
  dirname: 'text query',
  readlink: 'path query',
  stat: 'path query',
  uname: 'system query',
  ls: 'path query',
  cmp: 'file compare',
  md5sum: 'checksum query',
  sha256sum: 'checksum query',
  head: 'text query',
  tail: 'text query',
  cut: 'text query',
  tr: 'text query',
  wc: 'text query',
  awk: 'text query',
  'systemd-detect-virt': 'system query',
  ischroot: 'system query',
  find: 'path query',
  fgrep: 'text query',
  egrep: 'text query',
  telinit: 'init re-exec (runtime)',
  continue: 'continue',
  break: 'break',
  'runit-helper': 'runit-helper (runit supervision links, only when runit is installed)',
  pwd: 'pwd',
  unset: 'unset',
};

function dpkgCmd(c: Cmd): Result {
  const a = c.args;
  if (a[0] === '--compare-versions') {
    const vals = c.alts.slice(1, 4);
    return noop('dpkg --compare-versions', compareVersionsWithEmpty(vals[0] ?? null, one(vals[1] ?? null), vals[2] ?? null));
  }
  if (a[0] && /^--(assert-|print-architecture|print-foreign|audit|status|-?listfiles|search|-s$|-L$|-S$|validate-)/.test(a[0])) return noop(`dpkg ${a[0]} (query)`);
  if (a[0] === '-s' || a[0] === '-L' || a[0] === '-S' || a[0] === '-l') return noop(`dpkg ${a[0]} (query)`);
  return opaque(c, `dpkg ${a[0] ?? ''} changes the package database`);
}

function one(v: Val): string | null {
  return v && v.length === 1 ? v[0]! : null;
}

/**
 * dpkg-maintscript-helper only manages conffiles and symlink/dir swaps
 * across upgrades of an installed system; a fresh image never has the old
 * state, so each one is a noop naming what it would do.
 */
function maintscriptHelper(c: Cmd): Result {
  const a = c.args;
  const verb = a[0] ?? '';
  if (['rm_conffile', 'mv_conffile', 'symlink_to_dir', 'dir_to_symlink', 'supports'].includes(verb)) {
    const operands = a.slice(1, a.indexOf('--') < 0 ? undefined : a.indexOf('--')).map((x) => x ?? '?');
    return noop(`dpkg-maintscript-helper ${verb} ${operands.join(' ')} (upgrade-only)`.trimEnd());
  }
  return opaque(c, `unknown dpkg-maintscript-helper verb "${verb}"`);
}

function setCmd(c: Cmd, env: Env): Result {
  const dd = c.args.indexOf('--');
  if (dd >= 0) {
    env.pos = c.alts.slice(dd + 1);
    env.posUnknown = false;
    return noop('set --');
  }
  return noop(`set ${c.args.map((x) => x ?? '?').join(' ')}`, true);
}

function exportCmd(c: Cmd, env: Env): Result {
  for (let i = 0; i < c.args.length; i++) {
    const x = c.args[i];
    const m = x ? /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(x) : null;
    if (m) env.vars.set(m[1]!, [m[2]!]);
    else if (x === null) {
      // NAME=$(...) through export: the name is known from the source text
      const raw = c.alts[i];
      if (raw === null) continue;
    }
  }
  return noop(`${base(c.name)} ${c.args.map((x) => (x ?? '?').split('=')[0]).join(' ')}`, true);
}

/** shell libraries whose functions only print messages */
const MESSAGE_LIBS: Record<string, string[]> = {
  '/usr/share/dpkg/sh/dpkg-error.sh': ['setup_colors', 'debug', 'error', 'warning', 'hint', 'badusage'],
};

function dotCmd(c: Cmd, cx: Ctx): Result {
  const f = c.args[0];
  if (f === '/usr/share/debconf/confmodule') return noop('debconf confmodule');
  if (f && MESSAGE_LIBS[f]) {
    for (const fn of MESSAGE_LIBS[f]) cx.messageFuncs.add(fn);
    return noop(`source ${f} (message functions)`);
  }
  if (f === '/lib/lsb/init-functions' || f === '/etc/default/rcS') return noop(`source ${f}`);
  return opaque(c, `sources "${f ?? '?'}", whose commands are not visible`);
}

/** `[ ... ]` and `test ...` */
function testCmd(c: Cmd, env: Env, cx: Ctx): Result {
  const args = c.alts.slice();
  if (base(c.name) === '[' || base(c.name) === '[[') {
    const last = one(args[args.length - 1] ?? null);
    if (last !== ']' && last !== ']]') return opaque(c, `"${base(c.name)}" without a closing bracket`);
    args.pop();
  }
  const status = evalTest(args, cx.format);
  cx.lastTest = status === null ? fileTest(args, env) : null;
  return noop('test', status);
}

const GUARD_TESTS: Record<string, Guard['test']> = { '-e': '-e', '-a': '-e', '-f': '-f', '-d': '-d', '-L': '-L', '-h': '-L', '-s': '-s', '-x': '-x' };

/** `[ -d PATH ]` or `[ ! -d PATH ]` with a known absolute path: a guard the linker can answer */
function fileTest(args: Val[], env: Env): Guard | null {
  const w = args.map(one);
  if (w.some((x) => x === null)) return null;
  const negate = w[0] === '!';
  const rest = negate ? w.slice(1) : w;
  if (rest.length !== 2) return null;
  const test = GUARD_TESTS[rest[0]!];
  const path = at(rest[1]!, env);
  if (!test || !path.startsWith('/') || isTemp(path)) return null;
  return { test, path: path.length > 1 ? path.replace(/\/+$/, '') : path, negate };
}

const TABLE: Record<string, Handler> = {
  true: () => noop('true', true),
  ':': () => noop(':', true),
  false: () => noop('false', false),
  exit: () => ({ actions: [{ kind: 'noop', what: 'exit' }], status: null, exit: true }),
  return: (c, _e, cx) => {
    if (cx.callDepth > 0) cx.returned.add(cx.callDepth);
    // `return N` is the function's status, which its caller's `if` reads (apache2's is_fresh_install)
    const n = c.args.length === 1 && c.args[0] !== null && /^[0-9]+$/.test(c.args[0]) ? Number(c.args[0]) % 256 : null;
    return { actions: [{ kind: 'noop', what: 'return' }], status: n === null ? null : n === 0, exit: true };
  },
  '[': (c, env, cx) => testCmd(c, env, cx),
  '[[': (c, env, cx) => testCmd(c, env, cx),
  test: (c, env, cx) => testCmd(c, env, cx),
  cd: (c, env) => cdCmd(c, env),
  set: (c, env) => setCmd(c, env),
  export: (c, env) => exportCmd(c, env),
  local: (c, env) => exportCmd(c, env),
  readonly: (c, env) => exportCmd(c, env),
  shift: (c, env) => {
    const n = Number(c.args[0] ?? '1') || 1;
    env.pos = env.pos.slice(n);
    return noop('shift', true);
  },
  read: (c, env) => {
    for (const x of c.args) if (x && /^[A-Za-z_]\w*$/.test(x)) env.vars.set(x, null);
    return noop('read');
  },
  '.': (c, _e, cx) => dotCmd(c, cx),
  source: (c, _e, cx) => dotCmd(c, cx),
  command: (c, env, cx) => {
    if (c.args[0] === '-v' || c.args[0] === '-V') return noop('command lookup');
    if (c.args[0] === null || c.args[0] === undefined) return opaque(c, 'command without a name');
    return classifyCommand({ ...c, name: c.args[0], args: c.args.slice(1), alts: c.alts.slice(1) }, env, cx);
  },
  useradd: (c) => useradd(c),
  groupadd: (c) => groupadd(c),
  adduser: (c) => adduser(c, false),
  addgroup: (c) => adduser(c, true),
  usermod: (c) => usermod(c),
  gpasswd: (c) => gpasswd(c),
  'systemd-sysusers': (c) => sysusers(c),
  ldconfig: () => acts([{ kind: 'ldconfig' }]),
  'update-alternatives': (c) => alternatives(c),
  alternatives: (c) => alternatives(c),
  systemctl: (c) => systemctl(c),
  'systemd-update-helper': (c) => updateHelper(c),
  'deb-systemd-helper': (c) => debSystemdHelper(c),
  'deb-systemd-invoke': (c) => debSystemdInvoke(c),
  'invoke-rc.d': (c) => invokeRcD(c),
  'update-rc.d': (c) => updateRcD(c),
  service: (c) => serviceCmd(c),
  chkconfig: (c) => chkconfig(c),
  mkdir: (c, env, cx) => mkdirCmd(c, env, cx),
  install: (c, env, cx) => installCmd(c, env, cx),
  chown: (c, env, cx) => chownChmod(c, env, cx, 'chown'),
  chgrp: (c, env, cx) => chownChmod(c, env, cx, 'chgrp'),
  chmod: (c, env, cx) => chownChmod(c, env, cx, 'chmod'),
  'systemd-tmpfiles': (c) => tmpfilesCmd(c),
  rm: (c, env, cx) => rmCmd(c, env, cx),
  rmdir: (c, env, cx) => rmdirCmd(c, env, cx),
  ln: (c, env, cx) => lnCmd(c, env, cx),
  cp: (c, env, cx) => cpCmd(c, env, cx),
  mv: (c, env, cx) => mvCmd(c, env, cx),
  sed: (c, env, cx) => sedCmd(c, env, cx),
  uniq: (c) => (c.args.filter((x) => x === null || !x.startsWith('-')).length >= 2 ? opaque(c, 'uniq INPUT OUTPUT writes its second operand') : noop('uniq (text filter: prints its input without repeated lines)')),
  fold: () => noop('fold (text filter: prints its input wrapped)'),
  sort: (c) => (c.args.some((x) => x === null || /^(-o|--output)/.test(x) || /^-[a-zA-Z]*o/.test(x)) ? opaque(c, 'sort -o writes a file') : noop('sort (text filter: prints its input sorted)')),
  touch: (c, env, cx) => touchCmd(c, cx, env),
  'add-shell': (c) => shellCmd(c, 'add'),
  'remove-shell': (c) => shellCmd(c, 'remove'),
  dpkg: (c) => dpkgCmd(c),
  'dpkg-maintscript-helper': (c) => maintscriptHelper(c),
  journalctl: (c, _e, cx) => (c.args.includes('--update-catalog') ? acts([generatorOf('journalctl', ['--update-catalog'], cx.format)!]) : noop('journalctl (runtime)')),
  umask: (c, env) => {
    const m = c.args.length === 1 && c.args[0] !== null && /^[0-7]{1,4}$/.test(c.args[0]) ? c.args[0] : null;
    if (c.args.length === 0) return noop('umask (query)', true);
    // files the script makes after this get its mode bits; an unknown umask makes them unknown too
    env.vars.set(UMASK_VAR, m === null ? null : [m]);
    return noop(`umask ${c.args[0] ?? '?'}`, true);
  },
  'dpkg-statoverride': (c, env, cx) => statoverrideCmd(c, env, cx),
  xargs: (c, env, cx) => {
    let i = 0;
    while (i < c.args.length && /^-/.test(c.args[i] ?? '')) i++;
    const name = c.args[i];
    if (!name) return noop('xargs (echo)');
    return classifyCommand({ ...c, name, args: c.args.slice(i + 1), alts: c.alts.slice(i + 1) }, env, cx);
  },
  deluser: (c, _e, cx) => accountRemoval(c, cx),
  delgroup: (c, _e, cx) => accountRemoval(c, cx),
  userdel: (c, _e, cx) => accountRemoval(c, cx),
  groupdel: (c, _e, cx) => accountRemoval(c, cx),
  ucf: (c, env, cx) => ucfCmd(c, env, cx),
  ucfr: (c, _e, cx) => ucfrCmd(c, cx),
  rpm: (c) => (c.args[0] && /^-q/.test(c.args[0]) ? noop('rpm query') : opaque(c, 'rpm other than a query')),
  ...FIRSTBOOT_COMMANDS,
};

function accountRemoval(c: Cmd, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop(`${base(c.name)} on package removal`);
  return opaque(c, `${base(c.name)} removes an account at install time`);
}

function shellCmd(c: Cmd, op: 'add' | 'remove'): Result {
  const a = exactArgs(c);
  if (!a) return unresolved(c);
  if (!a.length) return opaque(c, `${op}-shell without a path`);
  return acts(a.map((path) => ({ kind: 'shell', op, path })));
}

export function classifyCommand(c: Cmd, env: Env, cx: Ctx): Result {
  const name = base(c.name);
  const py = pythonCommand(c, env);
  if (py) return py;
  const sys = classifySystem(c, env, cx);
  if (sys) return sys;
  const lo = classifyLeftover(c, env, cx);
  if (lo) return lo;
  const h = TABLE[name];
  if (h) return h(c, env, cx);
  const a2 = name.startsWith('a2') ? a2Command(c) : null;
  if (a2) return a2;
  if (cx.messageFuncs.has(name)) return noop(`${name} (message)`);
  if (name === 'db_get' || name === 'db_set' || name === 'db_reset') return debconfCmd(name, c, env, cx);
  if (name.startsWith('db_')) {
    // db_fget, db_metaget, db_input… leave their own RET
    env.vars.set('RET', null);
    return noop(`debconf ${name} (answers are not part of the image)`, null);
  }
  if (CACHE_TOOLS.has(name)) return cacheCmd(c, cx);
  const q = QUIET[name];
  if (q) {
    if (name === 'cat' && c.args.some((a) => a && !a.startsWith('-')) && !c.heredoc) return noop('cat (read)');
    return noop(q);
  }
  return opaque(c, `unknown command "${name}"`);
}
