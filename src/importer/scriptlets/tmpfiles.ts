import type { Action } from '../../model.js';
import { field, parseMode, splitConfigLine } from './fields.js';

/** tmpfs or kernel mounts at run time: creating entries there in an image is meaningless */
const RUNTIME = /^\/(run|tmp|var\/run|var\/tmp|var\/lock|dev|proc|sys)(\/|$)/;

/**
 * Turns tmpfiles.d(5) text into actions. Plain directory lines (`d`, `D`, `v`,
 * `q`, `Q` with no age, outside runtime mounts, not boot-only) become directory
 * actions; every other line is kept verbatim in one tmpfiles action, for the
 * image to run `systemd-tmpfiles` on at boot.
 */
export function parseTmpfiles(text: string): Action[] {
  const out: Action[] = [];
  const kept: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    const f = splitConfigLine(line);
    if (!f || f.length < 2) {
      out.push({ kind: 'opaque', text: line, reason: `cannot parse tmpfiles line ${n + 1}` });
      continue;
    }
    const m = /^([dDvqQ])([-=~^$]*)$/.exec(f[0]!);
    const path = f[1]!;
    if (m && !RUNTIME.test(path) && field(f[5]) === undefined && field(f[6]) === undefined && !path.includes('%')) {
      const dir: Extract<Action, { kind: 'directory' }> = { kind: 'directory', path };
      const mode = parseMode(f[2]);
      const user = field(f[3]);
      const group = field(f[4]);
      if (mode !== undefined) dir.mode = mode;
      if (user !== undefined) dir.user = user;
      if (group !== undefined) dir.group = group;
      out.push(dir);
    } else kept.push(line);
  }
  if (kept.length) out.push({ kind: 'tmpfiles', configs: kept });
  return out;
}
