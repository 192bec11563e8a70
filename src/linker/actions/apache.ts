import type { Action } from '../../model.js';
import { realpath, type LinkTree } from '../tree.js';

type Apache = Extract<Action, { kind: 'apache' }>;

export interface ApacheResult {
  /** `module mpm_event`, `site 000-default`… in the order they were linked (dependencies first) */
  enabled: string[];
  disabled: string[];
  /** steps the real script refuses (a missing name, a conflict, an unmet dependency…), with its reason */
  skipped: { step: string; reason: string }[];
}

// Debian's apache2 layout (/etc/apache2/envvars sets none of the APACHE_*_ENABLED overrides)
const CONFDIR = '/etc/apache2';
const STATEDIR = '/var/lib/apache2';
const DIRS = { module: ['mods', '.load'], conf: ['conf', '.conf'], site: ['sites', '.conf'] } as const;
/** a2dismod asks on its terminal before disabling one of these, and a script has no answer */
const ESSENTIAL = new Set(['alias', 'auth_basic', 'authn_file', 'authz_host', 'authz_user', 'autoindex', 'deflate', 'dir', 'env', 'filter', 'logio', 'mime', 'negotiation', 'setenvif', 'unixd', 'version', 'watchdog']);

/** a2enmod's get_deps: the first `# Depends:` (or `# Conflicts:`) line among the leading comments */
export function a2Deps(text: string, type = 'Depends'): string[] {
  for (const line of text.split('\n')) {
    const m = new RegExp(`^# ${type}:\\s+(.*?)\\s*$`).exec(line);
    if (m) return m[1]!.split(/\s+/).filter(Boolean);
    if (!/^\s*(?:#.*)?$/.test(line)) break;
  }
  return [];
}

/**
 * a2enmod and its siblings (apache2 2.4.x's a2enmod perl script) at link time: relative links
 * NAME.load/.conf in /etc/apache2/{mods,conf,sites}-enabled to ../*-available, a module's
 * `# Depends:` enabled first and its `# Conflicts:` refused, a conf's or site's Depends
 * required enabled; and the marker a2enmod keeps, /var/lib/apache2/{module,conf,site}/
 * {enabled,disabled}_by_{maint,admin}/NAME (maint with -m), replacing any other marker of NAME.
 */
export function applyApache(tree: LinkTree, steps: Apache[], read: (p: string) => string | undefined): ApacheResult {
  const res: ApacheResult = { enabled: [], disabled: [], skipped: [] };
  const exists = (p: string) => {
    const r = realpath((x) => tree.get(x), p);
    return r !== null && tree.get(r) !== undefined ? r : null;
  };
  const isLink = (p: string) => tree.get(p)?.type === 'symlink';

  for (const s of steps) {
    const step = `a2${s.op === 'enable' ? 'en' : 'dis'}${s.what === 'module' ? 'mod' : s.what} ${s.name}`;
    const [dir, sffx] = DIRS[s.what];
    const avail = `${CONFDIR}/${dir}-available`;
    const enabled = `${CONFDIR}/${dir}-enabled`;
    let why = '';
    const fail = (reason: string) => ((why ||= reason), false);

    const marker = (name: string) => {
      const state = `${STATEDIR}/${s.what}`;
      const mdir = `${state}/${s.op}d_by_${s.maint ? 'maint' : 'admin'}`;
      tree.mkdir(state, 'action:apache');
      tree.mkdir(mdir, 'action:apache');
      for (const [p, n] of [...tree.nodes]) if (p.startsWith(state + '/') && n.type === 'file' && p.endsWith('/' + name)) tree.delete(p);
      tree.writeFile(`${mdir}/${name}`, '', 'action:apache');
      return true;
    };
    const addLink = (tgt: string, link: string) => {
      if (tree.get(link.slice(0, link.lastIndexOf('/')))?.type !== 'dir') return fail(`no directory ${link.slice(0, link.lastIndexOf('/'))}`);
      tree.symlink(link, `../${dir}-available/${tgt.slice(tgt.lastIndexOf('/') + 1)}`, 'action:apache');
      return true;
    };
    /** a2enmod's check_link: 'ok', 'missing' (a dangling link is removed), or why it is left alone */
    const check = (tgt: string, link: string): string => {
      if (!exists(link)) {
        if (isLink(link)) tree.delete(link);
        return 'missing';
      }
      if (!isLink(link)) return `${link} is a real file, not touching it`;
      return exists(link) === exists(tgt) ? 'ok' : `${link} exists but does not point to ${tgt}, not touching it`;
    };
    const threaded = () => ['mpm_worker', 'mpm_event'].some((m) => exists(`${CONFDIR}/mods-enabled/${m}.load`)) && !exists(`${CONFDIR}/mods-enabled/mpm_prefork.load`);

    const doit = (name: string, depth: number): boolean => {
      if (depth > 32) return fail(`dependency loop at ${name}`);
      if (s.what === 'module' && s.op === 'enable' && name === 'cgi' && threaded()) name = 'cgid';
      const conftgt = `${avail}/${name}.conf`;
      const conflink = s.what === 'module' && exists(conftgt) ? `${CONFDIR}/${dir}-enabled/${name}.conf` : null;
      const tgt = `${avail}/${name}${sffx}`;
      const link = `${enabled}/${name}${sffx}`;
      if (!exists(tgt)) {
        if (isLink(link) && s.op === 'disable') {
          tree.delete(link);
          if (isLink(`${enabled}/${name}.conf`) && !exists(`${enabled}/${name}.conf`)) tree.delete(`${enabled}/${name}.conf`);
          return true;
        }
        return fail(isLink(link) ? `${link} is a dangling symlink` : `${s.what} ${name} does not exist`);
      }
      if (s.what === 'module' && s.op === 'enable') {
        const text = read(exists(tgt)!) ?? '';
        for (const d of a2Deps(text)) if (!doit(d, depth + 1)) return fail(`could not enable dependency ${d} for ${name}`);
        const clash = a2Deps(text, 'Conflicts').filter((c) => check(`${avail}/${c}${sffx}`, `${enabled}/${c}${sffx}`) === 'ok');
        if (clash.length) return fail(`module ${clash.join(', ')} is enabled, which ${name} conflicts with`);
      } else if (s.what === 'module') {
        const depending = [...tree.nodes.keys()]
          .filter((p) => p.startsWith(`${enabled}/`) && p.endsWith('.load') && !p.slice(enabled.length + 1).includes('/'))
          .filter((p) => exists(p) && a2Deps(read(exists(p)!) ?? '').includes(name))
          .map((p) => p.slice(enabled.length + 1, -5));
        if (depending.length) return fail(`the following modules depend on ${name} and need to be disabled first: ${depending.join(' ')}`);
      } else if (s.op === 'enable') {
        for (const d of a2Deps(read(exists(tgt)!) ?? '')) if (!exists(`${CONFDIR}/mods-enabled/${d}.load`)) return fail(`module ${d} is not enabled, but ${name} depends on it`);
      }
      if (s.op === 'enable') {
        const c = check(tgt, link);
        const conf = conflink ? check(conftgt, conflink) : 'ok';
        if (c !== 'ok' && c !== 'missing') return fail(c);
        if (conf !== 'ok' && conf !== 'missing') return fail(`config file ${name}.conf not properly enabled: ${conf}`);
        if (conf === 'missing' && !addLink(conftgt, conflink!)) return false;
        // already enabled: no new marker
        if (c === 'ok') return true;
        if (s.what === 'module' && name === 'cache_disk') res.skipped.push({ step, reason: 'a2enmod cache_disk also enables apache-htcacheclean, which weld does not model' });
        if (!addLink(tgt, link)) return false;
        res.enabled.push(`${s.what} ${name}`);
        return marker(name);
      }
      if (exists(link) || isLink(link)) {
        if (s.what === 'module' && ESSENTIAL.has(name)) return fail(`${name} is an essential module: a2dismod asks on its terminal before disabling it`);
        if (!isLink(link)) return fail(`${link} is not a symbolic link, not deleting`);
        tree.delete(link);
        if (conflink && exists(conflink) && isLink(conflink)) tree.delete(conflink);
        res.disabled.push(`${s.what} ${name}`);
        return marker(name);
      }
      if (conflink && exists(conflink) && isLink(conflink)) tree.delete(conflink);
      return true;
    };
    if (!doit(s.name, 0)) res.skipped.push({ step, reason: why });
  }
  return res;
}
