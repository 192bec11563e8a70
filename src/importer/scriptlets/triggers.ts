import type { Action } from '../../model.js';

/**
 * A deb `triggers` control file (deb-triggers(5)). `activate ldconfig` is the
 * ldconfig a library needs; `activate X` asks another package to refresh X;
 * `interest X` means this package's postinst handles X when it fires.
 */
export function classifyTriggers(text: string): Action[] {
  const out: Action[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(activate|interest)(-noawait|-await)?\s+(\S+)$/.exec(line);
    if (!m) {
      out.push({ kind: 'opaque', text: line, reason: `unknown trigger directive at line ${n + 1}` });
      continue;
    }
    const name = m[3]!;
    if (m[1] === 'interest') out.push({ kind: 'noop', what: `interest in trigger "${name}" (handled by this package's postinst "triggered")` });
    else if (name === 'ldconfig') out.push({ kind: 'ldconfig' });
    else if (name.startsWith('/')) out.push({ kind: 'noop', what: `activates file trigger "${name}"` });
    else out.push({ kind: 'cache', tool: name, args: [] });
  }
  return out;
}
