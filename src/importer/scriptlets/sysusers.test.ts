import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { parseSysusers } from './sysusers.js';
import { parseTmpfiles } from './tmpfiles.js';

const hasTool = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;

/** runs the real systemd-sysusers into an empty root and reads back passwd/group */
function sysusersOracle(conf: string): { passwd: string[][]; group: string[][] } {
  const root = mkdtempSync(path.join(tmpdir(), 'weld-sysusers-'));
  try {
    mkdirSync(path.join(root, 'etc'));
    writeFileSync(path.join(root, 'x.conf'), conf);
    const r = spawnSync('systemd-sysusers', [`--root=${root}`, path.join(root, 'x.conf')]);
    if (r.status !== 0) throw new Error(r.stderr.toString());
    const read = (f: string): string[][] =>
      !existsSync(path.join(root, 'etc', f)) ? [] : readFileSync(path.join(root, 'etc', f), 'utf8').trim().split('\n').map((l) => l.split(':'));
    return { passwd: read('passwd'), group: read('group') };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const SYSUSERS = [
  'u foo 321 "Foo daemon" /var/lib/foo /bin/bash',
  'g bar 555\nu baz -\nm baz bar',
  'g bar 555\nu qux 400:bar "Q" -',
  '# comment\n\nu  spaced   -   "With spaces in gecos"   /home/s',
  'g input - -\ng kvm - -\ng render - -\ng sgx - -',
  "u 'sq' 777 'single quoted'",
];

describe.skipIf(!hasTool('systemd-sysusers'))('parseSysusers against systemd-sysusers', () => {
  for (const conf of SYSUSERS) {
    it(JSON.stringify(conf.slice(0, 40)), () => {
      const acts = parseSysusers(conf, 'x.conf');
      const { passwd, group } = sysusersOracle(conf);
      const users = acts.filter((a): a is Extract<Action, { kind: 'user' }> => a.kind === 'user');
      const groups = acts.filter((a): a is Extract<Action, { kind: 'group' }> => a.kind === 'group');
      expect(users.map((u) => u.name).sort()).toEqual(passwd.map((p) => p[0]).sort());
      expect([...new Set(groups.map((g) => g.name))].sort()).toEqual(group.map((g) => g[0]).sort());
      for (const u of users) {
        const p = passwd.find((x) => x[0] === u.name)!;
        if (u.uid !== undefined) expect(Number(p[2])).toBe(u.uid);
        expect(p[4]).toBe(u.comment ?? '');
        if (u.home !== undefined) expect(p[5]).toBe(u.home);
        if (u.shell !== undefined) expect(p[6]).toBe(u.shell);
        const g = group.find((x) => x[0] === u.group || x[2] === u.group)!;
        expect(p[3]).toBe(g[2]);
      }
      for (const g of groups) {
        const row = group.find((x) => x[0] === g.name)!;
        if (g.gid !== undefined) expect(Number(row[2])).toBe(g.gid);
        for (const m of g.members ?? []) expect(row[3]!.split(',')).toContain(m);
      }
    });
  }

  it('reports what it cannot read, with the place', () => {
    expect(parseSysusers('x foo\nu "open', 'a.conf')).toEqual([
      { kind: 'opaque', text: 'x foo', reason: 'unknown sysusers type "x" at a.conf:1' },
      { kind: 'opaque', text: 'u "open', reason: 'cannot parse sysusers line at a.conf:2' },
    ]);
  });
});

/** runs the real systemd-tmpfiles --create into an empty root */
function tmpfilesOracle(conf: string, paths: string[]): (number | null)[] {
  const root = mkdtempSync(path.join(tmpdir(), 'weld-tmpfiles-'));
  try {
    writeFileSync(path.join(root, 'x.conf'), conf);
    spawnSync('systemd-tmpfiles', [`--root=${root}`, '--create', path.join(root, 'x.conf')]);
    return paths.map((p) => {
      try {
        const st = statSync(path.join(root, p));
        return st.isDirectory() ? st.mode & 0o7777 : null;
      } catch {
        return null;
      }
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe.skipIf(!hasTool('systemd-tmpfiles'))('parseTmpfiles against systemd-tmpfiles', () => {
  const conf = 'd /var/lib/foo 0750 root root -\nD /var/cache/bar 2775 - - -\nd /var/log/baz - - - -\nq /srv/q 0700\n';
  it('directory lines become directory actions with the modes tmpfiles gives', () => {
    const acts = parseTmpfiles(conf).filter((a): a is Extract<Action, { kind: 'directory' }> => a.kind === 'directory');
    expect(acts.map((a) => a.path)).toEqual(['/var/lib/foo', '/var/cache/bar', '/var/log/baz', '/srv/q']);
    const modes = tmpfilesOracle(conf, acts.map((a) => a.path));
    // a directory line without a mode gets 0755 from tmpfiles
    expect(acts.map((a) => a.mode ?? 0o755)).toEqual(modes);
    expect(acts[0]).toEqual({ kind: 'directory', path: '/var/lib/foo', mode: 0o750, user: 'root', group: 'root' });
  });

  it('keeps what it cannot model as tmpfiles lines', () => {
    expect(parseTmpfiles('# x\nd /run/foo 0755 - - -\nd /var/tmp/x 1777 root root 30d\nL /etc/foo - - - - /usr/share/foo\nf /etc/bar 0644\nd /var/lib/ok 0755')).toEqual([
      { kind: 'directory', path: '/var/lib/ok', mode: 0o755 },
      { kind: 'tmpfiles', configs: ['d /run/foo 0755 - - -', 'd /var/tmp/x 1777 root root 30d', 'L /etc/foo - - - - /usr/share/foo', 'f /etc/bar 0644'] },
    ]);
  });
});
