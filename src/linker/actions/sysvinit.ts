import type { Action } from '../../model.js';
import { realpath, type LinkTree } from '../tree.js';

type RcLinks = Extract<Action, { kind: 'rclinks' }>;

export interface RcLinksResult {
  /** links made, /etc/rcN.d/[SK]01NAME */
  links: number;
  /** steps update-rc.d would have failed or skipped, with why */
  skipped: { script: string; op: string; reason: string }[];
}

const LINK = /^\/etc\/rc([0-6S])\.d\/([SK])(\d\d)(.+)$/;

/** Default-Start and Default-Stop of an init script's LSB block, as update-rc.d's parse_def_start_stop reads them */
export function lsbDefaults(text: string): { start: string[]; stop: string[] } {
  let start: string[] = [];
  let stop: string[] = [];
  let begun = false;
  for (const l of text.split('\n')) {
    if (/^### BEGIN INIT INFO\s*$/.test(l)) begun = true;
    else if (/^### END INIT INFO\s*$/.test(l)) break;
    else if (begun) {
      const a = /^# Default-Start:\s*(\S?.*)$/.exec(l);
      if (a) start = a[1]!.split(/\s+/).filter(Boolean);
      const b = /^# Default-Stop:\s*(\S?.*)$/.exec(l);
      if (b) stop = b[1]!.split(/\s+/).filter(Boolean);
    }
  }
  return { start, stop };
}

/**
 * update-rc.d (init-system-helpers 1.65) without insserv, its sysvinit part:
 * `defaults` links ../init.d/NAME as S01NAME in each Default-Start level and K01NAME
 * in each Default-Stop level, unless NAME has rc links already; `defaults-disabled`
 * makes the start links K; `disable`/`enable` rename S↔K in the given levels (else
 * Default-Start), S and 2–5 only; `remove` unlinks them all. A step the tool would
 * fail on (no init script, nothing to toggle) is skipped and listed.
 */
export function applyRcLinks(tree: LinkTree, steps: RcLinks[], read: (p: string) => string | undefined): RcLinksResult {
  const res: RcLinksResult = { links: 0, skipped: [] };
  const linksOf = (name: string) => [...tree.nodes.keys()].filter((p) => LINK.exec(p)?.[4] === name && tree.get(p)?.type === 'symlink').sort();
  const script = (name: string) => {
    const r = realpath((x) => tree.get(x), `/etc/init.d/${name}`);
    const n = r === null ? undefined : tree.get(r);
    return n?.type === 'file' ? r! : null;
  };
  // with insserv installed update-rc.d hands the links to it, which numbers them by dependencies: not modelled
  const insserv = ['/usr/lib/insserv/insserv', '/sbin/insserv', '/usr/sbin/insserv'].some((p) => tree.get(p)) && tree.get('/etc/insserv.conf');
  for (const s of steps) {
    if (insserv) {
      res.skipped.push({ script: s.script, op: s.op, reason: 'insserv orders rc links, which weld does not model' });
      continue;
    }
    const skip = (reason: string) => res.skipped.push({ script: s.script, op: s.op, reason });
    const have = linksOf(s.script);
    if (s.op === 'remove') {
      for (const p of have) tree.delete(p);
      continue;
    }
    const path = script(s.script);
    if (s.op === 'defaults' || s.op === 'defaults-disabled') {
      // numbers aside, a script with any link keeps its enabled/disabled state
      if (have.length) continue;
      if (!path) {
        skip(`no /etc/init.d/${s.script}`);
        continue;
      }
      const { start, stop } = lsbDefaults(read(path) ?? '');
      const make = (lvl: string, sk: string) => {
        tree.mkdir(`/etc/rc${lvl}.d`, 'action:rclinks');
        const p = `/etc/rc${lvl}.d/${sk}01${s.script}`;
        // symlink(2) leaves an existing name alone
        if (tree.get(p)) return;
        tree.symlink(p, `../init.d/${s.script}`, 'action:rclinks');
        res.links++;
      };
      for (const l of start) make(l, s.op === 'defaults' ? 'S' : 'K');
      for (const l of stop) make(l, 'K');
      continue;
    }
    // enable | disable
    if (!path) {
      skip(`no /etc/init.d/${s.script}`);
      continue;
    }
    const levels = s.levels ?? lsbDefaults(read(path) ?? '').start;
    if (!levels.length) {
      skip('Default-Start contains no runlevels');
      continue;
    }
    const toggle = have.filter((p) => ['S', '2', '3', '4', '5'].includes(LINK.exec(p)![1]!) && levels.includes(LINK.exec(p)![1]!));
    if (!toggle.length) {
      skip('no runlevel symlinks to modify');
      continue;
    }
    const [from, to] = s.op === 'disable' ? ['S', 'K'] : ['K', 'S'];
    for (const p of toggle) {
      const m = LINK.exec(p)!;
      if (m[2] !== from) continue;
      const n = tree.get(p)!;
      tree.delete(p);
      tree.set({ ...n, path: `/etc/rc${m[1]}.d/${to}${m[3]}${m[4]}` });
    }
  }
  return res;
}
