/**
 * Steps of bookworm's base packages that the general table (commands.ts) leaves
 * opaque, typed as what each does on a fresh install: most are not reached
 * there, or change nothing an image holds. Each recogniser matches one
 * package's step closely (its command, its arguments as the script spells them)
 * and answers null for anything else, so classifyCommand falls back to the
 * general table. classifyCommand asks this table first.
 */
import type { Action, Guard } from '../../model.js';
import type { Ctx, Env, Tri } from './values.js';
import type { Cmd, Result } from './commands.js';

type Handler = (c: Cmd, env: Env, cx: Ctx) => Result | null;

const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const noop = (what: string, status: Tri = null): Result => ({ actions: [{ kind: 'noop', what }], status });
const acts = (actions: Action[], status: Tri = null): Result => ({ actions, status });
const exact = (c: Cmd): string[] | null => (c.args.every((a) => a !== null) ? (c.args as string[]) : null);
const v = (env: Env, name: string): string | null => {
  const x = env.vars.get(name);
  return x && x.length === 1 ? x[0]! : null;
};
const sameGuard = (a: Guard, b: Guard) => a.test === b.test && a.path === b.path && a.negate === b.negate;

/**
 * runit-helper's postinst (dh_runit: `NAME='x' ENABLE='yes' … /lib/runit-helper/runit-helper postinst "$@"`):
 * on a fresh install it enables the service as `ln -sf /etc/sv/NAME /etc/runit/runsvdir/default/NAME`
 * unless the administrator's `.NAME` link or a NAME link is there (runit-helper 2.15.2). Its other steps
 * do nothing there: /run/runit/supervise is runtime state, the loguser transition and the supervise
 * moves need files of an older install, and sv/kill only run under runit as init. runit's own
 * /lib/runit/make_svlinks (where runit is installed) is not modelled.
 */
function runitHelper(c: Cmd): Result | null {
  if (c.name !== '/lib/runit-helper/runit-helper' && c.name !== '/usr/lib/runit-helper/runit-helper') return null;
  if (c.args[0] !== 'postinst') return null;
  // the variables dh_runit sets on the command line, as single-quoted literals
  const pre = c.text.slice(0, c.text.indexOf(c.name));
  const vars = new Map<string, string>();
  const rest = pre.replace(/([A-Z_]+)='([^']*)'\s+/g, (_m, k: string, x: string) => (vars.set(k, x), ''));
  const name = vars.get('NAME');
  if (rest.trim() !== '' || !name || !/^[A-Za-z0-9_.@-]+$/.test(name)) return null;
  if (vars.get('ENABLE') !== 'yes') return noop(`runit-helper postinst ${name}: ENABLE=${vars.get('ENABLE') ?? ''} (not enabled)`);
  const dir = '/etc/runit/runsvdir/default';
  const when: Guard[] = [
    { test: '-L', path: `${dir}/.${name}`, negate: true },
    { test: '-L', path: `${dir}/${name}`, negate: true },
  ];
  return acts([{ kind: 'symlink', path: `${dir}/${name}`, target: `/etc/sv/${name}`, force: true, when }]);
}

/**
 * dash's replace_with_link: `cp -dp "$dfile" "$distrib"` under `[ -e "$dfile" ]`, run right after
 * claim_binsh's `rm -f "$truename"`, which on a fresh install (no diversion yet: truename is dfile)
 * removed that very path. So the branch is not taken: no sh.distrib copy (the installer has none).
 */
function copyOfRemoved(c: Cmd, env: Env, cx: Ctx): Result | null {
  if (base(c.name) !== 'cp') return null;
  const a = exact(c);
  if (!a || a.length !== 3 || a[0] !== '-dp') return null;
  const src = a[1]!;
  const guard = env.guards.find((g) => g.path === src && g.test === '-e' && !g.negate);
  if (!guard) return null;
  // the last action on SRC in this script removed it, under no guard this step is not under
  let last: Action | undefined;
  for (const x of cx.out) if ('path' in x && x.path === src) last = x;
  if (last?.kind !== 'remove') return null;
  if (!(last.when ?? []).every((g) => env.guards.some((h) => sameGuard(g, h)))) return null;
  return noop(`cp -dp ${src}: not reached, rm -f removed ${src} just before (its [ -e ] test is false)`);
}

/** touch -h with a reference or a date: only the timestamps of a path (an image's are the link's), never a new file */
function touchTimes(c: Cmd): Result | null {
  if (base(c.name) !== 'touch') return null;
  const a = c.args;
  const h = a.some((x) => x === '-h' || x === '--no-dereference');
  // the reference itself may be unknown (dash's "$(dpkg-realpath …)"): only its option matters
  const ref = /(^|\s)(--reference=|--date=|-r\s|-d\s)/.test(c.text);
  if (a.at(-1) === null) return null;
  if (!h || !ref) return null;
  // coreutils' touch never creates a file with -h
  return noop('touch -h --reference: timestamps only (no file is made; weld sets an image\'s times itself)', true);
}

/**
 * dpkg's fixup_misplaced_alternatives: `mv "$file" "alternatives/$file"` for files in /var/lib/dpkg
 * whose first line is auto or manual, which only dpkg 1.21.0's update-alternatives left there.
 */
function dpkgAlternativesFixup(c: Cmd): Result | null {
  if (base(c.name) !== 'mv' || c.text !== 'mv "$file" "alternatives/$file"') return null;
  return noop("dpkg's misplaced alternatives fixup: not reached on a fresh install (no state file of dpkg 1.21.0's update-alternatives in /var/lib/dpkg)");
}

/** libc6's preinst asks whether perl runs (`perl -e ""`), to use debconf: an empty program changes nothing */
function perlProbe(c: Cmd): Result | null {
  if (base(c.name) !== 'perl') return null;
  const a = exact(c);
  if (!a || a.length !== 2 || a[0] !== '-e' || a[1] !== '') return null;
  return noop('perl -e "" (does perl run?)');
}

/**
 * cron-daemon-common's postinst: `chown "$tab_owner:crontab" "$tab_name"` and `chmod 600 "$tab_name"`
 * for each crontab in /var/spool/cron/crontabs. Users' crontabs are never packaged, so on a fresh
 * install the loop's only word is the unmatched pattern, which the script skips (`[ "$tab_name" = "*" ] && continue`).
 */
function crontabsLoop(c: Cmd, env: Env): Result | null {
  const n = base(c.name);
  if (n !== 'chown' && n !== 'chmod') return null;
  if (c.text !== 'chown "$tab_owner:crontab" "$tab_name"' && c.text !== 'chmod 600 "$tab_name"') return null;
  const tab = v(env, 'tab_name');
  const cwd = v(env, 'PWD');
  const inSpool = (p: string | null) => p !== null && (p === '*' || p === '/var/spool/cron/crontabs/*');
  if (!inSpool(tab) && !(c.args.at(-1) === '*' && cwd === '/var/spool/cron/crontabs') && !inSpool(c.args.at(-1) ?? null)) return null;
  return noop(`${n} of the users' crontabs: not reached on a fresh install (no crontab in /var/spool/cron/crontabs; the loop skips its unmatched "*")`);
}

/**
 * tzdata's postinst links /etc/localtime to the zone debconf answers (Etc/UTC when installed
 * noninteractively) through /etc/localtime.dpkg-new: the linker's timezone step makes that link
 * (the variant's `timezone`, default tzdata's Etc/UTC).
 */
function tzdataLocaltime(c: Cmd, _env: Env, cx: Ctx): Result | null {
  const n = base(c.name);
  const a = c.args;
  if (n === 'ln' && a.length === 3 && a[0] === '-nsf' && a[2] === '/etc/localtime.dpkg-new' && c.text.startsWith('ln -nsf "/usr/share/zoneinfo/$TIMEZONE"'))
    return noop("tzdata's /etc/localtime: made by the linker's timezone step (the variant's timezone, default Etc/UTC as tzdata's debconf answers)", true);
  // a link the script made with a known zone is renamed as commands.ts says
  if (cx.out.some((x) => x.kind === 'symlink' && x.path === '/etc/localtime.dpkg-new')) return null;
  if (n === 'mv' && a.length === 3 && a[0] === '-f' && a[1] === '/etc/localtime.dpkg-new' && a[2] === '/etc/localtime')
    return noop("tzdata's /etc/localtime: made by the linker's timezone step (the variant's timezone, default Etc/UTC as tzdata's debconf answers)", true);
  return null;
}

/**
 * ucf's preinst (install) rotates its state, `cp -f /var/lib/ucf/hashfile.$i …hashfile.$((i+1))` when
 * hashfile.$i exists: before ucf is first unpacked, /var/lib/ucf holds none.
 */
function ucfRotate(c: Cmd, env: Env, cx: Ctx): Result | null {
  if (base(c.name) !== 'cp' || cx.phase !== 'preinst') return null;
  if (v(env, 'statedir') !== '/var/lib/ucf' || !c.text.startsWith('cp -f "${statedir}/hashfile.${i}"')) return null;
  return noop("ucf's rotation of its hashfiles: not reached on a fresh install (no /var/lib/ucf/hashfile.N before ucf is unpacked)");
}

/**
 * usr-is-merged's cleanup of unused biarch directories: `rmdir --ignore-fail-on-non-empty /usr/libNN`
 * removes the directory only when empty and never fails: an rmdir action (the linker leaves a
 * non-empty one, as /usr/lib64 with ld.so, and skips one that is not there).
 */
function rmdirIgnoreNonEmpty(c: Cmd, env: Env, cx: Ctx): Result | null {
  if (base(c.name) !== 'rmdir') return null;
  const a = exact(c);
  if (!a) return null;
  const flags = a.filter((x) => x.startsWith('-'));
  const paths = a.filter((x) => !x.startsWith('-'));
  if (!flags.includes('--ignore-fail-on-non-empty') || !flags.every((f) => f === '--ignore-fail-on-non-empty' || f === '-v' || f === '--verbose')) return null;
  if (paths.length !== 1 || !/^\/usr\/lib(64|32|o32|x32)$/.test(paths[0]!)) return null;
  if (cx.phase !== 'postinst') return null;
  void env;
  return acts([{ kind: 'rmdir', path: paths[0]! }], true);
}

/** phases that run only when a package goes away (as commands.ts REMOVAL) */
const REMOVAL = /^(prerm|postrm|preun|postun|preuntrans|postuntrans|triggerun|triggerpostun)$/;

/** the kernel's postrm `eval rm -f /lib/modules/$version/$extra_file` (on purge): never on an install */
function evalOnRemoval(c: Cmd, _env: Env, cx: Ctx): Result | null {
  if (base(c.name) !== 'eval' || !REMOVAL.test(cx.phase)) return null;
  return noop('eval on package removal');
}

const HANDLERS: Handler[] = [evalOnRemoval, runitHelper, copyOfRemoved, touchTimes, dpkgAlternativesFixup, perlProbe, crontabsLoop, tzdataLocaltime, ucfRotate, rmdirIgnoreNonEmpty];

/** the first recogniser that knows the step, or null */
export function classifyLeftover(c: Cmd, env: Env, cx: Ctx): Result | null {
  for (const h of HANDLERS) {
    const r = h(c, env, cx);
    if (r) return r;
  }
  return null;
}
