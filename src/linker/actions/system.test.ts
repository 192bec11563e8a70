import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { encodeCaps } from '../../formats/caps/caps.js';
import { LinkTree, modeOf } from '../tree.js';
import { applyCaps, applyDiversions, applyPostconf, applyUsermod, postconfEdit, type SystemResult } from './system.js';

const has = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const fresh = (): SystemResult => ({ caps: [], diversions: [], renamed: [], postconf: [], usermod: [], skipped: [] });
const step = <A>(a: A, pkg = 'p', phase = 'postinst') => ({ pkg, phase, a });

function tree(): LinkTree {
  const t = new LinkTree(1000);
  for (const d of ['/etc', '/etc/postfix', '/usr', '/usr/bin', '/usr/share', '/usr/share/man', '/usr/share/man/man1']) t.mkdir(d, 'pkg');
  t.symlink('/bin', 'usr/bin', 'usr-is-merged');
  t.set({ path: '/usr/bin/ip', type: 'file', mode: modeOf('file', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: 7, size: 3, object: 'aa'.repeat(32), origin: 'iproute2-6.1.0-3.amd64' });
  t.symlink('/usr/bin/sh', 'dash', 'dash-0.5.12-2.amd64');
  t.writeFile('/usr/share/man/man1/old.1.gz', 'x', 'other-1.0.all');
  return t;
}

describe('setcap', () => {
  it('sets and clears security.capability on the file a path resolves to', () => {
    const t = tree();
    const r = fresh();
    applyCaps(t, [step<Extract<Action, { kind: 'caps' }>>({ kind: 'caps', path: '/bin/ip', caps: 'cap_net_admin=ep' })], (p) => p, r);
    expect(t.get('/usr/bin/ip')!.caps).toBe('cap_net_admin=ep');
    // iproute2's postinst walked with an unknown debconf answer: set, then `setcap -r` (the default answer's branch) last
    applyCaps(t, [step<Extract<Action, { kind: 'caps' }>>({ kind: 'caps', path: '/bin/ip', caps: '' })], (p) => p, r);
    expect(t.get('/usr/bin/ip')!.caps).toBeUndefined();
    applyCaps(t, [step<Extract<Action, { kind: 'caps' }>>({ kind: 'caps', path: '/usr/bin/none', caps: 'cap_net_raw=ep' })], (p) => p, r);
    expect(r.skipped.map((s) => s.reason)).toEqual(['setcap of a path nothing ships or makes']);
  });

  // the oracle: the xattr real setcap writes on a scratch file (needs root and a file system with xattrs)
  it.skipIf(!has('setcap') || !has('getfattr') || process.getuid?.() !== 0).each([
    'cap_dac_override,cap_sys_admin,cap_net_admin=ep',
    'cap_net_raw+ep',
    'cap_net_bind_service=+ep',
    'cap_sys_nice,cap_ipc_lock=eip',
    'cap_setuid,cap_setgid=p',
  ])('the xattr of %s equals what setcap writes', (caps) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-setcap-'));
    try {
      const f = path.join(dir, 'f');
      fs.writeFileSync(f, 'x');
      const s = spawnSync('setcap', [caps, f], { encoding: 'utf8' });
      expect(s.status, s.stderr).toBe(0);
      const g = spawnSync('getfattr', ['--absolute-names', '--only-values', '-n', 'security.capability', f]);
      expect(g.status, g.stderr.toString()).toBe(0);
      expect(Buffer.from(encodeCaps(caps)).toString('hex')).toBe(g.stdout.toString('hex'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dpkg-divert', () => {
  type D = Extract<Action, { kind: 'divert' }>;
  it("dash's diversion of /bin/sh with --no-rename leaves the files as they are", () => {
    const t = tree();
    const r = fresh();
    applyDiversions(t, [
      step<D>({ kind: 'divert', op: 'remove', path: '/bin/sh', rename: false, package: 'bash' }, 'dash-0.5.12-2.amd64'),
      step<D>({ kind: 'divert', op: 'add', path: '/bin/sh', divert: '/bin/sh.distrib', rename: false, package: 'dash' }, 'dash-0.5.12-2.amd64'),
    ], (p) => p, r);
    expect(r.diversions).toEqual([{ path: '/bin/sh', divert: '/bin/sh.distrib', package: 'dash' }]);
    expect(t.get('/usr/bin/sh')!.target).toBe('dash');
    expect(t.get('/usr/bin/sh.distrib')).toBeUndefined();
    expect(r.renamed).toEqual([]);
  });

  it('--rename moves another package\'s file to the divert name, and --remove --rename moves it back', () => {
    const t = tree();
    const r = fresh();
    const add = step<D>({ kind: 'divert', op: 'add', path: '/usr/share/man/man1/old.1.gz', divert: '/usr/share/man/man1/old.real.1.gz', rename: true, package: 'p' });
    applyDiversions(t, [add], (p) => p, r);
    expect(t.get('/usr/share/man/man1/old.1.gz')).toBeUndefined();
    expect(t.get('/usr/share/man/man1/old.real.1.gz')!.origin).toBe('other-1.0.all');
    const t2 = tree();
    applyDiversions(t2, [add, step<D>({ kind: 'divert', op: 'remove', path: '/usr/share/man/man1/old.1.gz', divert: '/usr/share/man/man1/old.real.1.gz', rename: true, package: 'p' })], (p) => p, r);
    expect(t2.get('/usr/share/man/man1/old.1.gz')!.origin).toBe('other-1.0.all');
    expect(t2.get('/usr/share/man/man1/old.real.1.gz')).toBeUndefined();
  });

  it('a guarded diversion whose test the shipped tree answers no is not made', () => {
    const t = tree();
    const r = fresh();
    const when = [{ test: '-d' as const, path: '/usr/share/man/man8', negate: false }];
    applyDiversions(t, [step<D>({ kind: 'divert', op: 'add', path: '/usr/share/man/man8/x.8.gz', divert: '/usr/share/man/man8/x.distrib.8.gz', rename: false, package: 'dash', when })], (p) => p, r, (w) => !w?.some((g) => g.path === '/usr/share/man/man8'));
    expect(r.diversions).toEqual([]);
  });

  it("a --remove of a diversion no script added (postfix's old smtpd.8.gz) finds none", () => {
    const t = tree();
    const r = fresh();
    applyDiversions(t, [step<D>({ kind: 'divert', op: 'remove', path: '/usr/share/man/man1/old.1.gz', divert: '/usr/share/man/man1/x.1.gz', rename: true, package: 'postfix' })], (p) => p, r);
    expect(t.get('/usr/share/man/man1/old.1.gz')).toBeDefined();
    expect(r).toEqual(fresh());
  });
});

describe('postconf -e', () => {
  const MAIN = '# comment\nmyhostname = old\n  continued old\nrelayhost =\n\nsmtpd_banner = $myhostname ESMTP\n';
  const SETTINGS: [string, string][] = [['myhostname', 'new.example'], ['newkey', 'a b'], ['relayhost', 'x']];
  const WANT = '# comment\nmyhostname = new.example\nrelayhost = x\n\nsmtpd_banner = $myhostname ESMTP\nnewkey = a b\n';

  it('replaces the key\'s line and its continuation, appends new keys', () => {
    expect(postconfEdit(MAIN, SETTINGS)).toBe(WANT);
    const t = tree();
    t.writeFile('/etc/postfix/main.cf', MAIN, 'action:copy');
    const r = fresh();
    applyPostconf(t, [step({ kind: 'postconf' as const, dir: '/etc/postfix', settings: SETTINGS })], (p) => p, (p) => Buffer.from(t.get(p)!.data!).toString(), r);
    expect(Buffer.from(t.get('/etc/postfix/main.cf')!.data!).toString()).toBe(WANT);
    expect(r.postconf).toEqual([{ path: '/etc/postfix/main.cf', keys: ['myhostname', 'newkey', 'relayhost'] }]);
    applyPostconf(t, [step({ kind: 'postconf' as const, dir: '/etc/none', settings: SETTINGS })], (p) => p, () => undefined, r);
    expect(r.skipped.map((s) => s.path)).toEqual(['/etc/none/main.cf']);
    // nothing from a script with opaque steps
    applyPostconf(t, [step({ kind: 'postconf' as const, dir: '/etc/postfix', settings: [['relayhost', 'y']] })], (p) => p, (p) => Buffer.from(t.get(p)!.data!).toString(), r, new Set(['p\0postinst']));
    expect(Buffer.from(t.get('/etc/postfix/main.cf')!.data!).toString()).toBe(WANT);
  });

  // the oracle: postfix's own postconf, from the .deb the installer tests cache, when it is there
  const deb = (() => {
    const dirs = [path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'weld-tests/installer/debs'), path.resolve('fixtures/.cache/deb')];
    for (const d of dirs) {
      const f = fs.existsSync(d) ? fs.readdirSync(d).find((n) => /^postfix_.*_amd64\.deb$/.test(n)) : undefined;
      if (f) return path.join(d, f);
    }
    return undefined;
  })();
  it.skipIf(!deb || !has('dpkg-deb'))('gives what postfix\'s postconf -e writes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-postconf-'));
    try {
      expect(spawnSync('dpkg-deb', ['-x', deb!, path.join(dir, 'pf')]).status).toBe(0);
      fs.mkdirSync(path.join(dir, 'cf'));
      fs.writeFileSync(path.join(dir, 'cf/main.cf'), MAIN);
      const r = spawnSync(path.join(dir, 'pf/usr/sbin/postconf'), ['-c', path.join(dir, 'cf'), '-e', ...SETTINGS.map(([k, v]) => `${k}=${v}`)], { env: { LD_LIBRARY_PATH: path.join(dir, 'pf/usr/lib/postfix') }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'cf/main.cf'), 'utf8')).toBe(postconfEdit(MAIN, SETTINGS));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('usermod -g', () => {
  it("changes the user's primary group in /etc/passwd; a missing group is skipped, not guessed", () => {
    const t = tree();
    t.writeFile('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\npostfix:x:101:65534::/var/spool/postfix:/usr/sbin/nologin\n', 'action:users');
    const accounts = { passwd: [['root', 'x', '0', '0', 'root', '/root', '/bin/bash'], ['postfix', 'x', '101', '65534', '', '/var/spool/postfix', '/usr/sbin/nologin']], gidOf: new Map([['root', 0], ['postfix', 104]]) };
    const r = fresh();
    applyUsermod(t, [step({ kind: 'usermod' as const, name: 'postfix', group: 'postfix' }), step({ kind: 'usermod' as const, name: 'postfix', group: 'nope' })], accounts, r);
    expect(Buffer.from(t.get('/etc/passwd')!.data!).toString()).toBe('root:x:0:0:root:/root:/bin/bash\npostfix:x:101:104::/var/spool/postfix:/usr/sbin/nologin\n');
    expect(r.usermod).toEqual([{ name: 'postfix', group: 'postfix' }]);
    expect(r.skipped.map((s) => s.reason)).toEqual(['usermod -g nope postfix: no group nope']);
  });
});
