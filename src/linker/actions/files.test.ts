import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { LinkTree, modeOf } from '../tree.js';
import { applyFileOps, guardsFrom } from './files.js';

type Op = Extract<Action, { kind: 'symlink' | 'copy' | 'file' | 'rmdir' | 'remove' }>;

function tree(): LinkTree {
  const t = new LinkTree(1000);
  for (const d of ['/etc', '/var', '/var/run', '/var/log', '/usr', '/usr/share', '/usr/share/x', '/root', '/full']) t.mkdir(d, 'pkg');
  t.set({ path: '/usr/share/x/dot.bashrc', type: 'file', mode: modeOf('file', 0o640), uid: 5, gid: 6, user: 'u', group: 'g', mtime: 7, size: 3, object: 'aa'.repeat(32), origin: 'pkg' });
  t.symlink('/usr/share/x/link', 'dot.bashrc', 'pkg');
  t.writeFile('/full/f', 'x', 'pkg');
  t.symlink('/etc/existing', 'old', 'pkg');
  return t;
}
const run = (t: LinkTree, ops: Op[], partial = new Set<string>()) =>
  applyFileOps(t, ops.map((a) => ({ pkg: 'p', phase: 'postinst', a })), (p) => p, { user: (n) => n === 'root', group: (n) => n === 'root' || n === 'utmp' }, partial);

describe('applyFileOps', () => {
  it('migrates a directory to a link, as base-files does with /var/run', () => {
    const t = tree();
    const r = run(t, [{ kind: 'rmdir', path: '/var/run' }, { kind: 'symlink', path: '/var/run', target: '/run', force: false }]);
    expect(r).toEqual({ applied: 2, notTaken: 0, unchanged: [], skipped: [] });
    expect(t.get('/var/run')).toMatchObject({ type: 'symlink', target: '/run' });
  });

  it('leaves what is already there to guarded scripts, replaces with -f, and never links onto a directory', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'symlink', path: '/etc/existing', target: 'new', force: false },
      { kind: 'symlink', path: '/full', target: 'x', force: true },
      { kind: 'symlink', path: '/nowhere/l', target: 'x', force: false },
    ]);
    expect(t.get('/etc/existing')!.target).toBe('old');
    expect(r.unchanged).toEqual([{ package: 'p', kind: 'symlink', path: '/etc/existing' }]);
    expect(r.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['/full', 'a directory is there (ln -f would make the link inside it)'],
      ['/nowhere/l', 'its parent /nowhere is missing'],
    ]);
    run(t, [{ kind: 'symlink', path: '/etc/existing', target: 'new', force: true }]);
    expect(t.get('/etc/existing')!.target).toBe('new');
  });

  it('copies through links: cp -p keeps mode and owner, plain cp applies umask 022 and root', () => {
    const t = tree();
    run(t, [
      { kind: 'copy', from: '/usr/share/x/link', to: '/root/.bashrc', preserve: true, noClobber: false },
      { kind: 'copy', from: '/usr/share/x/dot.bashrc', to: '/etc/bashrc', preserve: false, noClobber: false },
    ]);
    expect(t.get('/root/.bashrc')).toMatchObject({ type: 'file', mode: modeOf('file', 0o640), user: 'u', group: 'g', size: 3, object: 'aa'.repeat(32) });
    expect(t.get('/etc/bashrc')).toMatchObject({ type: 'file', mode: modeOf('file', 0o640 & ~0o022), user: 'root', group: 'root', object: 'aa'.repeat(32) });
    const r = run(t, [{ kind: 'copy', from: '/usr/share/x/missing', to: '/etc/m', preserve: false, noClobber: false }]);
    expect(r.skipped[0]!.reason).toMatch(/missing or a dangling link/);
  });

  it('makes empty files with the owner and mode chown/chmod gave them; an unknown group is skipped, not guessed', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'file', path: '/var/log/wtmp', truncate: true },
      { kind: 'file', path: '/var/log/wtmp', truncate: false, user: 'root', group: 'utmp' },
      { kind: 'file', path: '/var/log/wtmp', truncate: false, mode: 0o664 },
      { kind: 'file', path: '/var/log/x', truncate: true },
      { kind: 'file', path: '/var/log/x', truncate: false, group: 'nosuch' },
    ]);
    expect(t.get('/var/log/wtmp')).toMatchObject({ type: 'file', size: 0, mode: modeOf('file', 0o664), user: 'root', group: 'utmp' });
    expect(t.get('/var/log/x')).toMatchObject({ mode: modeOf('file', 0o644), group: 'root' });
    expect(r.skipped.map((s) => s.reason)).toEqual(['group nosuch is not defined']);
  });

  it('rm -f of what is not there changes nothing; of a packaged file it is listed, not done', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'remove', path: '/etc/ld.so.nohwcap' },
      { kind: 'remove', path: '/full/f' },
    ]);
    expect(r.unchanged).toEqual([{ package: 'p', kind: 'remove', path: '/etc/ld.so.nohwcap' }]);
    expect(r.skipped.map((s) => s.reason)).toEqual(['rm would remove the file pkg ships, which weld does not model']);
    expect(t.get('/full/f')).toBeDefined();
  });

  it("rm -f of a file an earlier step made removes it, as the kernel's postinst removes its preinst's .fresh-install", () => {
    const t = tree();
    const r = run(t, [
      { kind: 'file', path: '/var/log/.fresh-install', truncate: false },
      { kind: 'remove', path: '/var/log/.fresh-install' },
    ]);
    expect(r).toEqual({ applied: 2, notTaken: 0, unchanged: [], skipped: [] });
    expect(t.get('/var/log/.fresh-install')).toBeUndefined();
  });

  it('refuses rmdir of a non-empty directory, and applies nothing from a script it only partly understood', () => {
    const t = tree();
    expect(run(t, [{ kind: 'rmdir', path: '/full' }]).skipped[0]!.reason).toMatch(/not empty/);
    const r = run(t, [{ kind: 'symlink', path: '/etc/new', target: 'x', force: true }], new Set(['p\0postinst']));
    expect(r.applied).toBe(0);
    expect(t.get('/etc/new')).toBeUndefined();
  });
});

describe('guardsFrom', () => {
  it('answers file tests from the tree as shipped, following links except for -L', () => {
    const t = tree();
    t.symlink('/bin', 'usr/share/x', 'usrmerge');
    const taken = guardsFrom(t);
    t.mkdir('/made/later', 'action');
    expect(taken([{ test: '-d', path: '/var/run', negate: false }])).toBe(true);
    expect(taken([{ test: '-L', path: '/var/run', negate: true }])).toBe(true);
    expect(taken([{ test: '-f', path: '/usr/share/x/link', negate: false }])).toBe(true);
    expect(taken([{ test: '-L', path: '/usr/share/x/link', negate: false }])).toBe(true);
    expect(taken([{ test: '-s', path: '/usr/share/x/dot.bashrc', negate: false }])).toBe(true);
    expect(taken([{ test: '-e', path: '/made/later', negate: false }])).toBe(false);
    expect(taken([{ test: '-e', path: '/etc/staff-group-for-usr-local', negate: false }, { test: '-d', path: '/etc', negate: false }])).toBe(false);
    // through a linked directory, -L looks at the last component only
    expect(taken([{ test: '-L', path: '/bin/link', negate: false }])).toBe(true);
    expect(taken([{ test: '-f', path: '/bin/link', negate: false }])).toBe(true);
    expect(taken([{ test: '-L', path: '/bin', negate: false }])).toBe(true);
    expect(taken(undefined)).toBe(true);
  });
});
