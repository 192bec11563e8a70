/**
 * The debconf answers of a fresh, noninteractive install (what mmdebstrap and
 * debootstrap run): nothing is preseeded and no one is asked, so `db_get Q`
 * gives Q's template default (debconf-devel(7): "Default"), unless the
 * package's config script, which runs before postinst, sets Q itself.
 */
import type { Guard } from '../../model.js';

/** a `db_set` the config script may run, with the file tests it runs under */
export interface DebconfSet {
  /** null when the question is not known */
  question: string | null;
  when: Guard[];
}

/**
 * Question → default from a package's `templates`, less what its `config` may db_set on a
 * fresh install; undefined when that is unknowable. A db_set that runs only where a file
 * the package does not ship exists (`[ -f /etc/ssh/sshd_config ]` in openssh-server's
 * config: syncing debconf with an existing configuration) does not run on a fresh install.
 */
export function debconfDefaults(templates: string | undefined, sets: DebconfSet[] | null, shipped: (path: string) => boolean): Record<string, string> | undefined {
  if (!templates) return undefined;
  if (sets === null) return undefined;
  const out: Record<string, string> = {};
  for (const stanza of templates.split(/\n[ \t]*\n/)) {
    let name: string | null = null;
    let def = '';
    for (const line of stanza.split('\n')) {
      const m = /^(Template|Default):[ \t]*(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'Template') name = m[2]!.trim();
      else def = m[2]!.trim();
    }
    if (name) out[name] = def;
  }
  const needsMissingFile = (s: DebconfSet) => s.when.some((g) => !g.negate && g.test !== '-x' && !shipped(g.path));
  for (const s of sets) {
    if (needsMissingFile(s)) continue;
    if (s.question === null) return undefined;
    delete out[s.question];
  }
  return out;
}
