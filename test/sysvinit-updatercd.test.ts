/**
 * sysvinit links against the real tool: bookworm's update-rc.d (the perl
 * script in init-system-helpers, run with this machine's perl, DPKG_ROOT set
 * to a scratch root; no insserv) runs the update-rc.d steps weld classifies
 * in real packages' postinst, on their unpacked init scripts. Its toggles read
 * the LSB header from /etc/init.d whatever DPKG_ROOT says, so they run in a
 * private mount namespace with the scratch root's init.d bound there. weld's
 * applyRcLinks on the same tree must make the same /etc/rcN.d links.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/model.js';
import { classifyScriptlet } from '../src/importer/scriptlets/index.js';
import { applyRcLinks } from '../src/linker/actions/sysvinit.js';
import { LinkTree } from '../src/linker/tree.js';
import { ROOT, has, run } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
// apache2: defaults for two scripts, then `disable` of apache-htcacheclean; procps: `remove` of an old name;
// dbus: no Default-Stop; util-linux-extra: hwclock.sh in rcS
const PACKAGES = ['cron', 'dbus', 'openssh-server', 'procps', 'util-linux-extra', 'apache2', 'sudo'];
const canRun = has('dpkg-deb') && has('apt-get') && has('perl') && has('unshare') && fs.existsSync('/etc/init.d') && process.getuid?.() === 0;
const debFile = (pkg: string) => path.join(DEBS, fs.readdirSync(DEBS).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))!);

function rcLinks(root: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(path.join(root, 'etc')).filter((n) => /^rc[0-6S]\.d$/.test(n)).sort()) {
    for (const n of fs.readdirSync(path.join(root, 'etc', d)).sort()) out.push(`/etc/${d}/${n} -> ${fs.readlinkSync(path.join(root, 'etc', d, n))}`);
  }
  return out;
}

describe.skipIf(!canRun)('sysvinit links against the real update-rc.d', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-rc-'));
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...PACKAGES, 'init-system-helpers']);
    run('dpkg-deb', ['-x', debFile('init-system-helpers'), path.join(work, 'ish')]);
  }, 300_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('makes the links update-rc.d makes, for the steps the postinsts run', () => {
    const root = path.join(work, 'root');
    fs.mkdirSync(root);
    for (const p of PACKAGES) run('dpkg-deb', ['-x', debFile(p), root]);
    const steps: Extract<Action, { kind: 'rclinks' }>[] = [];
    for (const p of PACKAGES) {
      const ctl = path.join(work, `ctl-${p}`);
      run('dpkg-deb', ['-e', debFile(p), ctl]);
      const body = fs.readFileSync(path.join(ctl, 'postinst'), 'utf8');
      for (const a of classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body })) if (a.kind === 'rclinks') steps.push(a);
    }
    expect(steps.map((s) => `${s.op} ${s.script}`)).toEqual([
      'defaults cron', 'defaults dbus', 'defaults ssh', 'remove procps.sh', 'defaults procps', 'defaults hwclock.sh',
      'defaults apache2', 'defaults apache-htcacheclean', 'disable apache-htcacheclean', 'defaults sudo',
    ]);
    // the tree weld links, before the steps: the unpacked files
    const tree = new LinkTree(0);
    for (const n of fs.readdirSync(path.join(root, 'etc/init.d'))) tree.writeFile(`/etc/init.d/${n}`, fs.readFileSync(path.join(root, 'etc/init.d', n)), 'test', 0o755);
    // the real tool, step by step; its systemd half (systemctl disable) is not under test here
    const shim = path.join(work, 'shim');
    fs.mkdirSync(shim);
    fs.writeFileSync(path.join(shim, 'systemctl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const cmds = steps.map((s) => ['perl', path.join(work, 'ish/usr/sbin/update-rc.d'), s.script, s.op, ...(s.levels ?? [])].map((x) => `'${x}'`).join(' '));
    run('unshare', ['-m', 'sh', '-e', '-c', `mount --make-rprivate / && mount --bind '${root}/etc/init.d' /etc/init.d && ${cmds.join(' && ')}`], {
      env: { ...process.env, DPKG_ROOT: root, PATH: `${shim}:${process.env.PATH}` },
    });
    const real = rcLinks(root);
    const r = applyRcLinks(tree, steps, (p) => {
      const n = tree.get(p);
      return n?.data ? Buffer.from(n.data).toString('utf8') : undefined;
    });
    const ours = [...tree.nodes].filter(([p, n]) => n.type === 'symlink' && /^\/etc\/rc[0-6S]\.d\//.test(p)).map(([p, n]) => `${p} -> ${n.target}`).sort();
    expect(ours).toEqual(real);
    expect(r.skipped).toEqual([]);
    expect(real).toContain('/etc/rc2.d/S01cron -> ../init.d/cron');
    expect(real).toContain('/etc/rcS.d/S01hwclock.sh -> ../init.d/hwclock.sh');
    // disabled after its defaults: K in the start levels
    expect(real).toContain('/etc/rc2.d/K01apache-htcacheclean -> ../init.d/apache-htcacheclean');
    expect(real.some((l) => l.includes('S01apache-htcacheclean'))).toBe(false);
  });

  it('leaves a script that has links alone, and skips what the tool would fail on', () => {
    const tree = new LinkTree(0);
    tree.writeFile('/etc/init.d/foo', '### BEGIN INIT INFO\n# Default-Start: 2 3 4 5\n# Default-Stop: 0 1 6\n### END INIT INFO\n', 'test', 0o755);
    tree.writeFile('/etc/init.d/nostart', '### BEGIN INIT INFO\n# Default-Start:\n# Default-Stop: 0 6\n### END INIT INFO\n', 'test', 0o755);
    tree.symlink('/etc/rc3.d/K20foo', '../init.d/foo', 'test');
    const read = (p: string) => (tree.get(p)?.data ? Buffer.from(tree.get(p)!.data!).toString('utf8') : undefined);
    const r = applyRcLinks(tree, [
      { kind: 'rclinks', op: 'defaults', script: 'foo' },
      { kind: 'rclinks', op: 'defaults', script: 'absent' },
      { kind: 'rclinks', op: 'disable', script: 'nostart' },
      { kind: 'rclinks', op: 'enable', script: 'foo', levels: ['3'] },
    ], read);
    expect([...tree.nodes.keys()].filter((p) => p.startsWith('/etc/rc')).sort()).toEqual(['/etc/rc3.d', '/etc/rc3.d/S20foo']);
    expect(r.skipped.map((s) => `${s.op} ${s.script}: ${s.reason}`)).toEqual([
      'defaults absent: no /etc/init.d/absent',
      'disable nostart: Default-Start contains no runlevels',
    ]);
  });
});
