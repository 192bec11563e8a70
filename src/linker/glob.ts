/**
 * Path globs for variant exclusions: `*` and `?` stay within one path
 * segment, `**` crosses segments. A pattern also excludes everything below a
 * matching directory.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}(/.*)?$`);
}

export function matcher(patterns: string[]): (path: string) => boolean {
  const res = patterns.map(globToRegExp);
  return (p) => res.some((r) => r.test(p));
}
