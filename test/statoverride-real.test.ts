/**
 * Owners and modes against the real tools: mmdebstrap installs Debian
 * bookworm's minbase plus cron, dbus, openssh-client and sudo from a local
 * mirror of the same .debs weld imports, running every maintainer script
 * (dpkg-statoverride, chown, chgrp, chmod) for real; weld links the same set
 * without running any. Every path both trees hold must have the same mode and
 * the same owner by name.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, buildMirror } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const MIRROR = path.join(ROOT, 'fixtures/.cache/mirror-statoverride');
const MINBASE = fs
  .readFileSync(path.join(ROOT, 'fixtures/minbase-bookworm.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const TOP = ['apt', 'cron', 'dbus', 'openssh-client', 'sudo'];
// what apt adds to minbase for TOP in bookworm (apt-get install -s with an empty status file, no recommends)
const ADDED = `cron-daemon-common dbus-bin dbus-daemon dbus-session-bus-common dbus-system-bus-common libapparmor1 libbsd0 libcbor0.8
libdbus-1-3 libedit2 libexpat1 libfido2-1 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libssl3 sensible-utils`.split(/\s+/);
const NAMES = [...new Set([...MINBASE, ...TOP, ...ADDED])].sort();

const canRun = ['mmdebstrap', 'apt-ftparchive', 'dpkg-deb'].every(has) && process.getuid?.() === 0 && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

/** package-manager state, and the backups passwd tools leave */
const IGNORED = ['/var/lib/dpkg', '/var/lib/apt', '/var/cache', '/var/log', '/dev', '/proc', '/sys', '/run', '/tmp', '/etc/passwd-', '/etc/group-', '/etc/shadow-', '/etc/gshadow-'];

/** A long child asynchronously: a minute-long spawnSync starves vitest's worker RPC. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    c.on('error', reject);
    c.on('close', (code) => resolve({ status: code ?? -1, stderr }));
  });
}

interface Meta {
  type: string;
  mode: string;
  owner: string;
}

/** every path's type, mode and owner by name (from the tree's own passwd and group) */
function walk(root: string): Map<string, Meta> {
  const ids = (f: string) => new Map(fs.readFileSync(path.join(root, f), 'utf8').split('\n').filter(Boolean).map((l) => [Number(l.split(':')[2]), l.split(':')[0]!]));
  const users = ids('etc/passwd');
  const groups = ids('etc/group');
  const out = new Map<string, Meta>();
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const p = `${rel}/${name}`;
      if (IGNORED.some((i) => p === i || p.startsWith(i + '/'))) continue;
      const st = fs.lstatSync(path.join(root, p));
      const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.set(p, { type, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), owner: `${users.get(st.uid) ?? st.uid}:${groups.get(st.gid) ?? st.gid}` });
      if (st.isDirectory()) visit(p);
    }
  };
  visit('');
  return out;
}

describe.skipIf(!canRun)('owners and modes: weld link against mmdebstrap (minbase + cron, dbus, openssh-client, sudo; scripts run for real)', () => {
  let work = '';
  let installer: Map<string, Meta>;
  let ours: Map<string, Meta>;
  let report: { actions: { statoverrides: { applied: number; skipped: unknown[] } } };
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-statoverride-'));
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...NAMES]);
    const debs = NAMES.map((n) => {
      const f = fs.readdirSync(DEBS).find((x) => x.startsWith(`${n}_`) && x.endsWith('.deb'));
      if (!f) throw new Error(`no .deb for ${n} in ${DEBS}`);
      return path.join(DEBS, f);
    });
    // a copy:// mirror of exactly these .debs (rebuilt when the set changes)
    buildMirror(MIRROR, debs);
    const mm = path.join(work, 'mmdebstrap');
    // a local mirror does not tell mmdebstrap the suite merges /usr: its merged-usr hook says so
    const m = await runAsync('mmdebstrap', ['--variant=minbase', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr', `--include=${TOP.join(',')}`, 'bookworm', mm, `deb [trusted=yes] copy://${MIRROR} bookworm main`]);
    expect(m.status, m.stderr).toBe(0);
    const installed = fs.readFileSync(path.join(mm, 'var/lib/dpkg/status'), 'utf8').match(/^Package: .*$/gm)!.map((l) => l.slice(9)).sort();
    expect(installed).toEqual(NAMES);
    const variant = path.join(work, 'v.toml');
    fs.writeFileSync(variant, `name = "statoverride"\ndescription = "minbase with cron, dbus, openssh-client and sudo"\nformat = "deb"\narch = "amd64"\nmerged-usr = true\npackages = ${JSON.stringify(NAMES)}\n`);
    const store = path.join(work, 'store');
    const main = path.join(ROOT, 'dist/cli/main.js');
    const imp = await runAsync(process.execPath, [main, 'import', '--store', store, ...debs]);
    expect(imp.status, imp.stderr).toBe(0);
    const weld = path.join(work, 'weld');
    const l = await runAsync(process.execPath, [main, 'link', '--store', store, '--variant', variant, '--format', 'dir', '-o', weld, '--report', path.join(work, 'r.json')]);
    expect(l.status, l.stderr).toBe(0);
    report = JSON.parse(fs.readFileSync(path.join(work, 'r.json'), 'utf8'));
    installer = walk(mm);
    ours = walk(weld);
  }, 600_000);
  afterAll(() => (process.env.WELD_KEEP ? console.error(work) : work && fs.rmSync(work, { recursive: true, force: true })));

  it('gives the paths maintainer scripts fix up what the scripts give them', () => {
    const want: Record<string, string> = {
      // cron's postinst: dpkg-statoverride --update --add root crontab 2755
      '/usr/bin/crontab': 'file 2755 root:crontab',
      // openssh-client's postinst: chgrp _ssh, chmod 2755
      '/usr/bin/ssh-agent': 'file 2755 root:_ssh',
      // dbus's postinst: dpkg-statoverride --update --add root messagebus 4754
      '/usr/lib/dbus-1.0/dbus-daemon-launch-helper': 'file 4754 root:messagebus',
      // cron-daemon-common's postinst: chown root:crontab, chmod 1730 under [ -d ]
      '/var/spool/cron/crontabs': 'dir 1730 root:crontab',
      // the .deb ships it 0644; sudo's postinst: chown root:root, chmod 440 under [ -f ]
      '/etc/sudoers': 'file 0440 root:root',
    };
    const show = (t: Map<string, Meta>, p: string) => {
      const e = t.get(p);
      return e ? `${e.type} ${e.mode} ${e.owner}` : 'missing';
    };
    for (const [p, w] of Object.entries(want)) {
      expect(show(installer, p), `installer ${p}`).toBe(w);
      expect(show(ours, p), `weld ${p}`).toBe(w);
    }
    expect(report.actions.statoverrides.skipped).toEqual([]);
    expect(report.actions.statoverrides.applied).toBeGreaterThanOrEqual(Object.keys(want).length);
  });

  it('agrees with the installer on the mode and owner of every path both hold, and misses no setuid, setgid or non-root path', () => {
    const differ: string[] = [];
    for (const [p, e] of installer) {
      const w = ours.get(p);
      if (!w) {
        if (e.type !== 'link' && (Number.parseInt(e.mode, 8) & 0o6000 || e.owner !== 'root:root')) differ.push(`- ${p} ${e.mode} ${e.owner}`);
        continue;
      }
      if (e.type === 'link' && w.type === 'link') continue;
      if (e.type !== w.type || e.mode !== w.mode || e.owner !== w.owner) differ.push(`~ ${p}: installer ${e.type} ${e.mode} ${e.owner}, weld ${w.type} ${w.mode} ${w.owner}`);
    }
    expect(differ).toEqual([]);
    expect(installer.size).toBeGreaterThan(5000);
  });
});
