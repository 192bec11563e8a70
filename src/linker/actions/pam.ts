import type { LinkTree } from '../tree.js';

const PROFILES = '/usr/share/pam-configs/';
const TEMPLATES = '/usr/share/pam/';
const TYPES = ['auth', 'account', 'password', 'session', 'session-noninteractive'] as const;
const PRIMARY = /^# here are the per-package modules \(the "Primary" block\)/;
const FALLBACK = /^# here's the fallback if no module succeeds/;
const ADDITIONAL = /^# and here are more per-package modules \(the "Additional" block\)/;
const END = /^# end of pam-auth-update config/;

type Profile = Record<string, string> & { conflicts?: Set<string> };

/** parse_pam_profile(): "Field: value" lines, indented continuation lines joined with newlines. */
function parseProfile(text: string): Profile | null {
  const p: Profile = {};
  let field = '';
  for (const raw of text.split('\n')) {
    // Perl's /^(\S+):\s+(.*)\s*$/ on the line with its newline: the value keeps trailing blanks
    const m = /^(\S+):\s+(.*)\s*$/.exec(raw + '\n');
    if (m) {
      field = m[1]!.replace(/-Final$/, '');
      if (field === 'Conflicts') p.conflicts = new Set(m[2]!.split(', '));
      else p[field] = m[2]!;
      continue;
    }
    const line = raw.trim();
    if (line) p[field] = `${p[field] ?? ''}\n${line}`;
    p[field] = (p[field] ?? '').replace(/^[\n\s]+/, '');
    // pam_tally is gone from PAM: profiles naming it are dropped
    if (field && /pam_tally/.test(p[field] ?? '')) return null;
  }
  if (p['Session-Interactive-Only'] === undefined) {
    if (p['Session-Type'] !== undefined) p['Session-noninteractive-Type'] = p['Session-Type'];
    if (p['Session'] !== undefined) p['Session-noninteractive'] = p['Session'];
    if (p['Session-Initial'] !== undefined) p['Session-noninteractive-Initial'] = p['Session-Initial'];
  }
  return p;
}

/** merge_one_line() without local edits: `end` in the control becomes the jump count. */
function mergeLine(line: string, count: number): string {
  const m = /^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*)/.exec(line);
  if (!m) return line + '\n';
  // Perl's split drops trailing empty fields; an empty option list still leaves the space (`pam_unix.so `)
  const opts = m[3]!.split(/\s+/).filter(Boolean);
  return `${m[1]!.replace(/end/g, String(count))} ${opts.join(' ')}\n`;
}

/**
 * pam-auth-update --package --force at link time, for a fresh image (no
 * /etc/pam.d/common-* yet, no debconf answers): every profile under
 * /usr/share/pam-configs with `Default: yes`, by priority, fills the Primary
 * and Additional blocks of the templates in /usr/share/pam — the tool's own
 * algorithm (create_from_template), checked against debootstrap's run of it.
 */
export function applyPamAuthUpdate(tree: LinkTree, text: (p: string) => string | undefined): { profiles: string[] } | null {
  if (tree.get(`${TEMPLATES}common-auth`)?.type !== 'file') return null;
  if (TYPES.some((t) => tree.get(`/etc/pam.d/common-${t}`))) return null; // configured already: the tool keeps local state
  const profiles = new Map<string, Profile>();
  for (const [p, n] of tree.nodes) {
    if (!p.startsWith(PROFILES) || n.type !== 'file') continue;
    const name = p.slice(PROFILES.length);
    if (name.includes('/') || name.endsWith('~') || /^#.+#$/.test(name)) continue;
    const prof = parseProfile(text(p) ?? '');
    if (prof) profiles.set(name, prof);
  }
  const prio = (n: string) => Number(profiles.get(n)!.Priority ?? 0) || 0;
  // Perl: priority descending, then name descending (`$b cmp $a`)
  const byPriority = (a: string, b: string) => prio(b) - prio(a) || (b < a ? -1 : b > a ? 1 : 0);
  let enabled = [...profiles.keys()].filter((n) => profiles.get(n)!.Default === 'yes').sort(byPriority);
  for (const e of [...enabled]) enabled = enabled.filter((c) => !profiles.get(e)?.conflicts?.has(c));

  for (const type of TYPES) {
    const template = text(`${TEMPLATES}common-${type}`);
    if (template === undefined) continue;
    const uc = type[0]!.toUpperCase() + type.slice(1);
    const word = type.replace(/-noninteractive$/, '');
    const linesFor = (block: 'Primary' | 'Additional'): string[][] => {
      let i = 0;
      const out: string[][] = [];
      for (const name of enabled) {
        const p = profiles.get(name)!;
        if (p[`${uc}-Type`] !== block) continue;
        const body = (i++ === 0 && p[`${uc}-Initial`]) || p[uc] || '';
        out.push(body.split('\n').filter(Boolean));
      }
      return out;
    };
    const out: string[] = [];
    let state = 0;
    const lines = template.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) {
      if (state === 1) {
        if (FALLBACK.test(line)) out.push(line + '\n'), state++;
        continue;
      }
      if (state === 3) {
        if (END.test(line)) out.push(line + '\n'), state++;
        continue;
      }
      out.push(line + '\n');
      const block = state === 0 && PRIMARY.test(line) ? 'Primary' : state === 2 && ADDITIONAL.test(line) ? 'Additional' : null;
      if (!block) continue;
      const mods = linesFor(block);
      let count = mods.reduce((n, m) => n + m.length, 0);
      // no jumping off the end of the stack from the Additional block
      if (block === 'Additional') count--;
      if (block === 'Primary' && count === 0) out.push(`${word}\t[default=1]\t\t\tpam_permit.so\n`);
      for (const m of mods)
        for (const l of m) {
          out.push(`${word}\t${mergeLine(l, count)}`);
          count--;
        }
      state++;
    }
    if (state < 4) continue; // not a template pam-auth-update understands: the tool would write nothing
    tree.writeFile(`/etc/pam.d/common-${type}`, out.join(''), 'action:pam-auth-update', 0o644);
  }
  return { profiles: enabled };
}
