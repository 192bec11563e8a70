import type { Action } from '../../model.js';
import { opaque, type Cmd, type Result } from './commands.js';

type Apache = Extract<Action, { kind: 'apache' }>;
const WHAT: Record<string, Apache['what']> = { mod: 'module', conf: 'conf', site: 'site' };

/**
 * Debian apache2's a2enmod/a2dismod, a2enconf/a2disconf, a2ensite/a2dissite (one perl
 * script, by its call name): each NAME becomes an `apache` step the linker links as the
 * script does. -m (maintainer mode) says which state directory records it; -q only
 * quietens it; -f, -p and wildcards are left opaque.
 */
export function a2Command(c: Cmd): Result | null {
  const name = c.name.slice(c.name.lastIndexOf('/') + 1);
  const m = /^a2(en|dis)(mod|conf|site)$/.exec(name);
  if (!m) return null;
  if (c.args.some((a) => a === null)) return opaque(c, `cannot resolve the arguments of "${name}"`);
  let maint = false;
  const names: string[] = [];
  for (const a of c.args as string[]) {
    if (/^-[qm]+$/.test(a)) maint ||= a.includes('m');
    else if (a === '--quiet') continue;
    else if (a === '--maintmode') maint = true;
    else if (a.startsWith('-')) return opaque(c, `${name} option ${a} is not modelled`);
    else if (/[*?[]/.test(a)) return opaque(c, `${name} of a wildcard (${a})`);
    else names.push(a.replace(m[2] === 'mod' ? /\.load$/ : /\.conf$/, ''));
  }
  if (!names.length) return opaque(c, `${name} without a name asks on its terminal`);
  const op = m[1] === 'en' ? 'enable' : 'disable';
  return { actions: names.map((n): Action => ({ kind: 'apache', op, what: WHAT[m[2]!]!, name: n, maint })), status: null };
}
