/**
 * The scriptlet classifier over real maintainer scripts: Debian bookworm's
 * minbase set (what `debootstrap --variant=minbase --print-debs bookworm`
 * listed on this machine) plus a few service-bearing packages, extracted with
 * dpkg-deb; and the rpm corpus, with scripts read by rpm itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/model.js';
import { classifyScriptlet, formatTally, parseSysusers, tally, type ClassifiedScriptlet } from '../src/importer/scriptlets/index.js';
import { CORPUS, ROOT, has, hasCorpus, run } from './helpers/tools.js';

// debootstrap 1.0.128 --variant=minbase --print-debs bookworm (88 packages)
const MINBASE = `adduser apt base-files base-passwd bash bsdutils coreutils dash debconf debian-archive-keyring debianutils
diffutils dpkg e2fsprogs findutils gcc-12-base gpgv grep gzip hostname init-system-helpers libacl1 libapt-pkg6.0 libattr1
libaudit-common libaudit1 libblkid1 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcom-err2 libcrypt1 libdb5.3
libdebconfclient0 libext2fs2 libffi8 libgcc-s1 libgcrypt20 libgmp10 libgnutls30 libgpg-error0 libhogweed6 libidn2-0
liblz4-1 liblzma5 libmd0 libmount1 libnettle8 libp11-kit0 libpam-modules libpam-modules-bin libpam-runtime libpam0g
libpcre2-8-0 libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libss2 libstdc++6
libsystemd0 libtasn1-6 libtinfo6 libudev1 libunistring2 libuuid1 libxxhash0 libzstd1 login logsave mawk mount
ncurses-base ncurses-bin passwd perl-base sed sysvinit-utils tar tzdata usr-is-merged util-linux util-linux-extra zlib1g`.split(/\s+/);
const SERVICES = ['systemd', 'openssh-server', 'cron', 'dbus', 'udev'];
const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
const PHASES = ['preinst', 'postinst', 'prerm', 'postrm', 'config', 'triggers'];

interface DebScripts {
  pkg: string;
  deb: string;
  scripts: { phase: string; body: string }[];
}

const canRun = has('dpkg-deb') && has('apt-get');
const debs = new Map<string, DebScripts>();
const classified: ClassifiedScriptlet[] = [];
let work = '';

function debFile(pkg: string): string {
  const f = readdirSync(DEB_DIR).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
  if (!f) throw new Error(`no .deb for ${pkg} in ${DEB_DIR}`);
  return path.join(DEB_DIR, f);
}

function actionsOf(pkg: string, phase: string): Action[] {
  const c = classified.find((s) => s.package === pkg && s.phase === phase);
  if (!c) throw new Error(`${pkg} has no ${phase}`);
  return c.actions;
}

/** the package's own sysusers.d files: systemd-sysusers reads them, so the importer must */
function packagedSysusers(pkg: string): Action[] {
  const list = run('dpkg-deb', ['--fsys-tarfile', debs.get(pkg)!.deb]).stdout;
  const names = run('tar', ['-t'], { input: list }).stdout.toString().split('\n').filter((n) => /\/sysusers\.d\/[^/]+\.conf$/.test(n));
  return names.flatMap((n) => parseSysusers(run('tar', ['-x', '-O', n], { input: list }).stdout.toString(), n));
}

describe.skipIf(!canRun)('scriptlets of Debian bookworm minbase and service packages', () => {
  beforeAll(() => {
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...MINBASE, ...SERVICES]);
    work = mkdtempSync(path.join(tmpdir(), 'weld-ctl-'));
    for (const pkg of [...MINBASE, ...SERVICES]) {
      const deb = debFile(pkg);
      const dir = path.join(work, pkg);
      run('dpkg-deb', ['-e', deb, dir]);
      const scripts = PHASES.filter((p) => existsSync(path.join(dir, p))).map((phase) => ({ phase, body: readFileSync(path.join(dir, phase), 'utf8') }));
      debs.set(pkg, { pkg, deb, scripts });
    }
    const t0 = performance.now();
    let n = 0;
    for (const d of debs.values())
      for (const s of d.scripts) {
        classified.push({ package: d.pkg, phase: s.phase, actions: classifyScriptlet({ format: 'deb', phase: s.phase, interpreter: '', body: s.body }) });
        n++;
      }
    const ms = performance.now() - t0;
    console.log(`classified ${n} deb scriptlets in ${ms.toFixed(0)} ms`);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('classifies every scriptlet, and every non-empty script yields something', () => {
    expect(classified.length).toBeGreaterThan(100);
    for (const d of debs.values())
      for (const s of d.scripts) {
        const meaningful = s.body.split('\n').some((l) => l.trim() && !l.trim().startsWith('#'));
        if (meaningful) expect(actionsOf(d.pkg, s.phase).length, `${d.pkg} ${s.phase}`).toBeGreaterThan(0);
      }
  });

  it('finds user and group creation with the right names', () => {
    expect(actionsOf('passwd', 'postinst')).toContainEqual({ kind: 'group', name: 'shadow', gid: 42, system: false, tool: 'useradd' });
    expect(actionsOf('openssh-server', 'postinst')).toContainEqual(expect.objectContaining({ kind: 'user', name: 'sshd', system: true, home: '/run/sshd' }));
    // systemd's postinst hands its sysusers.d files to systemd-sysusers
    expect(actionsOf('systemd', 'postinst')).toContainEqual(expect.objectContaining({ kind: 'noop', what: expect.stringContaining('systemd-sysusers basic.conf systemd-journal.conf systemd-network.conf') }));
    const sys = packagedSysusers('systemd');
    expect(sys).toContainEqual(expect.objectContaining({ kind: 'group', name: 'systemd-journal', system: true }));
    expect(sys).toContainEqual(expect.objectContaining({ kind: 'user', name: 'systemd-network', system: true }));
    expect(actionsOf('udev', 'postinst')).toContainEqual({ kind: 'group', name: 'kvm', system: true, tool: 'adduser' });
  });

  it('finds ldconfig in libc-bin and in the ldconfig triggers of libraries', () => {
    expect(actionsOf('libc-bin', 'postinst')).toContainEqual({ kind: 'ldconfig' });
    const libs = classified.filter((s) => s.phase === 'triggers' && s.actions.some((a) => a.kind === 'ldconfig'));
    expect(libs.length).toBeGreaterThan(30);
    expect(libs.map((s) => s.package)).toContain('libc6');
  });

  it('finds service enablement', () => {
    // deb-systemd-helper enable: a preset on a first install
    expect(actionsOf('cron', 'postinst')).toContainEqual({ kind: 'service', op: 'preset', units: ['cron.service'] });
    expect(actionsOf('openssh-server', 'postinst')).toContainEqual({ kind: 'service', op: 'preset', units: ['ssh.service'] });
    // ssh.socket ships disabled: its block runs only when deb-systemd-helper already knows it
    expect(actionsOf('openssh-server', 'postinst').filter((a) => a.kind === 'service' && a.units.includes('ssh.socket'))).toEqual([]);
    expect(actionsOf('systemd', 'postinst')).toContainEqual({ kind: 'service', op: 'enable', units: ['getty@tty1.service'] });
    expect(actionsOf('cron', 'postrm')).toContainEqual({ kind: 'service', op: 'disable', units: ['cron.service'] });
  });

  it('finds update-alternatives', () => {
    expect(actionsOf('mawk', 'postinst')).toContainEqual(expect.objectContaining({ kind: 'alternative', link: '/usr/bin/awk', name: 'awk', path: '/usr/bin/mawk', priority: 5 }));
    const alts = classified.flatMap((s) => s.actions.filter((a) => a.kind === 'alternative').map((a) => `${s.package}:${(a as { name: string }).name}`));
    expect(alts).toEqual(expect.arrayContaining(['mawk:awk', 'tar:rmt', 'util-linux:pager']));
  });

  it('finds tmpfiles and caches', () => {
    expect(actionsOf('passwd', 'postinst')).toContainEqual({ kind: 'tmpfiles', configs: ['passwd.conf'] });
    expect(actionsOf('systemd', 'postinst')).toContainEqual({ kind: 'generate', generator: 'journal-catalog', tool: 'journalctl', args: ['--update-catalog'], inputs: ['/usr/local/lib/systemd/catalog', '/usr/lib/systemd/catalog'], outputs: ['/var/lib/systemd/catalog/database'] });
  });

  it('keeps opaque scriptlets in minbase few, each with a reason', () => {
    const minbase = classified.filter((s) => MINBASE.includes(s.package));
    const t = tally(minbase);
    console.log(formatTally(tally(classified)));
    for (const o of t.opaque) expect(o.reason).toMatch(/\S/);
    // 136 minbase scriptlets; what stays opaque is real file surgery (ln, cp, dpkg-divert, statoverride)
    expect(t.opaqueScriptlets).toBeLessThanOrEqual(20);
  });
});

/** one rpm call per package: every script with its interpreter, between markers */
const RPM_PHASES: [string, string][] = [
  ['pretrans', 'PRETRANS'],
  ['pre', 'PREIN'],
  ['post', 'POSTIN'],
  ['preun', 'PREUN'],
  ['postun', 'POSTUN'],
  ['posttrans', 'POSTTRANS'],
  ['verify', 'VERIFYSCRIPT'],
];
const QF = RPM_PHASES.map(([p, tag]) => `@@@${p}@@@%{${tag}PROG}@@@%{${tag}}`).join('');

function rpmScripts(file: string): { phase: string; interpreter: string; body: string }[] {
  const r = run('rpm', ['-qp', '--nosignature', '--qf', QF, file], { allowFail: true });
  if (r.status !== 0) return [];
  const parts = r.stdout.toString().split('@@@').slice(1);
  const out: { phase: string; interpreter: string; body: string }[] = [];
  for (let i = 0; i + 2 < parts.length; i += 3) {
    const [phase, prog, body] = [parts[i]!, parts[i + 1]!, parts[i + 2]!];
    if (prog === '(none)' && body === '(none)') continue;
    out.push({ phase, interpreter: prog === '(none)' ? '/bin/sh' : prog, body: body === '(none)' ? '' : body });
  }
  return out;
}

describe.skipIf(!hasCorpus || !has('rpm'))('scriptlets of the rpm corpus', () => {
  const results = new Map<string, ClassifiedScriptlet[]>();
  beforeAll(() => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name.endsWith('.rpm')) files.push(path.join(d, e.name));
      }
    };
    walk(CORPUS);
    for (const f of files) {
      results.set(
        path.basename(f),
        rpmScripts(f).map((s) => ({ package: path.basename(f), phase: s.phase, actions: classifyScriptlet({ format: 'rpm', ...s }) })),
      );
    }
  }, 300_000);

  const get = (name: string, phase: string): Action[] => {
    const r = [...results.entries()].find(([k]) => k.includes(name));
    const s = r?.[1].find((x) => x.phase === phase);
    if (!s) throw new Error(`no ${phase} in ${name}`);
    return s.actions;
  };

  it('classifies every script without crashing', () => {
    const all = [...results.values()].flat();
    expect(all.length).toBeGreaterThan(20);
    console.log(formatTally(tally(all)));
  });

  it('recognises users, services, ldconfig and alternatives', () => {
    expect(get('ngircd', 'pre')).toEqual(
      expect.arrayContaining([
        { kind: 'group', name: 'ngircd', system: true, tool: 'useradd' },
        { kind: 'user', name: 'ngircd', system: true, group: 'ngircd', home: '/tmp/', shell: '/sbin/nologin', comment: 'Next Generation IRC Daemon', tool: 'useradd' },
      ]),
    );
    expect(get('ngircd', 'post')).toContainEqual({ kind: 'service', op: 'preset', units: ['ngircd.service'] });
    expect(get('ngircd', 'preun')).toContainEqual({ kind: 'service', op: 'disable', units: ['ngircd.service'] });
    expect(get('libtest1', 'post')).toEqual([{ kind: 'ldconfig' }]);
    expect(get('alternatives-ok', 'post')).toContainEqual({ kind: 'alternative', link: '/usr/bin/alternative-ok', name: 'alternative-ok', path: '/usr/bin/alternator', priority: 99 });
  });

  it('reports what it cannot read as opaque with a reason', () => {
    expect(get('luafork-1.0-1.noarch', 'pre').filter((a) => a.kind === 'opaque').length).toBeGreaterThan(0);
    expect(get('mc-4.8.15', 'post')).toContainEqual(expect.objectContaining({ kind: 'opaque', reason: expect.stringContaining('unknown command "chkstat"') }));
  });
});
