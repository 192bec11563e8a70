import type { Dep, DepEntry } from '../../model.js';

const ATOM = /^([^\s(\[<|,]+)\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[[^\]]*\]\s*)*(?:<[^>]*>\s*)*$/;

/**
 * Depends-style field: "a (>= 1) | b, c:any [amd64] <!nocheck>". Arch lists and
 * build profiles are dropped; obsolete `<` and `>` mean `<=` and `>=` (dpkg).
 */
export function parseDepends(text: string, field: string, fail: (m: string) => Error): DepEntry[] {
  const out: DepEntry[] = [];
  for (const group of text.split(',')) {
    if (!group.trim()) continue;
    const alts: Dep[] = [];
    for (const alt of group.split('|')) {
      const m = ATOM.exec(alt.trim());
      if (!m) throw fail(`${field} has a malformed relation ${JSON.stringify(alt.trim())}`);
      let op = m[2] ?? '';
      if (op === '<') op = '<=';
      else if (op === '>') op = '>=';
      alts.push({ name: m[1]!, op, evr: m[3] ?? '' });
    }
    out.push(alts.length === 1 ? alts[0]! : { anyOf: alts });
  }
  return out;
}

