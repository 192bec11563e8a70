/**
 * Recognisers for system tools in maintainer scripts that the general table
 * (commands.ts) leaves opaque: file capabilities (setcap), diversions
 * (dpkg-divert), depmod's indexes, MariaDB's my.cnf alternative and data
 * directory, postfix's postconf, and tools that act only on the running
 * kernel or on file attributes an image does not carry. classifyCommand asks
 * this table first; a null answer falls back to the general one.
 */
import type { Action } from '../../model.js';
import { encodeCaps } from '../../formats/caps/caps.js';
import { WeldError } from '../../errors.js';
import type { Ctx, Env, Tri, Val } from './values.js';
import type { Cmd, Result } from './commands.js';

type Handler = (c: Cmd, env: Env, cx: Ctx) => Result | null;

const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const acts = (actions: Action[], status: Tri = null): Result => ({ actions, status });
const noop = (what: string, status: Tri = null): Result => ({ actions: [{ kind: 'noop', what }], status });
const opaque = (c: Cmd, reason: string): Result => ({ actions: [{ kind: 'opaque', text: c.text, reason: `${reason} at line ${c.line}` }], status: null });
const exact = (c: Cmd): string[] | null => (c.args.every((a) => a !== null) ? (c.args as string[]) : null);
const unresolved = (c: Cmd) => opaque(c, `cannot resolve the arguments of "${base(c.name)}"`);

/** phases that run only when a package goes away (as commands.ts REMOVAL) */
const REMOVAL = /^(prerm|postrm|preun|postun|preuntrans|postuntrans|triggerun|triggerpostun)$/;

// ---------------------------------------------------------------- setcap, getcap

/** setcap(8): `setcap [-q] [-v] [-n rootid] CAPS FILE [CAPS FILE…]`, `setcap -r FILE` */
function setcap(c: Cmd): Result {
  const a = exact(c);
  if (!a) return unresolved(c);
  const rest: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x === '-q') continue;
    // -v verifies instead of setting, -n writes a namespaced (v3) xattr: neither is a plain set
    if (x === '-v' || x === '-n' || x === '-h') return opaque(c, `setcap ${x} is not modelled`);
    rest.push(x);
  }
  const out: Action[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    const caps = rest[i]!;
    const path = rest[i + 1];
    if (path === undefined) return opaque(c, 'setcap without a file');
    if (!path.startsWith('/')) return opaque(c, `setcap of a relative path "${path}"`);
    if (caps === '-r') {
      out.push({ kind: 'caps', path, caps: '' });
      continue;
    }
    try {
      encodeCaps(caps);
    } catch (e) {
      if (e instanceof WeldError) return opaque(c, `setcap with capabilities "${caps}" weld cannot read`);
      throw e;
    }
    out.push({ kind: 'caps', path, caps });
  }
  return acts(out);
}

// ---------------------------------------------------------------- dpkg-divert

/**
 * dpkg-divert(1). The queries answer as a fresh image would (no diversions;
 * their output is only used in $(…), whose value is unknown anyway). --add and
 * --remove are `divert` actions; without --rename (dpkg 1.21's default is
 * --no-rename) no file moves, and a diversion is only dpkg's record.
 */
function dpkgDivert(c: Cmd, env: Env, cx: Ctx): Result {
  const a = exact(c);
  if (!a) return unresolved(c);
  let op: 'add' | 'remove' | 'query' | undefined;
  let pkg: string | undefined;
  let local = false;
  let divert: string | undefined;
  let rename = false;
  const files: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const val = (name: string) => (x.startsWith(`${name}=`) ? x.slice(name.length + 1) : x === name ? a[++i] : undefined);
    if (x === '--add') op = 'add';
    else if (x === '--remove') op = 'remove';
    else if (x === '--list' || x === '--listpackage' || x === '--truename') op = 'query';
    else if (x === '--rename') rename = true;
    else if (x === '--no-rename') rename = false;
    else if (x === '--local') local = true;
    else if (x === '--quiet' || x === '--test') {
      if (x === '--test') return noop('dpkg-divert --test (changes nothing)', true);
    } else if (x === '--package' || x.startsWith('--package=')) pkg = val('--package');
    else if (x === '--divert' || x.startsWith('--divert=')) divert = val('--divert');
    else if (x === '--admindir' || x.startsWith('--admindir=') || x === '--instdir' || x.startsWith('--instdir=') || x === '--root' || x.startsWith('--root=')) {
      const v = x.includes('=') ? x.slice(x.indexOf('=') + 1) : a[++i];
      if (v !== '' && v !== '/' && v !== undefined && x.startsWith('--root')) return opaque(c, `dpkg-divert --root ${v}`);
    } else if (x.startsWith('-')) return opaque(c, `dpkg-divert ${x} is not modelled`);
    else files.push(x);
  }
  if (op === 'query') return noop(`dpkg-divert query of ${files.join(' ') || 'all diversions'} (a fresh image has none but those its scripts add)`, true);
  if (REMOVAL.test(cx.phase)) return noop(`dpkg-divert --${op ?? 'add'} on package removal`);
  if (files.length !== 1) return opaque(c, `dpkg-divert with ${files.length} files`);
  const path = files[0]!;
  if (!path.startsWith('/') || (divert !== undefined && !divert.startsWith('/'))) return opaque(c, `dpkg-divert of a relative path "${divert !== undefined && !divert.startsWith('/') ? divert : path}"`);
  // --add defaults to FILE.distrib; --remove without --divert removes whatever diversion FILE has
  const d: Extract<Action, { kind: 'divert' }> = { kind: 'divert', op: op ?? 'add', path, rename };
  if (divert !== undefined || d.op === 'add') d.divert = divert ?? `${path}.distrib`;
  if (pkg !== undefined && !local) d.package = pkg;
  // what later $(dpkg-divert --listpackage) and --truename in this script print
  env.vars.set(divertPkgVar(path), [d.op === 'add' ? d.package ?? 'LOCAL' : '']);
  env.vars.set(divertToVar(path), [d.op === 'add' ? d.divert! : path]);
  return acts([d], true);
}

/** what this script's dpkg-divert --add/--remove left, among the variables, under names no script can spell */
const divertPkgVar = (path: string) => ` divert-package ${path}`;
const divertToVar = (path: string) => ` divert-to ${path}`;

/**
 * The output of `$(dpkg-divert --listpackage FILE)` and `--truename FILE`:
 * a fresh image has no diversions but those this script added (listpackage
 * prints nothing, truename the file itself). undefined: not one of these.
 */
export function commandOutput(text: string, env: Env): Val | undefined {
  const m = /^\s*dpkg-divert\s+(--listpackage|--truename)\s+(?:"\$\{?(\w+)\}?"|\$\{?(\w+)\}?|(\/[^\s"'$`;|&<>()]+))\s*$/.exec(text);
  if (!m) return undefined;
  const name = m[2] ?? m[3];
  const v = name !== undefined ? env.vars.get(name) : [m[4]!];
  if (!v || v.length !== 1) return null;
  const path = v[0]!;
  if (m[1] === '--listpackage') return env.vars.get(divertPkgVar(path)) ?? [''];
  return env.vars.get(divertToVar(path)) ?? [path];
}

// ---------------------------------------------------------------- depmod

/** what `depmod VERSION` writes into /lib/modules/VERSION (kmod 30, depmod.c depfiles[] and modules.devname) */
export const DEPMOD_OUTPUTS = [
  'modules.alias', 'modules.alias.bin', 'modules.builtin.alias.bin', 'modules.builtin.bin', 'modules.dep', 'modules.dep.bin',
  'modules.devname', 'modules.softdep', 'modules.symbols', 'modules.symbols.bin',
];

/**
 * A kernel package's postinst runs `depmod VERSION` for its own modules; the
 * indexes are the image's own depmod run at link time (a generator), so the
 * step that asks for them is what triggers them, as for hwdb.bin. Without a
 * version depmod takes the running kernel's (`uname -r`): left to the cache list.
 */
function depmod(c: Cmd): Result | null {
  const a = exact(c);
  if (!a) return null;
  const args: string[] = [];
  let version: string | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x === '-a' || x === '--all' || x === '-q' || x === '--quiet') args.push(x);
    // -b "$DPKG_ROOT" with an empty root is the image itself
    else if ((x === '-b' || x === '--basedir') && (a[i + 1] === '' || a[i + 1] === '/')) i++;
    else if (x.startsWith('-')) return null;
    else if (version === undefined && /^[0-9][A-Za-z0-9._+~-]*$/.test(x)) version = x;
    else return null;
  }
  if (!version) return null;
  const dir = `/lib/modules/${version}`;
  return acts([{ kind: 'generate', generator: 'depmod', tool: 'depmod', args: [...args, version], inputs: [dir, '/etc/depmod.d', '/lib/depmod.d'], outputs: DEPMOD_OUTPUTS.map((f) => `${dir}/${f}`) }]);
}

/**
 * linux-base's linux-update-symlinks(8) `install|upgrade VERSION IMAGE`: with
 * /etc/kernel-img.conf's defaults (do_symlinks yes, link_in_boot no, which no
 * package changes) it points /vmlinuz and /initrd.img, and with no older
 * kernel their .old twins, at the new kernel, relative to /.
 */
function updateSymlinks(c: Cmd, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop('linux-update-symlinks on package removal');
  // `$change` is install or upgrade (the postinst's .fresh-install test): the same links on a fresh image
  const verbs = c.alts[0];
  const a = verbs && verbs.length && verbs.every((v) => v === 'install' || v === 'upgrade') ? exact({ ...c, args: ['install', ...c.args.slice(1)] }) : exact(c);
  if (!a) return unresolved(c);
  const [verb, version, image] = a;
  if (a.length !== 3 || (verb !== 'install' && verb !== 'upgrade') || !image!.startsWith('/boot/') || !image!.endsWith(`-${version}`)) return opaque(c, 'linux-update-symlinks other than install|upgrade VERSION /boot/IMAGE-VERSION');
  const file = image!.slice('/boot/'.length);
  const name = file.slice(0, -(version!.length + 1));
  const out: Action[] = [];
  for (const [link, target] of [[name, `boot/${file}`], ['initrd.img', `boot/initrd.img-${version}`]] as const) {
    out.push({ kind: 'symlink', path: `/${link}`, target, force: true }, { kind: 'symlink', path: `/${link}.old`, target, force: true });
  }
  return acts(out);
}

/**
 * `run-parts … /etc/kernel/postinst.d` (and preinst.d): the hooks other
 * packages put there for a new kernel (initramfs-tools' update-initramfs,
 * dkms, a boot loader) are not maintainer scripts weld walks; like
 * update-initramfs they are a cache step the linker lists as deferred.
 */
function runParts(c: Cmd, cx: Ctx): Result | null {
  const a = c.args;
  const dir = a[a.length - 1];
  const m = dir ? /^\/etc\/kernel\/(preinst|postinst|prerm|postrm)\.d$/.exec(dir) : null;
  if (!m) return null;
  if (REMOVAL.test(cx.phase) || m[1] === 'prerm' || m[1] === 'postrm') return noop(`run-parts ${dir} (kernel removal hooks)`);
  const version = a.find((x) => x?.startsWith('--arg='))?.slice('--arg='.length);
  return acts([{ kind: 'cache', tool: 'run-parts', args: [dir!, ...(version ? [version] : [])] }]);
}

// ---------------------------------------------------------------- MariaDB

/** mysql-common's configure-symlinks: `install VARIANT CNF` is update-alternatives --install /etc/mysql/my.cnf my.cnf CNF 200 */
function configureSymlinks(c: Cmd, cx: Ctx): Result | null {
  if (!c.name.endsWith('/mysql-common/configure-symlinks')) return null;
  const a = exact(c);
  if (!a) return unresolved(c);
  if (a[0] === 'remove' || REMOVAL.test(cx.phase)) return noop('configure-symlinks remove (removal)');
  if (a[0] !== 'install' || a.length !== 3 || !a[2]!.startsWith('/')) return opaque(c, 'configure-symlinks other than install VARIANT PATH');
  return acts([{ kind: 'alternative', link: '/etc/mysql/my.cnf', name: 'my.cnf', path: a[2]!, priority: 200 }]);
}

const INSTALL_DB = new Set(['mysql_install_db', 'mariadb-install-db']);

/**
 * mysql_install_db makes the system tables of a new data directory: machine
 * state (it holds the server's own accounts), made at first boot by a unit
 * when the directory is empty, not baked in.
 */
function installDb(c: Cmd, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop(`${base(c.name)} on package removal`);
  const a = c.args;
  const dir = a.find((x) => x?.startsWith('--datadir='))?.slice('--datadir='.length);
  return acts([{ kind: 'firstboot', what: 'mariadb-datadir', tool: base(c.name), paths: [dir ?? '/var/lib/mysql'] }]);
}

/** `bash /usr/bin/mysql_install_db …`: the script named by its path */
function viaShell(c: Cmd, env: Env, cx: Ctx): Result | null {
  const script = c.args[0];
  if (!script || !INSTALL_DB.has(base(script))) return null;
  return installDb({ ...c, name: script, args: c.args.slice(1), alts: c.alts.slice(1) }, cx);
}

// ---------------------------------------------------------------- postfix

/** postconf(1): `-e KEY=VALUE…` edits main.cf; -h/-x/-d/-n print parameters; other edits (-X, -M, -F, -P) are not modelled */
function postconf(c: Cmd): Result {
  const a = exact(c);
  if (!a) return unresolved(c);
  let dir = '/etc/postfix';
  let edit = false;
  const words: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x === '-c') {
      const d = a[++i];
      if (!d || !d.startsWith('/')) return opaque(c, 'postconf -c without an absolute directory');
      dir = d.replace(/(.)\/+$/, '$1');
    } else if (/^-[ehxdnv]+$/.test(x)) {
      if (x.includes('e')) edit = true;
    } else if (x.startsWith('-')) return opaque(c, `postconf ${x} is not modelled`);
    else words.push(x);
  }
  if (!edit) return noop(`postconf ${a.join(' ')} (query)`);
  const settings: [string, string][] = [];
  for (const w of words) {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/s.exec(w);
    if (!m) return opaque(c, `postconf -e "${w}" is not KEY=VALUE`);
    settings.push([m[1]!, m[2]!]);
  }
  if (!settings.length) return opaque(c, 'postconf -e without KEY=VALUE');
  return acts([{ kind: 'postconf', dir, settings }]);
}

/**
 * newaliases (postalias of alias_database) writes /etc/aliases.db, a Berkeley
 * DB hash file whose bytes differ between two runs on the same input: not a
 * generator but first-boot state. postalias of another map stays opaque.
 */
function newaliases(c: Cmd, cx: Ctx): Result {
  if (REMOVAL.test(cx.phase)) return noop(`${base(c.name)} on package removal`);
  const name = base(c.name);
  if (name === 'postalias') {
    const a = exact(c);
    const maps = a?.filter((x) => !x.startsWith('-'));
    if (!a || a.some((x) => x.startsWith('-')) || maps!.length !== 1 || !/^(hash:)?\/etc\/aliases$/.test(maps![0]!)) return opaque(c, 'postalias of a map other than hash:/etc/aliases');
  }
  return acts([{ kind: 'firstboot', what: 'mail-aliases', tool: name, paths: ['/etc/aliases.db'] }]);
}

/** `usermod -g GROUP USER` only (postfix's postinst); other changes fall to the general table */
function usermod(c: Cmd, cx: Ctx): Result | null {
  const a = exact(c);
  if (!a || a.length !== 3 || (a[0] !== '-g' && a[0] !== '--gid') || a[1]!.startsWith('-') || a[2]!.startsWith('-')) return null;
  if (REMOVAL.test(cx.phase)) return noop('usermod on package removal');
  return acts([{ kind: 'usermod', name: a[2]!, group: a[1]! }]);
}

// ---------------------------------------------------------------- table

const TABLE: Record<string, Handler> = {
  setcap: (c) => setcap(c),
  getcap: () => noop('getcap (query)'),
  'dpkg-divert': (c, env, cx) => dpkgDivert(c, env, cx),
  depmod: (c) => depmod(c),
  'linux-update-symlinks': (c, _e, cx) => updateSymlinks(c, cx),
  'run-parts': (c, _e, cx) => runParts(c, cx),
  // linux-base's check before a running kernel's package goes away
  'linux-check-removal': () => noop('linux-check-removal (removal)'),
  'configure-symlinks': (c, _e, cx) => configureSymlinks(c, cx),
  mysql_install_db: (c, _e, cx) => installDb(c, cx),
  'mariadb-install-db': (c, _e, cx) => installDb(c, cx),
  bash: (c, env, cx) => viaShell(c, env, cx),
  sh: (c, env, cx) => viaShell(c, env, cx),
  // `mariadbd --bootstrap` in mariadb-server's postinst updates a data directory a MySQL install left: an image has none
  mariadbd: (c) => (c.args.includes('--bootstrap') ? noop('mariadbd --bootstrap (updates an existing data directory, which a fresh image does not have)') : null),
  mysqld: (c) => (c.args.includes('--bootstrap') ? noop('mysqld --bootstrap (updates an existing data directory, which a fresh image does not have)') : null),
  // AppArmor profiles are loaded into the running kernel: nothing of them is in the image's files
  apparmor_parser: () => noop('apparmor_parser (loads or removes a profile in the running kernel)'),
  'aa-status': () => noop('aa-status (queries the running kernel)'),
  'aa-enabled': () => noop('aa-enabled (queries the running kernel)'),
  // ext2 file attributes (postfix's +S on its queue): erofs, tar and OCI layers carry none
  chattr: () => noop('chattr (file attributes are not part of an image)'),
  lsattr: () => noop('lsattr (query)'),
  // queries of the running system: their answers are not part of an image
  ypwhich: () => noop('ypwhich (NIS query, runtime)'),
  ypcat: () => noop('ypcat (NIS query, runtime)'),
  pgrep: () => noop('pgrep (process query, runtime)'),
  pidof: () => noop('pidof (process query, runtime)'),
  df: () => noop('df (file system query)'),
  // suidmanager's /etc/suid.conf, which no package of a current release ships
  suidunregister: () => noop('suidunregister (suidmanager, obsolete)'),
  suidregister: () => noop('suidregister (suidmanager, obsolete)'),
  usermod: (c, _e, cx) => usermod(c, cx),
  postconf: (c) => postconf(c),
  newaliases: (c, _e, cx) => newaliases(c, cx),
  postalias: (c, _e, cx) => newaliases(c, cx),
  // postfix's postinst.functions (sourced, so its body is not walked) runs newaliases in this function
  runnewaliases: (c, _e, cx) => newaliases(c, cx),
  // update-inetd edits /etc/inetd.conf, which only an inetd package ships; disabling or removing an entry no package added is nothing
  'update-inetd': (c) => (c.args.some((x) => x === '--disable' || x === '--remove') ? noop(`update-inetd ${c.args.map((x) => x ?? '?').join(' ')} (no entry to change in a fresh image)`, true) : null),
};

/** the system tools' recognisers; null when the general table should answer */
export function classifySystem(c: Cmd, env: Env, cx: Ctx): Result | null {
  const h = TABLE[base(c.name)];
  return h ? h(c, env, cx) : null;
}
