import type { Action } from '../../model.js';

/**
 * rpm's embedded Lua scriptlets (`<lua>`). Only straight-line calls that are
 * common in distribution packages are recognised; any other statement makes
 * that line opaque. Control flow is not interpreted: a recognised call
 * inside an `if` still counts. posix.symlink is not yet one of them, though a
 * symlink action (as from a shell `ln -s`) could express it.
 */
export function classifyLua(body: string, classifyShell: (cmd: string) => Action[]): Action[] {
  const out: Action[] = [];
  const lines = body.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/--.*$/, '').trim();
    if (!line) continue;
    const at = `line ${n + 1}`;
    let m: RegExpExecArray | null;
    if (/^(end|else|do|then|\}|\)|return)$/.test(line) || /^(if|elseif|while|for)\b.*\b(then|do)$/.test(line)) {
      out.push({ kind: 'noop', what: 'lua control flow' });
    } else if (/^(print|io\.(stdout|stderr):write|io\.write)\s*\(/.test(line)) {
      out.push({ kind: 'noop', what: 'lua message' });
    } else if ((m = /^(?:rpm\.execute|posix\.exec)\s*\(\s*(["'])([^"']+)\1\s*((?:,\s*(["'])[^"']*\4\s*)*)\)$/.exec(line))) {
      const args = [...(m[3] ?? '').matchAll(/(["'])([^"']*)\1/g)].map((x) => x[2]!);
      const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
      out.push(...classifyShell([m[2]!, ...args].map(quote).join(' ')));
    } else if ((m = /^os\.execute\s*\(\s*(["'])(.*)\1\s*\)$/.exec(line))) {
      out.push(...classifyShell(m[2]!));
    } else if ((m = /^posix\.mkdir\s*\(\s*(["'])([^"']+)\1\s*\)$/.exec(line)) && m[2]!.startsWith('/')) {
      out.push({ kind: 'directory', path: m[2]! });
    } else {
      const what = /^posix\.symlink\b/.test(line) ? 'posix.symlink is not recognised' : 'unknown Lua statement';
      out.push({ kind: 'opaque', text: line, reason: `${what} at ${at}` });
    }
  }
  return out;
}
