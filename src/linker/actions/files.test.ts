import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Action, SedEdit } from '../../model.js';
import { readSedScript } from '../../importer/scriptlets/sed.js';
import { LinkTree, modeOf } from '../tree.js';
import { applyFileOps, applySedSubsts, guardsFrom, resolveLike, type FileOp as Op } from './files.js';

function tree(): LinkTree {
  const t = new LinkTree(1000);
  for (const d of ['/etc', '/var', '/var/run', '/var/log', '/usr', '/usr/share', '/usr/share/x', '/root', '/full']) t.mkdir(d, 'pkg');
  t.set({ path: '/usr/share/x/dot.bashrc', type: 'file', mode: modeOf('file', 0o640), uid: 5, gid: 6, user: 'u', group: 'g', mtime: 7, size: 3, object: 'aa'.repeat(32), origin: 'pkg' });
  t.symlink('/usr/share/x/link', 'dot.bashrc', 'pkg');
  t.writeFile('/full/f', 'x', 'pkg');
  t.symlink('/etc/existing', 'old', 'pkg');
  return t;
}
/** what treeReader gives: a node's bytes (the test tree's objects are all 'aa…', three bytes "abc") */
const reader = (t: LinkTree) => (p: string) => {
  const n = t.get(p);
  return n?.type !== 'file' ? undefined : (n.data ?? (n.object ? Buffer.from('abc') : new Uint8Array(0)));
};
const run = (t: LinkTree, ops: Op[], partial = new Set<string>(), taken?: Parameters<typeof applyFileOps>[5]) =>
  applyFileOps(t, ops.map((a) => ({ pkg: 'p', phase: 'postinst', a })), (p) => p, { user: (n) => n === 'root', group: (n) => n === 'root' || n === 'utmp' }, partial, taken, reader(t));
const text = (t: LinkTree, p: string) => Buffer.from(reader(t)(p) ?? []).toString();

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

describe('applyFileOps: writes, renames and edited copies', () => {
  it('writes a new file 0644 (umask 022) or under the umask the script set, appends to what is there, and keeps an existing file\'s mode and owner', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'write', path: '/etc/hosts', append: false, parts: [{ text: '127.0.0.1\tlocalhost\n' }] },
      { kind: 'write', path: '/etc/hosts', append: true, parts: [{ text: '::1\tlocalhost\n' }] },
      { kind: 'write', path: '/etc/secret', append: false, parts: [], createMode: 0o600 },
      { kind: 'write', path: '/usr/share/x/dot.bashrc', append: true, parts: [{ text: 'more\n' }, { file: '/usr/share/x/link' }] },
    ]);
    expect(r).toMatchObject({ applied: 4, skipped: [] });
    expect(t.get('/etc/hosts')).toMatchObject({ type: 'file', mode: modeOf('file', 0o644), user: 'root', group: 'root', size: 34 });
    expect(text(t, '/etc/hosts')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost\n');
    expect(t.get('/etc/secret')).toMatchObject({ mode: modeOf('file', 0o600), size: 0 });
    // `>>` onto a shipped file: its bytes, then the new ones, mode and owner unchanged
    expect(text(t, '/usr/share/x/dot.bashrc')).toBe('abcmore\nabc');
    expect(t.get('/usr/share/x/dot.bashrc')).toMatchObject({ mode: modeOf('file', 0o640), user: 'u', group: 'g', size: 11 });
    expect(t.get('/usr/share/x/dot.bashrc')!.object).toBeUndefined();
  });

  it('answers the guard from the shipped tree, and skips what cat would fail at', () => {
    const t = tree();
    const taken = guardsFrom(t);
    const r = run(
      t,
      [
        { kind: 'write', path: '/full/f', append: false, parts: [{ text: 'new\n' }], when: [{ test: '-e', path: '/full/f', negate: true }] },
        { kind: 'write', path: '/etc/a', append: false, parts: [{ file: '/usr/share/x/missing' }] },
        { kind: 'write', path: '/full', append: false, parts: [{ text: 'x' }] },
        { kind: 'write', path: '/nowhere/a', append: false, parts: [{ text: 'x' }] },
      ],
      new Set(),
      taken,
    );
    expect(text(t, '/full/f')).toBe('x');
    expect(r.notTaken).toBe(1);
    expect(r.skipped.map((s) => s.reason)).toEqual(['/usr/share/x/missing is missing or not a readable regular file (cat would fail)', 'a dir is there', 'its parent /nowhere is missing']);
    expect(t.get('/etc/a')).toBeUndefined();
  });

  it('renames what the script made over what is there (X.dpkg-new, then mv -f over X), never onto a directory', () => {
    const t = tree();
    const r = run(t, [
      { kind: 'symlink', path: '/etc/localtime.dpkg-new', target: '/usr/share/zoneinfo/Etc/UTC', force: true },
      { kind: 'rename', from: '/etc/localtime.dpkg-new', to: '/etc/existing' },
      { kind: 'rename', from: '/etc/none', to: '/etc/b' },
      { kind: 'rename', from: '/full/f', to: '/usr' },
    ]);
    expect(t.get('/etc/localtime.dpkg-new')).toBeUndefined();
    expect(t.get('/etc/existing')).toMatchObject({ type: 'symlink', target: '/usr/share/zoneinfo/Etc/UTC', path: '/etc/existing' });
    expect(r.skipped.map((s) => s.reason)).toEqual(['/etc/none is missing (mv would fail)', 'a directory is there (mv would move into it)']);
  });

  it("copies a template with the script's substitutions, keeping its mode and owner as ucf's cp -p does", () => {
    const t = tree();
    t.writeFile('/usr/share/x/sshd_config', '#PermitRootLogin prohibit-password\n#Port 22\n', 'pkg', 0o644);
    run(t, [{ kind: 'copy', from: '/usr/share/x/sshd_config', to: '/etc/sshd_config', preserve: true, noClobber: true, edits: [{ re: '^#*PermitRootLogin [^\\n]*', global: false, repl: ['PermitRootLogin yes'] }] }]);
    expect(text(t, '/etc/sshd_config')).toBe('PermitRootLogin yes\n#Port 22\n');
    expect(t.get('/etc/sshd_config')).toMatchObject({ mode: modeOf('file', 0o644), size: 29 });
  });
});

describe('applyFileOps: sed output redirected to a file', () => {
  it("writes the shipped file as sed '/^###/d' prints it, with a new file's mode", () => {
    const t = tree();
    t.writeFile('/usr/share/x/modules', '### comment\n# example\n### more\nloop\n', 'pkg', 0o644);
    const r = run(t, [{ kind: 'write', path: '/etc/modules', append: false, parts: [{ file: '/usr/share/x/modules', edits: [{ re: '^###', delete: true }] }] }]);
    expect(r.applied).toBe(1);
    expect(text(t, '/etc/modules')).toBe('# example\nloop\n');
    expect(t.get('/etc/modules')).toMatchObject({ mode: modeOf('file', 0o644), user: 'root' });
  });
});

describe('resolveLike', () => {
  it('gives the mode, owner and group of the named path as the tree has it, through links; null where it is missing', () => {
    const t = tree();
    t.mkdir('/usr/local', 'pkg', 0o2775, 'root', 'staff');
    t.symlink('/usr/loc', 'local', 'pkg');
    const a: Extract<Action, { kind: 'directory' }> = { kind: 'directory', path: '/usr/local/share/ca-certificates' };
    expect(resolveLike(t, { ...a, like: { mode: '/usr/loc', group: '/usr/local' } }, (p) => p)).toEqual({ ...a, mode: 0o2775, group: 'staff' });
    expect(resolveLike(t, { ...a, like: { user: '/usr/share/x/dot.bashrc' } }, (p) => p)).toEqual({ ...a, user: 'u' });
    expect(resolveLike(t, { ...a, like: { mode: '/nowhere' } }, (p) => p)).toBeNull();
    expect(resolveLike(t, a, (p) => p)).toBe(a);
  });
});

describe('applySedSubsts against GNU sed', () => {
  const input = '#PermitRootLogin prohibit-password\n#PasswordAuthentication yes\ncleanup   unix  -       -       y\nflush unix - x\naaa bab\n\xe9t\xe9 \\& $HOME\nno newline at the end';
  const cases: [string, string[]][] = [
    ['s/^#*PermitRootLogin .*/PermitRootLogin yes/', []],
    ['s/^#PasswordAuthentication .*/PasswordAuthentication no/', []],
    ['s/^\\(cleanup[[:space:]]*unix[[:space:]]*\\)-/\\1n/', []],
    ['s/a/<&>/g', []],
    ['s/b$/[\\&\\n]/', []],
    ['s|[^a-z ]|_|g', []],
    ['s/^\\(f[a-z]*\\) \\([a-z]*\\)/\\2 \\1/', []],
    ['s/x*/-/g', []],
    ['s/^\\(.*\\)$/[\\1]/', []],
    ['s/a\\{2\\}/X/', ['-E']],
    ['s/(a+) (b)/\\2\\1/', ['-E']],
    ['s/[.]$/!/;s/ /  /g', []],
    ['/^#/d', []],
    ['/newline/d', []],
    ['s/^#//;/^Pass/d;s/a/A/g', []],
    ['/^[a-z]\\{3\\}/d', []],
    ['/^\\(fl\\|cl\\)/d', []],
  ];
  it.each(cases)('%s gives what sed gives (or is refused)', (script, opts) => {
    const ere = opts.includes('-E');
    const sc = readSedScript(script, ere);
    if (typeof sc === 'string' || typeof sc.substs === 'string') {
      // refused scripts are the ones with a construct weld does not translate
      expect(script).toMatch(/\\\{|\\\|/);
      return;
    }
    const want = execFileSync('sed', [...opts, '-e', script], { input: Buffer.from(input, 'latin1'), env: { LC_ALL: 'C' } });
    const got = applySedSubsts(Buffer.from(input, 'latin1'), sc.substs as SedEdit[]);
    expect(Buffer.from(got).toString('latin1')).toBe(want.toString('latin1'));
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
