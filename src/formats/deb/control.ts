import { displayText } from '../../util/text.js';

/**
 * The text files of a .deb's control.tar (deb-control(5), deb-md5sums(5),
 * deb-conffiles(5)). Callers pass `fail`, which names the package.
 */

/** deb822 paragraph: "Field: value", continuation lines start with space or tab; names are case-insensitive. */
export function parseControl(text: string, fail: (m: string) => Error): Map<string, string> {
  const fields = new Map<string, string>();
  let last: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') {
      if (fields.size) break; // one paragraph only
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      if (last === null) throw fail(`control line ${i + 1} continues no field`);
      fields.set(last, fields.get(last)! + '\n' + line);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw fail(`control line ${i + 1} is not "Field: value": ${JSON.stringify(line.slice(0, 80))}`);
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  return fields;
}

/** md5sums: "<32 hex>  <path relative to />" per line */
export function parseMd5sums(data: Uint8Array | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!data) return out;
  for (const line of displayText(data).split('\n')) {
    const m = /^([0-9a-fA-F]{32})\s+(.+)$/.exec(line);
    if (m) out.set(absolute(m[2]!), m[1]!.toLowerCase());
  }
  return out;
}

/** conffiles: one absolute path per line, optionally after flags such as remove-on-upgrade (dpkg ≥ 1.20.1) */
export function parseConffiles(data: Uint8Array | undefined): Set<string> {
  const out = new Set<string>();
  if (!data) return out;
  for (const line of displayText(data).split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const at = t.indexOf('/');
    if (at < 0) continue;
    if (at > 0 && /remove-on-upgrade/.test(t.slice(0, at))) continue; // not shipped, so not a file of this package
    out.add(absolute(t.slice(at)));
  }
  return out;
}

function absolute(p: string): string {
  return '/' + p.split('/').filter((c) => c !== '' && c !== '.').join('/');
}

