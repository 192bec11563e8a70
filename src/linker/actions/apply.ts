import type { Action, Scriptlet } from '../../model.js';
import { WeldError } from '../../errors.js';
import type { LinkTree } from '../tree.js';
import type { Variant } from '../variant.js';
import { applyAccounts, type AccountStep, type Accounts } from './users.js';
import { applyAlternatives } from './alternatives.js';
import { applyServices, type ServiceResult } from './services.js';
import { usrPath } from '../usrmerge.js';
import { applyFileOps, guardsFrom, resolveLike, FILE_OP_KINDS, type FileOp, type FileOpsResult } from './files.js';
import { applyStatOverrides, type StatOverrideResult } from './statoverride.js';
import { modeOf } from '../tree.js';
import { applyFirstboot, type FirstbootResult } from './firstboot.js';

/** Scriptlet phases that run when a package is installed (deb, rpm, rpm triggers on install). */
export const INSTALL_PHASES = new Set(['preinst', 'postinst', 'pre', 'post', 'pretrans', 'posttrans', 'triggerprein', 'triggerin', 'filetriggerin', 'transfiletriggerin']);

export interface ActionSource {
  nevra: string;
  scriptlets: Scriptlet[];
  fileActions: { source: string; actions: Action[] }[];
}

export interface ActionsReport {
  users: string[];
  groups: string[];
  allocated: Accounts['allocated'];
  alternatives: { name: string; path: string; priority: number }[];
  services: ServiceResult;
  /** a2enmod, a2enconf, a2ensite: links in /etc/apache2 and their state markers */
  apache?: import('./apache.js').ApacheResult;
  /** update-rc.d's /etc/rcN.d links */
  sysvinit?: import('./sysvinit.js').RcLinksResult;
  directories: number;
  /** scriptlets' ln -s, cp, `: > f`, `cat > f <<EOF`, mv, rmdir */
  files: FileOpsResult;
  /** owners and modes from dpkg-statoverride, chown, chgrp and chmod of paths the scripts did not make */
  statoverrides: StatOverrideResult;
  shells: string[];
  ldconfig: { entries: number } | null;
  caCertificates?: { certificates: number; hashLinks: number } | null;
  updateShells?: { shells: number } | null;
  pamAuthUpdate?: { profiles: string[] } | null;
  timezone?: string;
  /** systemd-tmpfiles --create run by postinsts, applied at link time */
  tmpfiles?: import('./tmpfiles.js').TmpfilesResult;
  /** host keys, snakeoil certificates, machine ids: made at first boot, never in the image */
  firstboot?: FirstbootResult;
  /** setcap, dpkg-divert and postconf -e (./system.ts) */
  system?: import('./system.js').SystemResult;
  /** caches the image's own tools made, in a sandboxed view (src/linker/generators) */
  generators?: import('../generators/generate.js').GeneratorResult[];
  /** recognised actions weld does not apply at link time (caches regenerated at boot, runtime-only steps) */
  deferred: { package: string; kind: string; detail: string }[];
  opaque: { package: string; phase: string; reason: string }[];
}

/**
 * Applies every package's declarative actions in a fixed order: users and
 * groups, directories, the scripts' file operations, statoverrides, alternatives, services, shells, ld.so.cache, machine
 * identity and the variant's own files. Merged /usr happened before this.
 */
export async function applyActions(
  tree: LinkTree,
  sources: ActionSource[],
  variant: Variant,
  pinned: { users: Record<string, number>; groups: Record<string, number> },
  read: import('./ldconfig.js').FileReader,
  epoch: number,
): Promise<{ report: ActionsReport; accounts: Accounts }> {
  const text = (p: string) => {
    const b = read(p);
    return b ? Buffer.from(b).toString('utf8') : undefined;
  };
  const resolve = (p: string) => (variant.mergedUsr ? usrPath(p) : p);
  const all: { pkg: string; phase: string; a: Action }[] = [];
  for (const s of sources) {
    // a link is an install: removal-time scriptlets (prerm, postun…) never run
    for (const sc of s.scriptlets) if (INSTALL_PHASES.has(sc.phase)) for (const a of sc.actions) all.push({ pkg: s.nevra, phase: sc.phase, a });
    for (const fa of s.fileActions) for (const a of fa.actions) all.push({ pkg: s.nevra, phase: `file:${fa.source}`, a });
  }
  const of = <K extends Action['kind']>(k: K) => all.filter((x) => x.a.kind === k) as { pkg: string; phase: string; a: Extract<Action, { kind: K }> }[];
  const report: ActionsReport = {
    users: [], groups: [], allocated: { users: {}, groups: {} }, alternatives: [],
    services: { enabled: [], missing: [], disabled: [] }, directories: 0, files: { applied: 0, notTaken: 0, unchanged: [], skipped: [] }, statoverrides: { applied: 0, notTaken: 0, absent: [], skipped: [] }, shells: [], ldconfig: null, deferred: [], opaque: [],
  };

  // 1. users and groups
  const accounts = applyAccounts(tree, text, all.filter((x): x is AccountStep => x.a.kind === 'user' || x.a.kind === 'group'), variant, pinned, epoch);
  report.allocated = accounts.allocated;
  report.users = accounts.passwd.map((p) => p[0]!);
  report.groups = accounts.group.map((g) => g[0]!);

  // scripts' file tests (`[ ! -d /var/mail ]`) are answered from the tree as the packages ship it
  // (the snapshot of the shipped tree is taken only when some action is guarded)
  const taken = all.some((x) => 'when' in x.a && x.a.when) ? guardsFrom(tree) : () => true;
  // `chmod $(stat -L -c %a /usr/local) P`: from the tree as shipped
  const overrides = of('statoverride').flatMap((x) => {
    const a = taken(x.a.when) ? resolveLike(tree, x.a, resolve) : x.a;
    if (a) return [{ ...x, a }];
    report.deferred.push({ package: x.pkg, kind: 'statoverride', detail: `${x.a.path}: ${Object.values(x.a.like!).join(', ')} is missing, so stat fails` });
    return [];
  });
  // 2. directories (scriptlet mkdir/install -d, tmpfiles d lines)
  const madeBy = new Map<string, string>();
  for (const { pkg, phase, a: given } of of('directory')) {
    if (!taken(given.when)) continue;
    // `mkdir -m $(stat -L -c %a /usr/local)`: from the tree as shipped
    const a = resolveLike(tree, given, resolve);
    if (!a) {
      report.deferred.push({ package: pkg, kind: 'directory', detail: `${given.path}: ${Object.values(given.like!).join(', ')} is missing, so stat fails` });
      continue;
    }
    const p = resolve(a.path);
    const owner = (o: string | undefined) => (o ?? 'root').replace(/^:/, '') || 'root';
    const cur = tree.get(p);
    if (cur) {
      // the chown/chmod after a script's own mkdir: the directory it made takes them
      if (cur.type === 'dir' && madeBy.get(p) === `${pkg}\0${phase}` && !phase.startsWith('file:')) {
        if (a.mode !== undefined) cur.mode = modeOf('dir', a.mode);
        if (a.user !== undefined) cur.user = owner(a.user);
        if (a.group !== undefined) cur.group = owner(a.group);
      }
      continue;
    }
    try {
      // tmpfiles.d's ':' prefix ("only when creating") is all the same in a fresh image
      tree.mkdir(p, 'action:directory', a.mode ?? 0o755, owner(a.user), owner(a.group));
      madeBy.set(p, `${pkg}\0${phase}`);
      report.directories++;
    } catch (e) {
      // e.g. under a symlinked /var/run: the directory belongs to boot time, not the image
      if (!(e instanceof WeldError)) throw e;
      report.deferred.push({ package: pkg, kind: 'directory', detail: e.message });
    }
  }
  // 2b. files the scripts make: ln -s, cp, `: > f` with chown/chmod, rmdir, rm -f
  const fileOps = all.filter((x): x is { pkg: string; phase: string; a: FileOp } => (FILE_OP_KINDS as readonly string[]).includes(x.a.kind));
  const isId = (s: string) => /^\d+$/.test(s);
  // an opaque step in a branch the shipped tree does not take (`[ -f /etc/x.conf ]` on a fresh image) does not run
  const partial = new Set(all.filter((x) => x.a.kind === 'opaque' && taken(x.a.when)).map((x) => `${x.pkg}\0${x.phase}`));
  report.files = applyFileOps(
    tree,
    fileOps,
    resolve,
    { user: (n) => isId(n) || accounts.uidOf.has(n), group: (n) => isId(n) || accounts.gidOf.has(n) },
    partial,
    taken,
    read,
  );
  // 2c. owners and modes the scripts give what the packages ship (dpkg-statoverride, chown, chmod), once the accounts and files exist
  report.statoverrides = applyStatOverrides(tree, overrides, resolve, { user: (n) => isId(n) || accounts.uidOf.has(n), group: (n) => isId(n) || accounts.gidOf.has(n) }, taken);
  // 2d. systemd-tmpfiles --create of the configs a postinst names (dh_installtmpfiles), now that accounts and files exist
  const made = of('tmpfiles').filter((x) => !x.phase.startsWith('file:'));
  if (made.length) {
    const { applyTmpfiles } = await import('./tmpfiles.js');
    report.tmpfiles = applyTmpfiles(tree, made.map((x) => ({ pkg: x.pkg, names: x.a.configs })), text, { user: (n) => isId(n) || accounts.uidOf.has(n), group: (n) => isId(n) || accounts.gidOf.has(n) });
    for (const d of report.tmpfiles.deferred) report.deferred.push({ package: 'systemd-tmpfiles', kind: 'tmpfiles', detail: `${d.config}: ${d.line} (${d.reason})` });
  }
  // 2e. Apache's a2enmod/a2enconf/a2ensite: each step names what it links, so a partly understood script's steps apply too
  const a2 = of('apache');
  if (a2.length) report.apache = (await import('./apache.js')).applyApache(tree, a2.map((x) => x.a), text);
  // 2f. file capabilities (setcap), diversions (dpkg-divert), postfix's postconf -e
  const { applyCaps, applyDiversions, applyPostconf, applyUsermod } = await import('./system.js');
  report.system = { caps: [], diversions: [], renamed: [], postconf: [], usermod: [], skipped: [] };
  applyUsermod(tree, of('usermod'), accounts, report.system);
  applyDiversions(tree, of('divert'), resolve, report.system, taken);
  applyCaps(tree, of('caps'), resolve, report.system);
  applyPostconf(tree, of('postconf'), resolve, text, report.system, partial);
  // 3. alternatives
  report.alternatives = applyAlternatives(tree, of('alternative').map((x) => x.a), resolve);
  // 4. services
  report.services = applyServices(tree, of('service').map((x) => x.a), text);
  // 4a. the variant's own [services], after the packages'
  if (variant.services.enable.length || variant.services.disable.length) {
    const { applyVariantServices } = await import('./services.js');
    applyVariantServices(tree, variant.services, text, variant.name, report.services);
  }
  // 4b. sysvinit's rc links, as update-rc.d makes them
  const rc = of('rclinks');
  if (rc.length) report.sysvinit = (await import('./sysvinit.js')).applyRcLinks(tree, rc.map((x) => x.a), text);
  // 5. shells
  const shells = of('shell').filter((x) => x.a.op === 'add').map((x) => x.a.path);
  if (shells.length) {
    const cur = (text('/etc/shells') ?? '# /etc/shells: valid login shells\n').split('\n').filter(Boolean);
    for (const s of shells) if (!cur.includes(s)) cur.push(s);
    tree.writeFile('/etc/shells', cur.join('\n') + '\n', 'action:shells');
    report.shells = shells;
  }
  // 6. ld.so.cache: glibc's own format, as ldconfig -X writes it
  const { writeLdCacheAsync } = await import('./ldconfig.js');
  report.ldconfig = await writeLdCacheAsync(tree, read);
  // 6b. the CA bundle, when a package asks update-ca-certificates for it
  if (all.some((x) => x.a.kind === 'cache' && x.a.tool === 'update-ca-certificates')) {
    const { applyCaCertificates } = await import('./cacerts.js');
    report.caCertificates = applyCaCertificates(tree, read);
  }
  // 6c. /etc/shells, when debianutils' postinst asks update-shells for it
  if (all.some((x) => x.a.kind === 'cache' && x.a.tool === 'update-shells')) {
    const { applyUpdateShells } = await import('./shells.js');
    report.updateShells = applyUpdateShells(tree, text);
  }
  // 6d. /etc/pam.d/common-*, when libpam-runtime's postinst asks pam-auth-update for them
  if (all.some((x) => x.a.kind === 'cache' && x.a.tool === 'pam-auth-update')) {
    const { applyPamAuthUpdate } = await import('./pam.js');
    report.pamAuthUpdate = applyPamAuthUpdate(tree, text);
  }
  // 6e. machine state (host keys, snakeoil pair, machine ids): units that make it at first boot
  const fb = of('firstboot');
  if (fb.length) {
    report.firstboot = applyFirstboot(tree, fb.map((x) => ({ pkg: x.pkg, a: x.a })), variant, resolve);
    for (const d of report.firstboot.deferred) report.deferred.push({ package: d.package, kind: 'firstboot', detail: `${d.what}: ${d.detail}` });
  }
  // 7. machine identity: machine-id, the time zone (tzdata asks debconf, whose default is Etc/UTC), os-release
  tree.writeFile('/etc/machine-id', '', 'action:machine-id', 0o444);
  const tz = variant.timezone ?? 'Etc/UTC';
  if (tree.get(`/usr/share/zoneinfo/${tz}`)) {
    if (!tree.get('/etc/localtime')) tree.symlink('/etc/localtime', `/usr/share/zoneinfo/${tz}`, 'action:timezone');
    if (!tree.get('/etc/timezone')) tree.writeFile('/etc/timezone', tz + '\n', 'action:timezone');
    report.timezone = tz;
  } else if (variant.timezone) {
    throw new WeldError('notfound', 'E_TIMEZONE', `Variant ${variant.name} sets timezone ${tz}, but the image has no /usr/share/zoneinfo/${tz} (is tzdata among its packages?)`, { timezone: tz });
  }
  if (Object.keys(variant.osRelease).length) {
    const body = Object.entries(variant.osRelease)
      .map(([k, v]) => `${k}=${/^[A-Za-z0-9_.-]+$/.test(v) ? v : JSON.stringify(v)}`)
      .join('\n');
    if (tree.get('/etc/os-release')) tree.delete('/etc/os-release');
    tree.writeFile('/etc/os-release', body + '\n', 'variant');
  }
  // 8. the variant's files
  for (const [p, f] of Object.entries(variant.files).sort(([a], [b]) => (a < b ? -1 : 1))) {
    tree.writeFile(resolve(p), f.content, 'variant', f.mode, f.user, f.group);
  }
  for (const [p, target] of Object.entries(variant.symlinks).sort(([a], [b]) => (a < b ? -1 : 1))) tree.symlink(resolve(p), target, 'variant');
  for (const x of all) {
    const k = x.a.kind;
    if ((k === 'cache' && !(x.a.tool === 'update-ca-certificates' && report.caCertificates) && !(x.a.tool === 'update-shells' && report.updateShells) && !(x.a.tool === 'pam-auth-update' && report.pamAuthUpdate)) || (k === 'tmpfiles' && x.phase.startsWith('file:')) || (k === 'service' && !['enable', 'preset', 'mask', 'disable'].includes(x.a.op))) {
      report.deferred.push({ package: x.pkg, kind: k, detail: JSON.stringify(x.a) });
    }
    if (k === 'opaque') report.opaque.push({ package: x.pkg, phase: x.phase, reason: x.a.reason });
  }
  if (variant.strict && (report.opaque.length || report.files.skipped.length || report.statoverrides.skipped.length || report.system.skipped.length)) {
    const why = [
      ...report.opaque.map((o) => `${o.package} ${o.phase} (${o.reason})`),
      ...report.files.skipped.map((f) => `${f.package} ${f.phase} ${f.kind} ${f.path} (${f.reason})`),
      ...report.statoverrides.skipped.map((f) => `${f.package} ${f.phase} statoverride ${f.path} (${f.reason})`),
      ...report.system.skipped.map((f) => `${f.package} ${f.phase} ${f.kind} ${f.path} (${f.reason})`),
    ];
    throw new WeldError(
      'conflict',
      'E_OPAQUE',
      `Variant ${variant.name} is strict, and ${why.length} scriptlet steps could not be understood or applied: ` + why.slice(0, 5).join('; ') + (why.length > 5 ? '; …' : ''),
      { opaque: report.opaque, skipped: report.files.skipped, statoverrides: report.statoverrides.skipped },
    );
  }
  return { report, accounts };
}
