import type { Action } from '../../model.js';
import { field, splitConfigLine } from './fields.js';

/**
 * Turns a sysusers.d(5) file into user/group actions. `where` names the file
 * (or scriptlet) in reasons. Lines: `u name uid[:gid] "gecos" home shell`,
 * `g name gid`, `m user group`, `r - lo-hi`; `-` is "default".
 */
export function parseSysusers(text: string, where: string): Action[] {
  const out: Action[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line || line.startsWith('#')) continue;
    const f = splitConfigLine(line);
    const at = `${where}:${n + 1}`;
    if (!f || f.length < 2) {
      out.push({ kind: 'opaque', text: line, reason: `cannot parse sysusers line at ${at}` });
      continue;
    }
    // `u!` (locked account, systemd 256) is still a user
    const type = f[0]!.replace(/!$/, '');
    const name = f[1]!;
    const id = field(f[2]);
    switch (type) {
      case 'u': {
        const user: Extract<Action, { kind: 'user' }> = { kind: 'user', name, system: true, tool: 'sysusers' };
        let ownGroup = true;
        if (id && !id.startsWith('/')) {
          const [uid, gid] = id.split(':', 2) as [string, string | undefined];
          if (/^\d+$/.test(uid)) user.uid = Number(uid);
          if (gid !== undefined) {
            // uid:gid names an existing group (by number or name) as the primary one
            user.group = gid;
            ownGroup = false;
          }
        }
        if (ownGroup) {
          const group: Extract<Action, { kind: 'group' }> = { kind: 'group', name, system: true, tool: 'sysusers' };
          // a plain numeric id gives the same number to the user's group
          if (user.uid !== undefined) group.gid = user.uid;
          out.push(group);
          user.group = name;
        }
        const comment = field(f[3]);
        const home = field(f[4]);
        const shell = field(f[5]);
        if (comment !== undefined) user.comment = comment;
        if (home !== undefined) user.home = home;
        if (shell !== undefined) user.shell = shell;
        out.push(user);
        break;
      }
      case 'g': {
        const group: Extract<Action, { kind: 'group' }> = { kind: 'group', name, system: true, tool: 'sysusers' };
        if (id && /^\d+$/.test(id)) group.gid = Number(id);
        out.push(group);
        break;
      }
      case 'm': {
        const group = field(f[2]);
        if (!group) out.push({ kind: 'opaque', text: line, reason: `sysusers "m" line without a group at ${at}` });
        else out.push({ kind: 'group', name: group, members: [name], system: true, tool: 'sysusers' });
        break;
      }
      case 'r':
        out.push({ kind: 'noop', what: `sysusers id range ${f[2] ?? ''} (${at})` });
        break;
      default:
        out.push({ kind: 'opaque', text: line, reason: `unknown sysusers type "${f[0]}" at ${at}` });
    }
  }
  return out;
}
