import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { LinkTree, modeOf } from '../tree.js';
import { guardsFrom } from './files.js';
import { applyStatOverrides } from './statoverride.js';

type Op = Extract<Action, { kind: 'statoverride' }>;

function tree(): LinkTree {
  const t = new LinkTree(1000);
  for (const d of ['/etc', '/usr', '/usr/bin', '/usr/lib', '/var', '/var/spool', '/var/spool/cron', '/var/spool/cron/crontabs']) t.mkdir(d, 'pkg');
  t.set({ path: '/usr/bin/crontab', type: 'file', mode: modeOf('file', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 7, size: 3, object: 'aa'.repeat(32), origin: 'cron' });
  t.set({ path: '/usr/bin/ping', type: 'file', mode: modeOf('file', 0o4755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 7, size: 3, object: 'bb'.repeat(32), origin: 'p', caps: 'cap_net_raw=ep' });
  t.writeFile('/etc/sudoers', 'x', 'sudo');
  t.symlink('/bin', 'usr/bin', 'usr-is-merged');
  return t;
}
const accounts = { user: (n: string) => n === 'root' || /^\d+$/.test(n), group: (n: string) => ['root', 'crontab', 'messagebus'].includes(n) || /^\d+$/.test(n) };
const run = (t: LinkTree, ops: (Op & { phase?: string; pkg?: string })[], taken?: Parameters<typeof applyStatOverrides>[4]) =>
  applyStatOverrides(t, ops.map(({ phase, pkg, ...a }) => ({ pkg: pkg ?? 'p', phase: phase ?? 'postinst', a })), (p) => p, accounts, taken);

describe('applyStatOverrides', () => {
  it('gives packaged paths the owner and mode, by name, through links', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'statoverride', tool: 'dpkg-statoverride', path: '/bin/crontab', user: 'root', group: 'crontab', mode: 0o2755 },
      { kind: 'statoverride', tool: 'chown', path: '/var/spool/cron/crontabs', user: 'root', group: 'crontab' },
      { kind: 'statoverride', tool: 'chmod', path: '/var/spool/cron/crontabs', mode: 0o1730 },
      { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o440 },
    ]);
    expect(r).toEqual({ applied: 4, notTaken: 0, absent: [], skipped: [] });
    expect(t.get('/usr/bin/crontab')).toMatchObject({ type: 'file', mode: modeOf('file', 0o2755), user: 'root', group: 'crontab', object: 'aa'.repeat(32) });
    expect(t.get('/bin')).toMatchObject({ type: 'symlink', target: 'usr/bin' });
    expect(t.get('/var/spool/cron/crontabs')).toMatchObject({ type: 'dir', mode: modeOf('dir', 0o1730), user: 'root', group: 'crontab' });
    expect(t.get('/etc/sudoers')).toMatchObject({ mode: modeOf('file', 0o440), user: 'root', group: 'root' });
  });

  it('applies in install order, package by package and phase by phase, whatever order the actions come in', () => {
    const t = tree();
    run(t, [
      { kind: 'statoverride', tool: 'chmod', path: '/usr/bin/crontab', mode: 0o700, phase: 'postinst' },
      { kind: 'statoverride', tool: 'chmod', path: '/usr/bin/crontab', mode: 0o711, phase: 'preinst' },
      { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o400, pkg: 'b' },
      { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o440, pkg: 'a' },
    ]);
    expect(t.get('/usr/bin/crontab')!.mode).toBe(modeOf('file', 0o700));
    expect(t.get('/etc/sudoers')!.mode).toBe(modeOf('file', 0o400));
  });

  it("chown drops setuid, group-executable setgid and capabilities, as chown(2) does; dpkg-statoverride and chmod set the mode they name", () => {
    const t = tree();
    run(t, [{ kind: 'statoverride', tool: 'chown', path: '/usr/bin/ping', user: 'root', group: 'root' }]);
    expect(t.get('/usr/bin/ping')!.mode).toBe(modeOf('file', 0o755));
    expect(t.get('/usr/bin/ping')!.caps).toBeUndefined();
    const u = tree();
    run(u, [{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/bin/ping', user: 'root', group: 'messagebus', mode: 0o4754 }]);
    expect(u.get('/usr/bin/ping')).toMatchObject({ mode: modeOf('file', 0o4754), group: 'messagebus', caps: 'cap_net_raw=ep' });
  });

  it('changes every hard link of the file, as they are one inode', () => {
    const t = tree();
    for (const p of ['/usr/bin/a', '/usr/bin/b']) t.set({ path: p, type: 'file', mode: modeOf('file', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 7, size: 3, object: 'cc'.repeat(32), origin: 'p', hardlink: 3 });
    run(t, [{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/bin/a', user: 'root', group: 'crontab', mode: 0o2755 }]);
    expect(t.get('/usr/bin/b')).toMatchObject({ mode: modeOf('file', 0o2755), group: 'crontab', hardlink: 3 });
    expect(t.get('/usr/bin/crontab')).toMatchObject({ mode: modeOf('file', 0o755), group: 'root' });
  });

  it('lists what the script would have failed at, and takes guards from the shipped tree', () => {
    const t = tree();
    const r = run(
      t,
      [
        { kind: 'statoverride', tool: 'chmod', path: '/usr/bin/missing', mode: 0o700 },
        { kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/bin/missing', user: 'root', group: 'root', mode: 0o700 },
        { kind: 'statoverride', tool: 'chown', path: '/etc/sudoers', user: 'nobody' },
        { kind: 'statoverride', tool: 'chown', path: '/etc/sudoers', group: 'staff' },
        { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o400, when: [{ test: '-f', path: '/etc/sudoers.dist', negate: false }] },
        { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o440, when: [{ test: '-f', path: '/etc/sudoers', negate: false }] },
      ],
      guardsFrom(t),
    );
    expect(r.applied).toBe(1);
    expect(r.notTaken).toBe(1);
    expect(r.absent).toEqual(['/usr/bin/missing']);
    expect(r.skipped.map((s) => s.reason)).toEqual(['chmod of a path nothing ships or makes', 'user nobody is not defined', 'group staff is not defined']);
    expect(t.get('/etc/sudoers')).toMatchObject({ mode: modeOf('file', 0o440), user: 'root', group: 'root' });
  });
});
