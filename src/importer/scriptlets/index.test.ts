import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet } from './index.js';

const deb = (phase: string, body: string): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '', body });
const rpm = (phase: string, body: string, interpreter = '/bin/sh'): Action[] => classifyScriptlet({ format: 'rpm', phase, interpreter, body });
const real = (as: Action[]): Action[] => as.filter((a) => a.kind !== 'noop');

describe('classifyScriptlet: recognised commands', () => {
  const cases: { name: string; phase?: string; format?: 'rpm' | 'deb'; body: string; want: Action[] }[] = [
    {
      name: 'rpm getent || groupadd / useradd',
      format: 'rpm',
      phase: 'pre',
      body: `getent group ngircd >/dev/null || groupadd -r ngircd\ngetent passwd ngircd >/dev/null || \\\n    useradd -r -g ngircd -d /tmp/ -s /sbin/nologin \\\n    -c "Next Generation IRC Daemon" ngircd\nexit 0\n`,
      want: [
        { kind: 'group', name: 'ngircd', system: true, tool: 'useradd' },
        { kind: 'user', name: 'ngircd', system: true, group: 'ngircd', home: '/tmp/', shell: '/sbin/nologin', comment: 'Next Generation IRC Daemon', tool: 'useradd' },
      ],
    },
    {
      name: 'adduser --system --group',
      body: 'adduser --system --group --home /var/lib/foo --no-create-home --gecos "Foo daemon" foo\n',
      phase: 'postinst',
      want: [
        { kind: 'group', name: 'foo', system: true, tool: 'adduser' },
        { kind: 'user', name: 'foo', system: true, group: 'foo', home: '/var/lib/foo', shell: '/usr/sbin/nologin', comment: 'Foo daemon', tool: 'adduser' },
      ],
    },
    { name: 'addgroup --system', phase: 'postinst', body: 'addgroup --system --quiet kvm', want: [{ kind: 'group', name: 'kvm', system: true, tool: 'adduser' }] },
    { name: 'adduser user group', phase: 'postinst', body: 'adduser --quiet foo dialout', want: [{ kind: 'group', name: 'dialout', members: ['foo'], system: true, tool: 'adduser' }] },
    {
      name: 'usermod -a -G',
      phase: 'postinst',
      body: 'usermod -a -G audio,video pulse',
      want: [
        { kind: 'group', name: 'audio', members: ['pulse'], system: true, tool: 'useradd' },
        { kind: 'group', name: 'video', members: ['pulse'], system: true, tool: 'useradd' },
      ],
    },
    { name: 'groupadd -g', phase: 'postinst', body: 'groupadd -g 42 shadow', want: [{ kind: 'group', name: 'shadow', gid: 42, system: false, tool: 'useradd' }] },
    {
      name: 'sysusers here-document (%sysusers_create_package)',
      format: 'rpm',
      phase: 'pre',
      body: "systemd-sysusers --replace=/usr/lib/sysusers.d/foo.conf - <<SYSTEMD_INLINE_EOF >/dev/null 2>&1 || :\nu foo - \"Foo\" /var/lib/foo\nSYSTEMD_INLINE_EOF\n",
      want: [
        { kind: 'group', name: 'foo', system: true, tool: 'sysusers' },
        { kind: 'user', name: 'foo', system: true, group: 'foo', comment: 'Foo', home: '/var/lib/foo', tool: 'sysusers' },
      ],
    },
    { name: 'ldconfig path', format: 'rpm', phase: 'post', body: '/sbin/ldconfig', want: [{ kind: 'ldconfig' }] },
    { name: 'ldconfig twice counts once', phase: 'postinst', body: 'ldconfig -r "$DPKG_ROOT/" || ldconfig --verbose -r "$DPKG_ROOT/"', want: [{ kind: 'ldconfig' }] },
    {
      name: 'update-alternatives with slaves',
      phase: 'postinst',
      body: `if [ "$1" = "configure" ]; then\n  update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\\n    --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz\nfi\n`,
      want: [{ kind: 'alternative', link: '/usr/bin/awk', name: 'awk', path: '/usr/bin/mawk', priority: 5, slaves: [{ link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' }] }],
    },
    { name: 'rpm alternatives --install', format: 'rpm', phase: 'post', body: 'alternatives --install /usr/bin/ld ld /usr/bin/ld.bfd 50', want: [{ kind: 'alternative', link: '/usr/bin/ld', name: 'ld', path: '/usr/bin/ld.bfd', priority: 50 }] },
    { name: 'update-alternatives --remove is a noop', format: 'rpm', phase: 'postun', body: 'update-alternatives --remove ld /usr/bin/ld.bfd', want: [] },
    {
      name: '%systemd_post (old form)',
      format: 'rpm',
      phase: 'post',
      body: 'if [ $1 -eq 1 ] ; then\n        # Initial installation\n        systemctl --no-reload preset foo.service &>/dev/null || :\nfi\n',
      want: [{ kind: 'service', op: 'preset', units: ['foo.service'] }],
    },
    {
      name: '%systemd_post (update helper)',
      format: 'rpm',
      phase: 'post',
      body: 'if [ $1 -eq 1 ] && [ -x "/usr/lib/systemd/systemd-update-helper" ]; then\n    /usr/lib/systemd/systemd-update-helper install-system-units foo.service || :\nfi\n',
      want: [{ kind: 'service', op: 'preset', units: ['foo.service'] }],
    },
    {
      name: '%systemd_preun is pruned on install and taken on erase',
      format: 'rpm',
      phase: 'preun',
      body: 'if [ $1 -eq 0 ] ; then\n  systemctl --no-reload disable --now foo.service > /dev/null 2>&1 || :\nfi\n',
      want: [
        { kind: 'service', op: 'disable', units: ['foo.service'] },
        { kind: 'service', op: 'stop', units: ['foo.service'] },
      ],
    },
    { name: 'try-restart only on upgrade: pruned', format: 'rpm', phase: 'postun', body: 'if [ $1 -ge 1 ] ; then\n systemctl try-restart foo.service >/dev/null 2>&1 || :\nfi', want: [] },
    {
      name: 'dh_installsystemd block',
      phase: 'postinst',
      body: `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask 'cron.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'cron.service'; then
		deb-systemd-helper enable 'cron.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'cron.service' >/dev/null || true
	fi
fi
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		deb-systemd-invoke start 'cron.service' >/dev/null || true
	fi
fi`,
      want: [
        { kind: 'service', op: 'unmask', units: ['cron.service'] },
        { kind: 'service', op: 'preset', units: ['cron.service'] },
      ],
    },
    {
      // openssh-server's ssh.socket (dh_installsystemd --no-enable): a first install leaves it disabled
      name: 'dh_installsystemd block of a unit shipped disabled',
      phase: 'postinst',
      body: `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if deb-systemd-helper debian-installed 'ssh.socket'; then
		deb-systemd-helper unmask 'ssh.socket' >/dev/null || true
		if deb-systemd-helper --quiet was-enabled 'ssh.socket'; then
			deb-systemd-helper enable 'ssh.socket' >/dev/null || true
		fi
	fi
	deb-systemd-helper update-state 'ssh.socket' >/dev/null || true
fi`,
      want: [],
    },
    {
      name: 'dh_installinit: variable set in pruned branches',
      phase: 'postinst',
      body: 'if [ -x "/etc/init.d/cron" ]; then\n update-rc.d cron defaults >/dev/null\n if [ -n "$2" ]; then\n  _dh_action=restart\n else\n  _dh_action=start\n fi\n invoke-rc.d --skip-systemd-native cron $_dh_action || exit 1\nfi',
      // update-rc.d defaults makes the sysvinit links (issue 10): a typed step, not a noop
      want: [{ kind: 'rclinks', op: 'defaults', script: 'cron' }, { kind: 'service', op: 'start', units: ['cron'] }],
    },
    { name: 'update-rc.d disable toggles the rc links and the unit', phase: 'postinst', body: 'update-rc.d foo disable 2 3 >/dev/null', want: [{ kind: 'rclinks', op: 'disable', script: 'foo', levels: ['2', '3'] }, { kind: 'service', op: 'disable', units: ['foo'] }] },
    { name: 'a true-or-false flag run as a command is a test, not opaque', phase: 'postinst', body: 'x=true\nif [ -e /a ]; then x=false; fi\nif $x; then ldconfig; fi', want: [{ kind: 'ldconfig' }] },
    {
      name: 'a2enmod -m, a2ensite, a2dismod; wildcards stay opaque',
      phase: 'postinst',
      body: 'a2enmod -m -q mpm_event ssl.load\na2ensite -q 000-default\na2dismod -q -m cgi\na2enconf \'*\'',
      want: [
        { kind: 'apache', op: 'enable', what: 'module', name: 'mpm_event', maint: true },
        { kind: 'apache', op: 'enable', what: 'module', name: 'ssl', maint: true },
        { kind: 'apache', op: 'enable', what: 'site', name: '000-default', maint: false },
        { kind: 'apache', op: 'disable', what: 'module', name: 'cgi', maint: true },
        { kind: 'opaque', text: "a2enconf '*'", reason: 'a2enconf of a wildcard (*) at line 4' },
      ],
    },
    { name: 'systemctl --user --global enable', format: 'rpm', phase: 'post', body: 'systemctl --global enable foo.socket', want: [{ kind: 'service', op: 'enable', units: ['foo.socket'], user: true }] },
    { name: 'mkdir -p', phase: 'postinst', body: 'mkdir -p -m 0750 "$DPKG_ROOT/var/lib/foo"', want: [{ kind: 'directory', path: '/var/lib/foo', mode: 0o750 }] },
    { name: 'install -d -m -o -g', phase: 'postinst', body: 'install -d -m 2775 -o root -g staff /var/local/x', want: [{ kind: 'directory', path: '/var/local/x', mode: 0o2775, user: 'root', group: 'staff' }] },
    {
      name: 'chown of a directory the script made',
      phase: 'postinst',
      body: 'mkdir -p /var/lib/foo\nchown foo:bar /var/lib/foo\nchmod 700 /var/lib/foo',
      want: [
        { kind: 'directory', path: '/var/lib/foo' },
        { kind: 'directory', path: '/var/lib/foo', user: 'foo', group: 'bar' },
        { kind: 'directory', path: '/var/lib/foo', mode: 0o700 },
      ],
    },
    { name: 'systemd-tmpfiles --create', phase: 'postinst', body: 'systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create passwd.conf >/dev/null || true', want: [{ kind: 'tmpfiles', configs: ['passwd.conf'] }] },
    { name: 'cache tools', format: 'rpm', phase: 'posttrans', body: '/usr/bin/glib-compile-schemas /usr/share/glib-2.0/schemas &> /dev/null || :\nfc-cache -s', want: [{ kind: 'cache', tool: 'glib-compile-schemas', args: ['/usr/share/glib-2.0/schemas'] }, { kind: 'cache', tool: 'fc-cache', args: ['-s'] }] },
    { name: 'systemd-hwdb --usr update (deb)', phase: 'postinst', body: 'update_hwdb() {\n  systemd-hwdb --usr update || true\n}\ncase "$1" in configure) update_hwdb ;; esac', want: [{ kind: 'generate', generator: 'hwdb', tool: 'systemd-hwdb', args: ['--usr', 'update'], inputs: ['/etc/udev/hwdb.d', '/lib/udev/hwdb.d'], outputs: ['/lib/udev/hwdb.bin'] }] },
    { name: 'systemd-hwdb update (rpm)', format: 'rpm', phase: 'post', body: 'systemd-hwdb update &>/dev/null || :', want: [{ kind: 'generate', generator: 'hwdb', tool: 'systemd-hwdb', args: ['update'], inputs: ['/etc/udev/hwdb.d', '/usr/lib/udev/hwdb.d'], outputs: ['/etc/udev/hwdb.bin'] }] },
    { name: 'systemd-hwdb query stays a cache step', phase: 'postinst', body: 'systemd-hwdb query usb:v1234', want: [{ kind: 'cache', tool: 'systemd-hwdb', args: ['query', 'usb:v1234'] }] },
    { name: 'add-shell', phase: 'postinst', body: 'if [ "$1" = configure ] && [ -z "$2" ]; then add-shell /bin/bash; fi', want: [{ kind: 'shell', op: 'add', path: '/bin/bash' }] },
    { name: 'remove-shell in postrm', phase: 'postrm', body: 'case "$1" in\n  remove) remove-shell /bin/zsh ;;\nesac', want: [{ kind: 'shell', op: 'remove', path: '/bin/zsh' }] },
    { name: 'deb triggers file', phase: 'triggers', body: '# Triggers added by dh_makeshlibs/13.11.4\nactivate-noawait ldconfig\n', want: [{ kind: 'ldconfig' }] },
    { name: 'lua rpm.execute ldconfig', format: 'rpm', phase: 'post', body: 'rpm.execute("/sbin/ldconfig")', want: [{ kind: 'ldconfig' }] },
    { name: 'rpm -p /sbin/ldconfig', format: 'rpm', phase: 'postun', body: '', want: [{ kind: 'ldconfig' }] },
    {
      name: 'function inlined with its arguments',
      phase: 'postinst',
      body: '_systemctl() {\n  if [ -z "$DPKG_ROOT" ]; then systemctl "$@"; fi\n}\n_systemctl enable foo.service',
      want: [{ kind: 'service', op: 'enable', units: ['foo.service'] }],
    },
    {
      name: 'for loop over literal items',
      phase: 'postinst',
      body: 'for d in /var/lib/a /var/lib/b; do\n  mkdir -p "$d"\ndone',
      want: [
        { kind: 'directory', path: '/var/lib/a' },
        { kind: 'directory', path: '/var/lib/b' },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = { format: c.format ?? 'deb', phase: c.phase ?? 'postinst', interpreter: c.format === 'rpm' && c.name.startsWith('lua') ? '<lua>' : c.name === 'rpm -p /sbin/ldconfig' ? '/sbin/ldconfig' : '', body: c.body } as const;
      expect(real(classifyScriptlet(s))).toEqual(c.want);
    });
  }
});

describe('classifyScriptlet: boilerplate is noop, not opaque', () => {
  const cases: [string, string, string][] = [
    ['postinst', 'set -e', 'set -e'],
    ['postinst', '#!/bin/sh\nset -e\n# Automatically added by dh_installdeb/13.11.4\ndpkg-maintscript-helper rm_conffile /etc/cron.daily/passwd 1:4.7-2\\~ -- "$@"\n# End automatically added section\nexit 0', 'dpkg-maintscript-helper rm_conffile'],
    ['postinst', '. /usr/share/debconf/confmodule\ndb_get foo/bar || true\ndb_stop', 'debconf'],
    ['postinst', 'if which foo >/dev/null; then :; fi\ncommand -v bar >/dev/null || true\n[ -x /usr/bin/baz ] || exit 0\necho done', 'message'],
    ['postrm', 'if [ "$1" = purge ]; then rm -f /var/cache/foo/*.bin; fi', 'on package removal'],
    ['postinst', 'case "$1" in\n  configure) ;;\n  abort-upgrade|abort-remove|abort-deconfigure) ;;\n  *) echo "postinst called with unknown argument \\`$1\'" >&2; exit 1 ;;\nesac\nexit 0', 'skipped case arm'],
  ];
  for (const [phase, body, what] of cases) {
    it(what, () => {
      const as = deb(phase, body);
      expect(as.filter((a) => a.kind === 'opaque')).toEqual([]);
      expect(as.some((a) => a.kind === 'noop' && a.what.includes(what))).toBe(true);
    });
  }

  it('prunes the upgrade-only branches of a fresh install', () => {
    const as = deb('postinst', 'if dpkg --compare-versions "$2" lt-nl "245.4-4~"; then\n  frobnicate\nfi\nif [ -n "$2" ]; then frobnicate; fi');
    expect(as.filter((a) => a.kind === 'opaque')).toEqual([]);
    expect(as.filter((a) => a.kind === 'noop' && a.what.startsWith('skipped'))).toHaveLength(2);
  });

  it('walks both sides of a condition it cannot decide', () => {
    const as = deb('postinst', 'if [ -e /etc/foo ]; then addgroup --system a; else addgroup --system b; fi');
    expect(real(as)).toEqual([
      { kind: 'group', name: 'a', system: true, tool: 'adduser' },
      { kind: 'group', name: 'b', system: true, tool: 'adduser' },
    ]);
  });

  it('ignores code after an unconditional exit, saying so', () => {
    const as = deb('postinst', 'exit 0\nfrobnicate');
    expect(as.filter((a) => a.kind === 'opaque')).toEqual([]);
    expect(as.some((a) => a.kind === 'noop' && a.what.startsWith('unreachable'))).toBe(true);
  });
});

describe('classifyScriptlet: opaque with a reason', () => {
  const cases: [string, string, RegExp][] = [
    ['frobnicate --all', 'postinst', /^unknown command "frobnicate" at line 1$/],
    ['echo x\n\necho "$x" >> /etc/shells', 'postinst', /^echo writes \/etc\/shells with content weld cannot resolve at line 3$/],
    ['if then fi', 'postinst', /^Cannot parse shell script: .* at line 1$/],
    ['cat <<EOF\nnever closed\n', 'postinst', /here-document "EOF" is not terminated/],
    ['$CMD --go', 'postinst', /cannot resolve the command name "\$CMD" at line 1/],
    ['useradd -r "$(whoami)"', 'postinst', /cannot resolve the arguments of "useradd"/],
    ['ln -s "$X" /b', 'postinst', /cannot resolve the arguments of "ln"/],
    ['mv -n /a /b', 'postinst', /^mv -n is not modelled at line 1$/],
    ['mv /a /b /c', 'postinst', /^mv with 3 operands at line 1$/],
    ['f() { f; }\nf', 'postinst', /nests deeper than 16 calls/],
  ];
  for (const [body, phase, reason] of cases) {
    it(body.split('\n')[0]!, () => {
      const op = deb(phase, body).filter((a) => a.kind === 'opaque');
      expect(op.length).toBeGreaterThan(0);
      expect((op[0] as { reason: string }).reason).toMatch(reason);
    });
  }

  it('an unknown interpreter is opaque', () => {
    expect(rpm('post', 'print "hi"', '/usr/bin/perl')).toEqual([{ kind: 'opaque', text: 'print "hi"', reason: 'interpreter "/usr/bin/perl" is not classified' }]);
  });

  it('unknown Lua is opaque per line', () => {
    const as = rpm('pre', 'local pid = posix.fork()\nprint("x")', '<lua>');
    expect(as).toEqual([
      { kind: 'opaque', text: 'local pid = posix.fork()', reason: 'unknown Lua statement at line 1' },
      { kind: 'noop', what: 'lua message' },
    ]);
  });
});

describe('classifyScriptlet: robustness', () => {
  it('is deterministic', () => {
    const body = 'for t in $@; do case $t in a) ldconfig;; esac; done\nmkdir -p /x';
    expect(deb('postinst', body)).toEqual(deb('postinst', body));
  });

  it('survives deep nesting and long input without throwing', () => {
    expect(deb('postinst', '('.repeat(5000) + 'true' + ')'.repeat(5000))[0]!.kind).toBe('opaque');
    expect(deb('postinst', 'if true; then '.repeat(150) + 'ldconfig; ' + 'fi; '.repeat(150))).toContainEqual({ kind: 'ldconfig' });
    const big = 'f() { mkdir -p /a; mkdir -p /b; }\n' + 'f; f; f; f; f; f; f; f\n'.repeat(5000);
    const t0 = performance.now();
    expect(deb('postinst', big).length).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('never throws on arbitrary bytes', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = 'ab $(){}[];|&<>"\'\\`\n#=-:*?!';
    for (let i = 0; i < 500; i++) {
      let s = '';
      const n = Math.floor(rnd() * 60);
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => deb('postinst', s)).not.toThrow();
    }
  });
});

describe('classifyScriptlet: file operations', () => {
  it('ln -s, cp -p, `: >` with chown/chmod, touch and rmdir become file actions; DPKG_ROOT is empty', () => {
    const body = [
      'set -e',
      'ln -sf debian "$DPKG_ROOT/etc/dpkg/origins/default"',
      'if [ ! -f "$DPKG_ROOT/root/.bashrc" ]; then cp -p "$DPKG_ROOT/usr/share/base-files/dot.bashrc" "$DPKG_ROOT/root/.bashrc"; fi',
      ': > "$DPKG_ROOT/var/log/wtmp"',
      'chown root:utmp "$DPKG_ROOT/var/log/wtmp"',
      'chmod 664 "$DPKG_ROOT/var/log/wtmp"',
      'touch /var/lib/foo/stamp',
      'rmdir /var/run',
      'ln -s /run /var/run',
    ].join('\n');
    expect(real(deb('postinst', body))).toEqual([
      { kind: 'symlink', path: '/etc/dpkg/origins/default', target: 'debian', force: true },
      { kind: 'copy', from: '/usr/share/base-files/dot.bashrc', to: '/root/.bashrc', preserve: true, noClobber: false, when: [{ test: '-f', path: '/root/.bashrc', negate: true }] },
      { kind: 'file', path: '/var/log/wtmp', truncate: true },
      { kind: 'file', path: '/var/log/wtmp', truncate: false, user: 'root', group: 'utmp' },
      { kind: 'file', path: '/var/log/wtmp', truncate: false, mode: 0o664 },
      { kind: 'file', path: '/var/lib/foo/stamp', truncate: false },
      { kind: 'rmdir', path: '/var/run' },
      { kind: 'symlink', path: '/var/run', target: '/run', force: false },
    ]);
  });

  it('records the file test of an undecided if-branch as a guard on its file actions, negated in the else branch', () => {
    const as = real(deb('postinst', 'if [ ! -d /var/mail ]; then\n  mkdir /var/mail\n  chmod 2775 /var/mail\nelse\n  touch /var/mail/.keep\nfi\nln -sf a /b'));
    const g = { test: '-d', path: '/var/mail', negate: true };
    expect(as).toEqual([
      { kind: 'directory', path: '/var/mail', when: [g] },
      { kind: 'directory', path: '/var/mail', mode: 0o2775, when: [g] },
      { kind: 'file', path: '/var/mail/.keep', truncate: false, when: [{ ...g, negate: false }] },
      { kind: 'symlink', path: '/b', target: 'a', force: true },
    ]);
  });

  it('reads `if ! [ -f … ]` as a negated guard, and gives files the mode of the umask they were made under', () => {
    const body = 'if ! [ -f "$DPKG_ROOT"/etc/security/opasswd ]; then\n  umask 066\n  touch "$DPKG_ROOT"/etc/security/opasswd\n  umask 022\nfi\ntouch /etc/environment\numask "$X"\n: > /etc/y';
    expect(real(deb('postinst', body))).toEqual([
      { kind: 'file', path: '/etc/security/opasswd', truncate: false, createMode: 0o600, when: [{ test: '-f', path: '/etc/security/opasswd', negate: true }] },
      { kind: 'file', path: '/etc/environment', truncate: false },
      { kind: 'opaque', text: ': > /etc/y', reason: 'writes to "/etc/y" at line 8' },
    ]);
  });

  it('keeps what it cannot model opaque: hard links, cp -a/-r, relative paths, chmod -R of a tree it did not make, writes with output', () => {
    const kinds = (body: string) => real(deb('postinst', body)).map((a) => a.kind);
    expect(kinds('ln /usr/bin/a /usr/bin/b')).toEqual(['opaque']);
    expect(kinds('cp -a /etc/skel /root')).toEqual(['opaque']);
    expect(kinds('cp -r /usr/share/x /etc/x')).toEqual(['opaque']);
    // a relative path once the working directory is unknown
    expect(kinds('cd "$x"; ln -s foo bar')).toEqual(['opaque']);
    // chmod of one packaged file is a statoverride (statoverride.test.ts); of a whole tree, not
    expect(kinds('chmod -R 600 /etc/shadow')).toEqual(['opaque']);
    expect(kinds('echo -e "hi\\tthere" > /etc/motd')).toEqual(['opaque']);
    expect(kinds('rmdir -p /a/b')).toEqual(['opaque']);
    expect(kinds('rm -f /etc/*.old')).toEqual(['opaque']);
    expect(kinds('rm -i /etc/x')).toEqual(['opaque']);
    expect(real(deb('postinst', 'rm -f /etc/ld.so.nohwcap "$DPKG_ROOT/etc/x.old"'))).toEqual([
      { kind: 'remove', path: '/etc/ld.so.nohwcap' },
      { kind: 'remove', path: '/etc/x.old' },
    ]);
    // removal phases never run in an image
    expect(real(deb('postrm', 'ln -s /run /var/run\nrmdir /var/run'))).toEqual([]);
  });
});
