/**
 * Splits one line of a systemd config table (sysusers.d, tmpfiles.d) into
 * fields: blanks separate, double or single quotes group, C escapes inside
 * quotes. Returns null when a quote is not closed.
 */
export function splitConfigLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    let field = '';
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') {
      const c = line[i]!;
      if (c === '"' || c === "'") {
        const end = line.indexOf(c, i + 1);
        if (end < 0) return null;
        field += unescape(line.slice(i + 1, end));
        i = end + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        field += line[i + 1];
        i += 2;
      } else {
        field += c;
        i++;
      }
    }
    out.push(field);
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(["'\\])/g, '$1');
}

/** an octal mode such as 0755 or 1777; tmpfiles prefixes (~ :) are dropped */
export function parseMode(s: string | undefined): number | undefined {
  if (s === undefined || s === '-') return undefined;
  const m = /^[~:]*([0-7]{3,4})$/.exec(s);
  return m ? parseInt(m[1]!, 8) : undefined;
}

/** `-` means "default" in sysusers.d and tmpfiles.d */
export function field(s: string | undefined): string | undefined {
  return s === undefined || s === '-' || s === '' ? undefined : s;
}
