/**
 * Service enablement against the real tool: bookworm's deb-systemd-helper
 * (init-system-helpers, this machine's /usr/bin/deb-systemd-helper, which
 * honours DPKG_ROOT) runs the dh_installsystemd sections of real packages'
 * postinst on their unpacked unit files, once without systemctl in the root
 * (it links units itself) and once with systemd unpacked there (it runs
 * `systemctl --root preset --preset-mode=enable-only`). weld classifies the
 * same sections and links the same files; the symlinks under /etc/systemd must agree.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/model.js';
import { classifyScriptlet } from '../src/importer/scriptlets/index.js';
import { applyServices } from '../src/linker/actions/services.js';
import { ROOT, has, run, treeOf } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
// ssh.socket ships disabled (--no-enable); avahi-daemon.service has Also= and Alias=; rsyslog Alias=syslog.service
const PACKAGES = ['openssh-server', 'cron', 'rsyslog', 'systemd-timesyncd', 'avahi-daemon', 'apt', 'e2fsprogs', 'dbus'];
const canRun = has('dpkg-deb') && has('apt-get') && fs.existsSync('/usr/bin/deb-systemd-helper') && has('systemctl') && process.getuid?.() === 0;

const debFile = (pkg: string) => path.join(DEBS, fs.readdirSync(DEBS).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))!);

/** the postinst's dh_installsystemd sections, as debhelper 13 writes them */
function dhSections(postinst: string): string {
  const out: string[] = [];
  const re = /# Automatically added by dh_installsystemd\/[^\n]*\n([\s\S]*?)# End automatically added section/g;
  for (let m = re.exec(postinst); m; m = re.exec(postinst)) out.push(m[1]!);
  return out.join('');
}

function links(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = path.join(root, rel);
    if (!fs.existsSync(full)) return;
    for (const name of fs.readdirSync(full).sort()) {
      const p = `${rel}/${name}`;
      const st = fs.lstatSync(path.join(root, p));
      if (st.isSymbolicLink()) out.push(`${p} -> ${fs.readlinkSync(path.join(root, p))}`);
      else if (st.isDirectory()) walk(p);
    }
  };
  walk('/etc/systemd');
  return out;
}


describe.skipIf(!canRun)('service enablement against the real deb-systemd-helper', () => {
  let work: string;
  const scripts = new Map<string, string>();
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-dsh-'));
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...PACKAGES, 'systemd']);
    for (const p of PACKAGES) {
      const ctl = path.join(work, `ctl-${p}`);
      run('dpkg-deb', ['-e', debFile(p), ctl]);
      scripts.set(p, dhSections(fs.readFileSync(path.join(ctl, 'postinst'), 'utf8')));
    }
    // deb-systemd-invoke and a running system's systemctl calls do nothing; systemctl --root is the real one
    const shim = path.join(work, 'shim');
    fs.mkdirSync(shim);
    fs.writeFileSync(path.join(shim, 'deb-systemd-invoke'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(path.join(shim, 'systemctl'), '#!/bin/sh\ncase "$*" in *--root=*) exec /usr/bin/systemctl "$@";; esac\nexit 0\n', { mode: 0o755 });
  }, 300_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const withSystemd of [false, true]) {
    it(`links what deb-systemd-helper links ${withSystemd ? 'through systemctl preset' : 'by itself'}`, () => {
      const root = path.join(work, withSystemd ? 'root-systemd' : 'root');
      fs.mkdirSync(root);
      for (const p of [...PACKAGES, ...(withSystemd ? ['systemd'] : [])]) run('dpkg-deb', ['-x', debFile(p), root]);
      const tree = treeOf(root);
      const requests: Extract<Action, { kind: 'service' }>[] = [];
      for (const p of PACKAGES) {
        const body = scripts.get(p)!;
        if (!body) continue;
        const r = spawnSync('sh', ['-e', '-c', body, 'postinst', 'configure', ''], {
          env: { ...process.env, DPKG_ROOT: root, DPKG_MAINTSCRIPT_PACKAGE: p, DPKG_MAINTSCRIPT_NAME: 'postinst', PATH: `${path.join(work, 'shim')}:${process.env.PATH}` },
        });
        expect(r.status, `${p}: ${r.stderr.toString()}`).toBe(0);
        for (const a of classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body: `#!/bin/sh\nset -e\n${body}` })) if (a.kind === 'service') requests.push(a);
      }
      const real = links(root);
      applyServices(tree, requests, (p) => {
        const n = tree.get(p);
        return n?.data ? Buffer.from(n.data).toString('utf8') : undefined;
      });
      const ours = [...tree.nodes].filter(([p, n]) => n.type === 'symlink' && p.startsWith('/etc/systemd/')).map(([p, n]) => `${p} -> ${n.target}`).sort();
      expect(ours).toEqual(real);
      expect(real).toContain('/etc/systemd/system/multi-user.target.wants/ssh.service -> /lib/systemd/system/ssh.service');
      expect(real.some((l) => l.includes('ssh.socket'))).toBe(false);
      // Also= brings the socket along, Alias= names the bus name
      expect(real).toContain('/etc/systemd/system/sockets.target.wants/avahi-daemon.socket -> /lib/systemd/system/avahi-daemon.socket');
      expect(real).toContain('/etc/systemd/system/dbus-org.freedesktop.Avahi.service -> /lib/systemd/system/avahi-daemon.service');
    });
  }
});
