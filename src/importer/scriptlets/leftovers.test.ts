import { describe, expect, it } from 'vitest';
import { classifyScriptlet } from './index.js';
import type { Action } from '../../model.js';

const deb = (body: string, phase = 'postinst'): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '/bin/sh', body });
const real = (as: Action[]): Action[] => as.filter((a) => a.kind !== 'noop');
const opaque = (as: Action[]) => as.filter((a) => a.kind === 'opaque');

// the steps as bookworm's packages spell them (dash 0.5.12-2, dpkg 1.21.23, libc6 2.36-9, cron-daemon-common 3.0pl1-162,
// tzdata 2026f, ucf 3.0043, usr-is-merged 37, openssh-server 9.2p1 via runit-helper 2.15.2, linux-image 6.1)
const DASH = `set -e
replace_with_link() {
	dfile="$1"; ltarget=$2; distrib="$DPKG_ROOT$3"
	temp="$dfile.tmp"
	[ -e "$DPKG_ROOT$dfile" ] || [ -L "$DPKG_ROOT$dfile" ] && dfile_exists=yes
	if [ -n "$distrib" ] && [ -e "$DPKG_ROOT$dfile" ]; then
		cp -dp "$DPKG_ROOT$dfile" "$distrib"
	fi
	ln -sf "$ltarget" "$DPKG_ROOT$temp"
	mv -f "$DPKG_ROOT$temp" "$DPKG_ROOT$dfile"
	targetrealpath="$DPKG_ROOT$(dpkg-realpath "$dfile")"
	if [ -e "$targetrealpath" ] && [ "$dfile_exists" != "yes" ]; then
		touch --no-dereference --reference="$targetrealpath" "$DPKG_ROOT$dfile"
	fi
}
claim_binsh() {
	dfile=$1 ltarget=$2 distrib=\${3:-$dfile.distrib}
	diverter=$(dpkg-divert --listpackage $dfile)
	truename=$(dpkg-divert --truename $dfile)
	if [ "$diverter" = dash ]; then
		return
	fi
	dpkg-divert --package bash --no-rename --remove $dfile
	dpkg-divert --package dash --no-rename --divert $distrib --add $dfile
	if [ -n "$DPKG_ROOT$truename" ]; then
	       rm -f "$DPKG_ROOT$truename"
	fi
	replace_with_link $dfile $ltarget $distrib
}
claim_binsh /bin/sh dash
`;

describe("base packages' leftover steps, as on a fresh install", () => {
  it("dash: the cp -dp after rm -f of the same path is not reached, and touch -h only sets times", () => {
    const got = deb(DASH);
    expect(opaque(got)).toEqual([]);
    expect(real(got).map((a) => a.kind)).toEqual(['divert', 'divert', 'remove', 'symlink', 'rename']);
    // a cp -dp whose source nothing removed stays what commands.ts says
    expect(opaque(deb('if [ -e /bin/x ]; then cp -dp /bin/x /bin/y; fi'))).toHaveLength(1);
    // touch without -h may make the file
    expect(real(deb('touch --reference=/a /b'))).not.toEqual([]);
  });

  it("openssh-server's dh_runit snippet enables the runit service with runit-helper's link", () => {
    const body = `if [ -z "\${DPKG_ROOT:-}" ] ; then\n    NAME='ssh' ENABLE='yes' ONUPGRADE='restart' /lib/runit-helper/runit-helper postinst "$@"\nfi\n`;
    expect(real(deb(body))).toEqual([
      {
        kind: 'symlink', path: '/etc/runit/runsvdir/default/ssh', target: '/etc/sv/ssh', force: true,
        when: [{ test: '-L', path: '/etc/runit/runsvdir/default/.ssh', negate: true }, { test: '-L', path: '/etc/runit/runsvdir/default/ssh', negate: true }],
      },
    ]);
    expect(real(deb(`NAME='ssh' ENABLE='no' /lib/runit-helper/runit-helper postinst "$@"`))).toEqual([]);
    expect(real(deb(`NAME='ssh' ENABLE='yes' /lib/runit-helper/runit-helper postrm "$@"`, 'postrm'))).toEqual([]);
  });

  it.each([
    ['dpkg', 'cd /var/lib/dpkg\nfor file in *; do\n  mode="$(head -1 "$file")"\n  case "$mode" in\n  auto|manual)\n    mv "$file" "alternatives/$file"\n    ;;\n  esac\ndone', 'postinst'],
    ['libc6', 'if [ -f /usr/share/debconf/confmodule ] && ( [ "$DEBCONF_USE_CDEBCONF" ] || perl -e "" 2>/dev/null ) ; then\n  USE_DEBCONF=1\nfi', 'preinst'],
    ['cron-daemon-common', 'cd /var/spool/cron/crontabs\nfor tab_name in *\ndo\n  [ "$tab_name" = "*" ] && continue\n  tab_owner=`stat -c \'%U\' "$tab_name"`\n\t\tchown "$tab_owner:crontab" "$tab_name"\n\t\tchmod 600 "$tab_name"\ndone', 'postinst'],
    ['tzdata', 'AREA=Etc\nZONE=UTC\ndb_get tzdata/Areas && AREA="$RET"\nTIMEZONE="$AREA/$ZONE"\nif test "$(readlink /etc/localtime)" != "$TIMEZONE"; then\n\t\tln -nsf "/usr/share/zoneinfo/$TIMEZONE" "$DPKG_ROOT/etc/localtime.dpkg-new" && \\\n\t\t\tmv -f "$DPKG_ROOT/etc/localtime.dpkg-new" "$DPKG_ROOT/etc/localtime"\nfi', 'postinst'],
    ['ucf', "statedir='/var/lib/ucf';\nfor i in $(seq 6 -1 0); do\n  if [ -e \"${statedir}/hashfile.${i}\" ]; then\n    cp -f \"${statedir}/hashfile.${i}\" \\\n\t\t  \"${statedir}/hashfile.$(($i+1))\"\n  fi\ndone", 'preinst'],
    ['linux-image', 'if [ "$1" = purge ]; then\n  for extra_file in modules.dep modules.\\*.bin; do\n\teval rm -f /lib/modules/$version/$extra_file\n  done\nfi', 'postrm'],
  ])('%s: no file changes and nothing opaque', (_pkg, body, phase) => {
    expect(real(deb(body, phase))).toEqual([]);
  });

  it("usr-is-merged: rmdir --ignore-fail-on-non-empty of a biarch directory is an rmdir (the linker leaves a non-empty one)", () => {
    const body = 'for dir in /lib64 /lib32; do\n  [ -e "$DPKG_ROOT$dir" ] || continue\n  if ! dpkg-query -S $dir >/dev/null 2>&1; then\n    rm -v "$DPKG_ROOT$dir"\n    if [ -e "$DPKG_ROOT/usr$dir" ] && ! dpkg-query -S /usr$dir >/dev/null 2>&1 ; then\n      rmdir --ignore-fail-on-non-empty -v "$DPKG_ROOT/usr$dir"\n    fi\n  fi\ndone';
    const got = real(deb(body));
    expect(opaque(got)).toEqual([]);
    expect(got.filter((a) => a.kind === 'rmdir').map((a) => (a as { path: string }).path)).toEqual(['/usr/lib64', '/usr/lib32']);
  });
});
