import { describe, expect, it } from 'vitest';
import { classifyScriptlet } from './index.js';
import type { Action } from '../../model.js';

const deb = (body: string, phase = 'postinst'): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '/bin/sh', body });
const real = (as: Action[]): Action[] => as.filter((a) => a.kind !== 'noop');

describe('system tools in scriptlets', () => {
  it.each([
    ['setcap "cap_dac_override,cap_sys_admin,cap_net_admin=ep" /bin/ip', [{ kind: 'caps', path: '/bin/ip', caps: 'cap_dac_override,cap_sys_admin,cap_net_admin=ep' }]],
    ['setcap -r /bin/ip', [{ kind: 'caps', path: '/bin/ip', caps: '' }]],
    ['setcap -q cap_net_raw+ep /usr/bin/ping cap_net_bind_service=+ep /usr/sbin/x', [{ kind: 'caps', path: '/usr/bin/ping', caps: 'cap_net_raw+ep' }, { kind: 'caps', path: '/usr/sbin/x', caps: 'cap_net_bind_service=+ep' }]],
    ['getcap /bin/ip', []],
    ['/usr/share/mysql-common/configure-symlinks install mariadb "/etc/mysql/mariadb.cnf"', [{ kind: 'alternative', link: '/etc/mysql/my.cnf', name: 'my.cnf', path: '/etc/mysql/mariadb.cnf', priority: 200 }]],
    ['TMPDIR= bash /usr/bin/mysql_install_db --rpm --cross-bootstrap --user=mysql --disable-log-bin --skip-test-db 2>&1 | logger', [{ kind: 'firstboot', what: 'mariadb-datadir', tool: 'mysql_install_db', paths: ['/var/lib/mysql'] }]],
    ['mariadb-install-db --datadir=/srv/db', [{ kind: 'firstboot', what: 'mariadb-datadir', tool: 'mariadb-install-db', paths: ['/srv/db'] }]],
    ['echo "UPDATE mysql.user SET plugin=1;" | mariadbd --skip-innodb --bootstrap 2> /dev/null', []],
    ['if [ -f "$p" ] && aa-status --enabled 2>/dev/null; then apparmor_parser -r "$p" || true; fi', []],
    ['chattr +S /var/spool/postfix 2>/dev/null || true', []],
    ['update-inetd --disable smtp </dev/null >/dev/null 2>&1 || true', []],
    ['depmod 6.1.0-57-amd64', [{ kind: 'generate', generator: 'depmod', tool: 'depmod', args: ['6.1.0-57-amd64'], inputs: ['/lib/modules/6.1.0-57-amd64', '/etc/depmod.d', '/lib/depmod.d'], outputs: ['modules.alias', 'modules.alias.bin', 'modules.builtin.alias.bin', 'modules.builtin.bin', 'modules.dep', 'modules.dep.bin', 'modules.devname', 'modules.softdep', 'modules.symbols', 'modules.symbols.bin'].map((f) => `/lib/modules/6.1.0-57-amd64/${f}`) }]],
    ['postconf -e "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination"', [{ kind: 'postconf', dir: '/etc/postfix', settings: [['smtpd_relay_restrictions', 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination']] }]],
    ['postconf -c /etc/postfix-out -e\treadme_directory=/usr/share/doc/postfix html_directory=/usr/share/doc/postfix/html', [{ kind: 'postconf', dir: '/etc/postfix-out', settings: [['readme_directory', '/usr/share/doc/postfix'], ['html_directory', '/usr/share/doc/postfix/html']] }]],
    ['postconf -hx default_transport', []],
    ['if [ "$(id -gn postfix)" != "postfix" ]; then usermod -g postfix postfix; fi', [{ kind: 'usermod', name: 'postfix', group: 'postfix' }]],
    ['if ypwhich >/dev/null 2>&1 && /usr/bin/ypcat mail.aliases >/dev/null 2>&1; then :; fi', []],
    ['pgrep -x -u mysql mariadbd > /dev/null; LC_ALL=C df --portability /var/lib/mysql/.', []],
    ['DEB_MAINT_PARAMS="$*" run-parts --report --exit-on-error --arg=6.1.0-57-amd64 --arg=/boot/vmlinuz-6.1.0-57-amd64 /etc/kernel/postinst.d', [{ kind: 'cache', tool: 'run-parts', args: ['/etc/kernel/postinst.d', '6.1.0-57-amd64'] }]],
    ['linux-update-symlinks install 6.1.0-57-amd64 /boot/vmlinuz-6.1.0-57-amd64', [
      { kind: 'symlink', path: '/vmlinuz', target: 'boot/vmlinuz-6.1.0-57-amd64', force: true },
      { kind: 'symlink', path: '/vmlinuz.old', target: 'boot/vmlinuz-6.1.0-57-amd64', force: true },
      { kind: 'symlink', path: '/initrd.img', target: 'boot/initrd.img-6.1.0-57-amd64', force: true },
      { kind: 'symlink', path: '/initrd.img.old', target: 'boot/initrd.img-6.1.0-57-amd64', force: true },
    ]],
    ['newaliases', [{ kind: 'firstboot', what: 'mail-aliases', tool: 'newaliases', paths: ['/etc/aliases.db'] }]],
    ['runnewaliases', [{ kind: 'firstboot', what: 'mail-aliases', tool: 'runnewaliases', paths: ['/etc/aliases.db'] }]],
    ['postalias hash:/etc/aliases', [{ kind: 'firstboot', what: 'mail-aliases', tool: 'postalias', paths: ['/etc/aliases.db'] }]],
  ])('%s', (body, want) => {
    expect(real(deb(body))).toEqual(want);
  });

  it('depmod without a version (the running kernel) stays a cache step', () => {
    expect(real(deb('depmod -a'))).toEqual([{ kind: 'cache', tool: 'depmod', args: ['-a'] }]);
  });

  it("dash's postinst: diversions of /bin/sh and sh.1.gz, without renaming", () => {
    const body = `claim() {
	dfile=$1 distrib=\${3:-$1.distrib}
	dpkg-divert --package bash --no-rename --remove $dfile
	dpkg-divert --package dash --no-rename --divert $distrib --add $dfile
}
claim /bin/sh dash
claim /usr/share/man/man1/sh.1.gz dash.1.gz /usr/share/man/man1/sh.distrib.1.gz
`;
    expect(real(deb(body))).toEqual([
      { kind: 'divert', op: 'remove', path: '/bin/sh', rename: false, package: 'bash' },
      { kind: 'divert', op: 'add', path: '/bin/sh', divert: '/bin/sh.distrib', rename: false, package: 'dash' },
      { kind: 'divert', op: 'remove', path: '/usr/share/man/man1/sh.1.gz', rename: false, package: 'bash' },
      { kind: 'divert', op: 'add', path: '/usr/share/man/man1/sh.1.gz', divert: '/usr/share/man/man1/sh.distrib.1.gz', rename: false, package: 'dash' },
    ]);
    // queries, and every step of dash's prerm, change nothing
    expect(real(deb('diverter=$(dpkg-divert --listpackage /bin/sh)\ntruename=$(dpkg-divert --truename /bin/sh)'))).toEqual([]);
    expect(real(deb('dpkg-divert --package dash --rename --remove /bin/sh', 'prerm'))).toEqual([]);
  });

  it("dash's flow, with the diverter dpkg-divert --listpackage prints on a fresh image", () => {
    const body = `initial() {
	dfile=$1 distrib=\${3:-$1.distrib}
	diverter=$(dpkg-divert --listpackage $dfile)
	if [ -z "$diverter" ]; then return; fi
	if [ "$diverter" = ash ]; then
		dpkg-divert --package ash --no-rename --remove $dfile
		dpkg-divert --package dash --no-rename --divert $distrib --add $dfile
		return
	fi
}
claim() {
	dfile=$1 distrib=\${3:-$1.distrib}
	diverter=$(dpkg-divert --listpackage $dfile)
	if [ "$diverter" = dash ]; then return; fi
	if [ -n "$diverter" ] && [ "$diverter" != bash ]; then
		dpkg-divert --package dash --no-rename --remove $dfile
		exit 1
	fi
	dpkg-divert --package bash --no-rename --remove $dfile
	dpkg-divert --package dash --no-rename --divert $distrib --add $dfile
}
initial /bin/sh dash
claim /bin/sh dash
`;
    // a fresh image has no diversion: --listpackage prints nothing, so only claim's removal of bash's and its --add run
    expect(real(deb(body))).toEqual([
      { kind: 'divert', op: 'remove', path: '/bin/sh', rename: false, package: 'bash' },
      { kind: 'divert', op: 'add', path: '/bin/sh', divert: '/bin/sh.distrib', rename: false, package: 'dash' },
    ]);
    // once added, --listpackage names the diverter and --truename the divert name; a guarded claim carries its test
    expect(real(deb('dpkg-divert --package dash --add /bin/sh\nif [ "$(dpkg-divert --listpackage /bin/sh)" = dash ]; then :; else chmod 755 /bin/x; fi\nt=$(dpkg-divert --truename /bin/sh)\nrm -f "$t"\nif [ -d /usr/share/man/man1/ ]; then dpkg-divert --package dash --add /usr/share/man/man1/sh.1.gz; fi'))).toEqual([
      { kind: 'divert', op: 'add', path: '/bin/sh', divert: '/bin/sh.distrib', rename: false, package: 'dash' },
      { kind: 'remove', path: '/bin/sh.distrib' },
      { kind: 'divert', op: 'add', path: '/usr/share/man/man1/sh.1.gz', divert: '/usr/share/man/man1/sh.1.gz.distrib', rename: false, package: 'dash', when: [{ test: '-d', path: '/usr/share/man/man1', negate: false }] },
    ]);
  });

  it("postfix's --remove --rename of an old diversion", () => {
    expect(real(deb('dpkg-divert --package postfix --remove --rename \\\n\t--divert /usr/share/man/man8/smtpd.real.8.gz \\\n\t/usr/share/man/man8/smtpd.8.gz > /dev/null 2>&1', 'postinst'))).toEqual([
      { kind: 'divert', op: 'remove', path: '/usr/share/man/man8/smtpd.8.gz', divert: '/usr/share/man/man8/smtpd.real.8.gz', rename: true, package: 'postfix' },
    ]);
  });

  it.each([
    ['setcap cap_bogus=ep /bin/x', 'cannot read'],
    ['setcap -v cap_net_raw=ep /bin/x', 'setcap -v'],
    ['setcap cap_net_raw=ep x', 'relative'],
    ['dpkg-divert --add a/b', 'relative'],
    ['postconf -X mynetworks', 'postconf -X'],
    ['postconf -e mynetworks', 'not KEY=VALUE'],
    ['postalias /etc/postfix/virtual', 'other than hash:/etc/aliases'],
  ])('%s stays opaque (%s)', (body, why) => {
    expect(real(deb(body)).map((a) => (a.kind === 'opaque' ? a.reason : a.kind))).toEqual([expect.stringContaining(why)]);
  });

  it('a mode with a leading 0 and four digits is octal: chmod 04755, dpkg-statoverride 02555', () => {
    expect(real(deb('chmod 04755 /usr/lib/mysql/plugin/auth_pam_tool_dir/auth_pam_tool'))).toEqual([{ kind: 'statoverride', tool: 'chmod', path: '/usr/lib/mysql/plugin/auth_pam_tool_dir/auth_pam_tool', mode: 0o4755 }]);
    expect(real(deb('dpkg-statoverride --update --add root postdrop 02555 /usr/sbin/postdrop'))).toEqual([{ kind: 'statoverride', tool: 'dpkg-statoverride', path: '/usr/sbin/postdrop', user: 'root', group: 'postdrop', mode: 0o2555 }]);
    expect(real(deb('chmod 12555 /usr/sbin/x')).map((a) => a.kind)).toEqual(['opaque']);
  });
});
