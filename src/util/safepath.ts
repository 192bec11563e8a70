import { formatError } from '../errors.js';

/**
 * Normalises an archive member name to an absolute path, rejecting anything
 * that could escape the root. Pure string check, done before any I/O.
 * `./usr/bin/x`, `usr/bin/x` and `/usr/bin/x` all give `/usr/bin/x` only when
 * `allowAbsolute` is set; otherwise a leading `/` is hostile.
 */
export function safePath(
  name: string,
  opts: { format: string; where: string; allowAbsolute?: boolean; maxLength?: number; maxDepth?: number },
): string {
  const { format, where } = opts;
  const fail = (why: string) => formatError(format, `Unsafe path in ${where}: ${JSON.stringify(name)} ${why}`, { path: name });
  if (name.includes('\0')) throw fail('contains a NUL byte');
  if (name.length > (opts.maxLength ?? 4096)) throw fail('is too long');
  let rest = name;
  if (rest.startsWith('/')) {
    if (!opts.allowAbsolute) throw fail('is absolute');
  } else if (rest.startsWith('./')) {
    rest = rest.slice(1);
  } else if (rest === '.') {
    rest = '/';
  } else {
    rest = '/' + rest;
  }
  const parts: string[] = [];
  for (const p of rest.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw fail('contains ".."');
    parts.push(p);
  }
  if (parts.length > (opts.maxDepth ?? 256)) throw fail('is too deep');
  return '/' + parts.join('/');
}

/** Resolves a symlink target against the link's directory; null when it climbs above /. */
export function resolveLinkTarget(linkPath: string, target: string): string | null {
  const base = target.startsWith('/') ? [] : linkPath.split('/').filter(Boolean).slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (base.length === 0) return null;
      base.pop();
    } else base.push(p);
  }
  return '/' + base.join('/');
}
