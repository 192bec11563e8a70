import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet } from './index.js';

const deb = (phase: string, body: string): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '', body });
const real = (as: Action[]): Action[] => as.filter((a) => a.kind !== 'noop');

describe('classifyScriptlet: owners and modes of packaged paths', () => {
  it("dpkg-statoverride --update --add behind a --list guard, as cron's and dbus's postinst write it", () => {
    const cron = 'if ! dpkg-statoverride --list /usr/bin/crontab > /dev/null ; then\n    dpkg-statoverride --update --add root crontab 2755 /usr/bin/crontab\nfi\n';
    expect(real(deb('postinst', cron))).toEqual([{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/bin/crontab', user: 'root', group: 'crontab', mode: 0o2755 }]);
    const dbus = 'MESSAGEUSER=messagebus\nLAUNCHER=/usr/lib/dbus-1.0/dbus-daemon-launch-helper\nif [ "$1" = configure ]; then\n  if ! dpkg-statoverride --list "$LAUNCHER" >/dev/null; then\n    dpkg-statoverride --update --add root "$MESSAGEUSER" 4754 "$LAUNCHER"\n  fi\nfi\n';
    expect(real(deb('postinst', dbus))).toEqual([{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/lib/dbus-1.0/dbus-daemon-launch-helper', user: 'root', group: 'messagebus', mode: 0o4754 }]);
  });

  it('answers --list from what the script added: a fresh image has no overrides', () => {
    // the else branch is taken: no override exists yet
    expect(real(deb('postinst', 'if dpkg-statoverride --list /usr/bin/x; then chmod 700 /usr/bin/x; else chmod 755 /usr/bin/x; fi'))).toEqual([
      { kind: 'statoverride', tool: 'chmod', path: '/usr/bin/x', mode: 0o755 },
    ]);
    // once added, --list succeeds, and removing it again is beyond the model
    const as = real(deb('postinst', 'dpkg-statoverride --update --add root root 700 /usr/bin/x\nif dpkg-statoverride --list /usr/bin/x >/dev/null; then :; else chmod 755 /usr/bin/x; fi\ndpkg-statoverride --remove /usr/bin/x'));
    expect(as.map((a) => a.kind)).toEqual(['statoverride', 'opaque']);
    // a --remove with nothing to remove, and every --remove on removal, do nothing
    expect(real(deb('postinst', 'dpkg-statoverride --quiet --remove /usr/bin/old'))).toEqual([]);
    expect(real(deb('postrm', 'dpkg-statoverride --remove /usr/bin/crontab'))).toEqual([]);
  });

  it('--add without --update changes the file only from preinst, whose unpack applies it; numeric #ids lose their #', () => {
    expect(real(deb('postinst', 'dpkg-statoverride --add root root 700 /usr/bin/x'))).toEqual([]);
    expect(real(deb('preinst', 'dpkg-statoverride --force --add "#0" "#42" 0700 /usr/bin/x'))).toEqual([{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/bin/x', user: '0', group: '42', mode: 0o700 }]);
  });

  it('refuses what dpkg-statoverride would do otherwise', () => {
    const reasons = (body: string) => real(deb('postinst', body)).map((a) => (a.kind === 'opaque' ? a.reason : a.kind));
    expect(reasons('dpkg-statoverride --update --add root root u+s /usr/bin/x')).toEqual([expect.stringContaining('not octal')]);
    expect(reasons('dpkg-statoverride --update --add root root 755')).toEqual([expect.stringContaining('3 operands')]);
    expect(reasons('dpkg-statoverride --update --add root root 755 usr/bin/x')).toEqual([expect.stringContaining('not an absolute path')]);
    expect(reasons('dpkg-statoverride --update --add root root 755 "$X"')).toEqual([expect.stringContaining('cannot resolve')]);
  });

  it("chgrp and chmod of a packaged file, as openssh-client's postinst makes ssh-agent setgid _ssh", () => {
    const body = `set_ssh_agent_permissions() {
	if ! getent group _ssh >/dev/null; then
		addgroup --system --quiet --force-badname _ssh
	fi
	if ! dpkg-statoverride --list /usr/bin/ssh-agent >/dev/null; then
		chgrp _ssh /usr/bin/ssh-agent
		chmod 2755 /usr/bin/ssh-agent
	fi
}
if [ "$1" = configure ]; then set_ssh_agent_permissions; fi
`;
    expect(real(deb('postinst', body))).toEqual([
      { kind: 'group', name: '_ssh', system: true, tool: 'adduser' },
      { kind: 'statoverride', tool: 'chown', path: '/usr/bin/ssh-agent', group: '_ssh' },
      { kind: 'statoverride', tool: 'chmod', path: '/usr/bin/ssh-agent', mode: 0o2755 },
    ]);
  });

  it("chown and chmod under a file test carry it, as sudo's postinst fixes /etc/sudoers and cron's the spool", () => {
    expect(real(deb('postinst', 'if [ -f /etc/sudoers ];then\n    chown root:root /etc/sudoers\n    chmod 440 /etc/sudoers\nfi\n'))).toEqual([
      { kind: 'statoverride', tool: 'chown', path: '/etc/sudoers', user: 'root', group: 'root', when: [{ test: '-f', path: '/etc/sudoers', negate: false }] },
      { kind: 'statoverride', tool: 'chmod', path: '/etc/sudoers', mode: 0o440, when: [{ test: '-f', path: '/etc/sudoers', negate: false }] },
    ]);
    const spool = 'crondir="/var/spool/cron"\ngetent group crontab > /dev/null 2>&1 || addgroup --system crontab\nif [ -d $crondir/crontabs ] ; then\n    chown root:crontab $crondir/crontabs\n    chmod 1730 $crondir/crontabs\nfi\n';
    const when = [{ test: '-d', path: '/var/spool/cron/crontabs', negate: false }];
    expect(real(deb('postinst', spool))).toEqual([
      { kind: 'group', name: 'crontab', system: true, tool: 'adduser' },
      { kind: 'statoverride', tool: 'chown', path: '/var/spool/cron/crontabs', user: 'root', group: 'crontab', when },
      { kind: 'statoverride', tool: 'chmod', path: '/var/spool/cron/crontabs', mode: 0o1730, when },
    ]);
  });

  it('owner spellings: USER, :GROUP, USER.GROUP; several paths; what the script made stays part of its own action', () => {
    expect(real(deb('postinst', 'chown daemon /var/lib/a /var/lib/b\nchown :adm /var/log/x\nchown www-data.www-data /var/www'))).toEqual([
      { kind: 'statoverride', tool: 'chown', path: '/var/lib/a', user: 'daemon' },
      { kind: 'statoverride', tool: 'chown', path: '/var/lib/b', user: 'daemon' },
      { kind: 'statoverride', tool: 'chown', path: '/var/log/x', group: 'adm' },
      { kind: 'statoverride', tool: 'chown', path: '/var/www', user: 'www-data', group: 'www-data' },
    ]);
    expect(real(deb('postinst', 'adduser --system --group foo\nmkdir -p /var/lib/foo\nchown foo:foo /var/lib/foo /usr/lib/foo/helper'))).toEqual([
      { kind: 'group', name: 'foo', system: true, tool: 'adduser' },
      { kind: 'user', name: 'foo', system: true, group: 'foo', shell: '/usr/sbin/nologin', tool: 'adduser' },
      { kind: 'directory', path: '/var/lib/foo' },
      { kind: 'directory', path: '/var/lib/foo', user: 'foo', group: 'foo' },
      { kind: 'statoverride', tool: 'chown', path: '/usr/lib/foo/helper', user: 'foo', group: 'foo' },
    ]);
  });

  it('keeps opaque what is not one known path: -R, -h, --reference, patterns, relative paths, symbolic modes, USER:', () => {
    const reasons = (body: string) => real(deb('postinst', body)).map((a) => (a.kind === 'opaque' ? a.reason : a.kind));
    expect(reasons('chown -R foo:foo /var/lib/foo')).toEqual([expect.stringContaining('a whole tree')]);
    expect(reasons('chown -h foo /var/lib/foo')).toEqual([expect.stringContaining('with -h')]);
    expect(reasons('chmod --reference=/etc/a /etc/b')).toEqual([expect.stringContaining('depends on the state of another file')]);
    expect(reasons('chmod 600 /var/log/foo*')).toEqual([expect.stringContaining('a pattern')]);
    expect(reasons('cd "$dir" && chmod 600 shadow')).toEqual([expect.stringContaining('relative path')]);
    expect(reasons('chmod u+s /usr/bin/x')).toEqual([expect.stringContaining('symbolic mode')]);
    expect(reasons('chown foo: /var/lib/foo')).toEqual([expect.stringContaining("user's login group")]);
    // removal phases never run in an image
    expect(real(deb('postrm', 'chown root:root /etc/x\nchmod 600 /etc/x'))).toEqual([]);
  });
});
