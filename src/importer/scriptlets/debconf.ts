/**
 * The debconf answers of a fresh, noninteractive install (what mmdebstrap and
 * debootstrap run): nothing is preseeded and no one is asked, so `db_get Q`
 * gives Q's template default (debconf-devel(7): "Default"), unless the
 * package's config script, which runs before postinst, sets Q itself.
 */

/** Question → default from a package's `templates`, less what its `config` may db_set; undefined when that is unknowable. */
export function debconfDefaults(templates: string | undefined, config: string | undefined): Record<string, string> | undefined {
  if (!templates) return undefined;
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
  if (config) {
    // the config script's own db_set (or db_register of one question as another) changes the answer
    for (const m of config.matchAll(/\bdb_(set|register|reset)[ \t]+(\S+)/g)) {
      const q = m[2]!;
      if (/[$"'`\\]/.test(q)) return undefined;
      delete out[q];
      if (m[1] === 'register') {
        const to = config.slice(m.index! + m[0].length).trim().split(/\s+/)[0];
        if (to) delete out[to];
      }
    }
  }
  return out;
}
