import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet, debconfDefaults, debconfSetsOf } from './index.js';

const deb = (body: string, phase = 'postinst'): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '', body: `#!/bin/sh\nset -e\n${body}` });
const real = (a: Action[]) => a.filter((x) => x.kind !== 'noop');
const reasons = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'opaque' }> => x.kind === 'opaque').map((x) => x.reason);

describe('classifyScriptlet: files written with content the script fixes', () => {
  it("netbase's <<-EOF, guarded by an early return in a function: the test outlives the return, and only inside the function", () => {
    const body = [
      'create_hosts_file() {',
      '  if [ -e /etc/hosts ]; then return 0; fi',
      '',
      '  cat > /etc/hosts <<-EOF',
      '\t127.0.0.1\tlocalhost',
      '\t::1\t\tlocalhost ip6-localhost',
      '',
      'EOF',
      '}',
      'create_hosts_file',
      'touch /etc/after',
    ].join('\n');
    expect(real(deb(body))).toEqual([
      { kind: 'write', path: '/etc/hosts', append: false, parts: [{ text: '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost\n\n' }], when: [{ test: '-e', path: '/etc/hosts', negate: true }] },
      { kind: 'file', path: '/etc/after', truncate: false },
    ]);
  });

  it('expands an unquoted here-document only where every expansion resolves; a quoted delimiter keeps the text', () => {
    expect(real(deb('X=/srv\ncat > /etc/a <<EOF\ndir=$X ${X}/b \\$HOME \\\\ \\`\nEOF'))).toEqual([
      { kind: 'write', path: '/etc/a', append: false, parts: [{ text: 'dir=/srv /srv/b $HOME \\ `\n' }] },
    ]);
    expect(real(deb("cat > /etc/a <<'EOF'\n$HOME `x`\nEOF"))).toEqual([{ kind: 'write', path: '/etc/a', append: false, parts: [{ text: '$HOME `x`\n' }] }]);
    expect(reasons(deb('cat > /etc/a <<EOF\n$HOME\nEOF'))).toEqual(['cat writes /etc/a from a here-document whose expansions weld cannot resolve at line 3']);
    expect(reasons(deb('cat > /etc/a <<EOF\n$(hostname)\nEOF'))).toEqual(['cat writes /etc/a from a here-document whose expansions weld cannot resolve at line 3']);
  });

  it("mariadb's debian.cnf: cat /dev/null >, echo >>, then chown and chmod of what it wrote", () => {
    const body = ['dc=/etc/mysql/debian.cnf', 'if [ ! -e "$dc" ]; then', '  cat /dev/null > $dc', '  echo "[client]" >>$dc', '  echo -n "user = root" >>$dc', '  echo "[client]" >>$dc', 'fi', 'chown 0:0 $dc', 'chmod 0600 $dc'].join('\n');
    const when = [{ test: '-e', path: '/etc/mysql/debian.cnf', negate: true }];
    expect(real(deb(body))).toEqual([
      { kind: 'write', path: '/etc/mysql/debian.cnf', append: false, parts: [], when },
      { kind: 'write', path: '/etc/mysql/debian.cnf', append: true, parts: [{ text: '[client]\n' }], when },
      { kind: 'write', path: '/etc/mysql/debian.cnf', append: true, parts: [{ text: 'user = root' }], when },
      // the same line again is a second step, not a duplicate
      { kind: 'write', path: '/etc/mysql/debian.cnf', append: true, parts: [{ text: '[client]\n' }], when },
      { kind: 'file', path: '/etc/mysql/debian.cnf', truncate: false, user: '0', group: '0' },
      { kind: 'file', path: '/etc/mysql/debian.cnf', truncate: false, mode: 0o600 },
    ]);
  });

  it('a test that ends the script on one side guards what follows', () => {
    expect(real(deb('[ -d /etc/foo ] || exit 0\necho x > /etc/foo/bar\nif [ -e /etc/foo/baz ]; then :; fi\ntouch /etc/foo/qux'))).toEqual([
      { kind: 'write', path: '/etc/foo/bar', append: false, parts: [{ text: 'x\n' }], when: [{ test: '-d', path: '/etc/foo', negate: false }] },
      { kind: 'file', path: '/etc/foo/qux', truncate: false, when: [{ test: '-d', path: '/etc/foo', negate: false }] },
    ]);
  });

  it('cat of shipped files, stdin from a file, the umask, and a test before ||', () => {
    expect(real(deb('umask 077\n[ -f /etc/b ] || cat /usr/share/x/a - < /usr/share/x/c >> /etc/b'))).toEqual([
      { kind: 'write', path: '/etc/b', append: true, parts: [{ file: '/usr/share/x/a' }, { file: '/usr/share/x/c' }], createMode: 0o600, when: [{ test: '-f', path: '/etc/b', negate: true }] },
    ]);
  });

  it("leaves base-passwd's seed of /etc/passwd to the accounts step; any other write of the account database is opaque", () => {
    expect(real(deb("if [ ! -e \"$DPKG_ROOT/etc/passwd\" ]; then\ncat > \"$DPKG_ROOT/etc/passwd\" <<'EOF'\nroot:*:0:0:root:/root:/bin/bash\nEOF\nfi", 'preinst'))).toEqual([]);
    expect(reasons(deb('echo "x:*:9:" >> /etc/group'))).toEqual(['echo writes the account database /etc/group at line 3']);
  });

  it('keeps opaque what it cannot write exactly, each with its reason', () => {
    expect(reasons(deb('echo "a\\tb" > /etc/a'))).toEqual(['echo writes /etc/a with backslashes or -e, which dash and bash print differently at line 3']);
    expect(reasons(deb('echo "$RET" > /etc/mailname'))).toEqual(['echo writes /etc/mailname with content weld cannot resolve at line 3']);
    expect(reasons(deb('cat > /etc/a'))).toEqual(["cat writes /etc/a from its standard input, which is the script's at line 3"]);
    expect(reasons(deb('echo x > "$f"'))).toEqual(['echo writes to ""$f"", a path weld cannot resolve at line 3']);
    expect(reasons(deb('cat -v /etc/x > /etc/a'))).toEqual(['cat -v writes /etc/a through an option weld does not model at line 3']);
    // stderr to a file is not the write of the content
    expect(reasons(deb('echo x 2> /etc/a'))).toEqual(['writes to "/etc/a" at line 3']);
    // to the terminal or /dev/null: a message, as before
    expect(real(deb('echo x > /dev/null\ncat <<EOF\nhello\nEOF'))).toEqual([]);
  });
});

describe('classifyScriptlet: mv, cd, sed, mktemp and ucf', () => {
  it('mv -f of a file the script made is a rename', () => {
    expect(real(deb('ln -nsf /usr/share/zoneinfo/Etc/UTC /etc/localtime.dpkg-new && mv -f /etc/localtime.dpkg-new /etc/localtime'))).toEqual([
      { kind: 'symlink', path: '/etc/localtime.dpkg-new', target: '/usr/share/zoneinfo/Etc/UTC', force: true },
      { kind: 'rename', from: '/etc/localtime.dpkg-new', to: '/etc/localtime' },
    ]);
    expect(reasons(deb('mv /etc/a /etc/dir/'))).toEqual(['mv between "/etc/a" and "/etc/dir/" (relative or into a directory) at line 3']);
  });

  it("postfix's cd into the spool: relative mkdir, chown, chmod and cp resolve against it; an unknown cd leaves them relative", () => {
    const body = ['cd /var/spool/postfix', 'makedir() {', '  if [ ! -d "$1" ]; then mkdir -Z "$1"; fi', '  chown $2 "$1"', '  chmod $3 "$1"', '}', 'makedir private root:root 700', 'cd ../../../etc/postfix/', '[ -f master.cf ] || cp /usr/share/postfix/master.cf.dist master.cf'].join('\n');
    expect(real(deb(body))).toEqual([
      { kind: 'directory', path: '/var/spool/postfix/private', when: [{ test: '-d', path: '/var/spool/postfix/private', negate: true }] },
      { kind: 'directory', path: '/var/spool/postfix/private', user: 'root', group: 'root' },
      { kind: 'directory', path: '/var/spool/postfix/private', mode: 0o700 },
      { kind: 'copy', from: '/usr/share/postfix/master.cf.dist', to: '/etc/postfix/master.cf', preserve: false, noClobber: false, when: [{ test: '-f', path: '/etc/postfix/master.cf', negate: true }] },
    ]);
    expect(reasons(deb('cd "$x"\nchmod 644 main.cf'))).toEqual(['chmod of a relative path "main.cf" at line 4']);
    // a cd in a subshell stays there
    expect(real(deb('(cd /etc; touch a)\ntouch /b'))).toEqual([
      { kind: 'file', path: '/etc/a', truncate: false },
      { kind: 'file', path: '/b', truncate: false },
    ]);
  });

  it("openssh's template: mktemp, cp -a, sed -i s///, ucf: a copy of the shipped file with the substitutions, when the destination is absent", () => {
    const body = [
      'new_config="$(mktemp)"',
      'cp -aZ /usr/share/openssh/sshd_config "$new_config"',
      "sed -i 's/^#*PermitRootLogin .*/PermitRootLogin yes/' \"$new_config\"",
      'ucf --three-way --debconf-ok --sum-file /usr/share/openssh/sshd_config.md5sum "$new_config" /etc/ssh/sshd_config',
      'ucfr openssh-server /etc/ssh/sshd_config',
      'rm -f "$new_config"',
    ].join('\n');
    expect(real(deb(body))).toEqual([
      { kind: 'copy', from: '/usr/share/openssh/sshd_config', to: '/etc/ssh/sshd_config', preserve: true, noClobber: true, edits: [{ re: '^#*PermitRootLogin [^\\n]*', global: false, repl: ['PermitRootLogin yes'] }] },
    ]);
    // a plain ucf of a shipped template
    expect(real(deb('ucf /usr/share/foo/foo.conf /etc/foo.conf'))).toEqual([{ kind: 'copy', from: '/usr/share/foo/foo.conf', to: '/etc/foo.conf', preserve: true, noClobber: true }]);
  });

  it('keeps the template opaque when its content depends on an unknown branch, an inexact sed, or mktemp mode', () => {
    const head = 'db_get x/y\nt="$(mktemp)"\ncp -a /usr/share/x "$t"\n';
    expect(reasons(deb(head + 'if [ "$RET" != true ]; then sed -i "s/^a/b/" "$t"; fi\nucf "$t" /etc/x'))).toEqual([
      'ucf installs /etc/x from a temporary file whose content depends on which way the script went (2 possibilities, from values weld does not know such as debconf answers) at line 7',
    ]);
    expect(reasons(deb(head + "sed -i 's/a*a/b/' \"$t\"\nucf \"$t\" /etc/x"))).toEqual([
      'ucf installs /etc/x from a temporary file whose content weld does not know: sed "s/a*a/b/" edits it: the expression "a*a" has a repeat followed by what it can also match, where sed\'s longest match and JavaScript\'s first match may differ at line 7',
    ]);
    expect(reasons(deb('t="$(mktemp)"\ncp /usr/share/x "$t"\nucf "$t" /etc/x'))).toEqual(["ucf installs /etc/x from a temporary file that kept mktemp's mode 0600 at line 5"]);
  });

  it('sed, uniq, sort and fold as filters are noops; sed with w, e or -i on a real file is not', () => {
    expect(real(deb("x=$(echo $2 | sed 's/^\\(...\\).*/\\1/')\nsed -n '$p' /etc/a | uniq -c | sort | fold -s"))).toEqual([]);
    expect(reasons(deb("sed -En -e '/^(.*)\\/(.+)\\.py$/s,,rm \"\\1/__pycache__/\\2\".*,e' /x"))).toEqual([
      'sed "/^(.*)\\\\/(.+)\\\\.py$/s,,rm \\"\\\\1/__pycache__/\\\\2\\".*,e": its "s///e" flag runs the pattern space as a shell command at line 3',
    ]);
    expect(reasons(deb("sed -n 'w /etc/out' /etc/a"))).toEqual(['sed "w /etc/out": its "w" command writes the file "/etc/out" at line 3']);
    expect(reasons(deb("sed -i -e '/^mynetworks\\s*=/d' /etc/postfix/main.cf"))).toEqual([
      'sed -i edits /etc/postfix/main.cf in place, which weld models only for the temporary copy of a shipped file at line 3',
    ]);
    expect(reasons(deb('uniq /etc/a /etc/b\nsort -o /etc/c /etc/a'))).toEqual(['uniq INPUT OUTPUT writes its second operand at line 3', 'sort -o writes a file at line 4']);
  });

  it("initramfs-tools-core's sed '/^###/d' FILE > OUT: a write of FILE as sed prints it, only for s and /RE/d scripts from one file", () => {
    const body = "if [ ! -e /etc/initramfs-tools/modules ]; then\n\tsed '/^###/d' /usr/share/initramfs-tools/modules \\\n\t\t> /etc/initramfs-tools/modules\nfi";
    expect(real(deb(body))).toEqual([
      {
        kind: 'write',
        path: '/etc/initramfs-tools/modules',
        append: false,
        parts: [{ file: '/usr/share/initramfs-tools/modules', edits: [{ re: '^###', delete: true }] }],
        when: [{ test: '-e', path: '/etc/initramfs-tools/modules', negate: true }],
      },
    ]);
    expect(real(deb("sed -e 's/a/b/g' -e '/^$/d' /usr/share/x >> /etc/x"))).toEqual([
      { kind: 'write', path: '/etc/x', append: true, parts: [{ file: '/usr/share/x', edits: [{ re: 'a', global: true, repl: ['b'] }, { re: '^$', delete: true }] }] },
    ]);
    expect(reasons(deb("sed -n '/a/p' /a > /etc/x\nsed '/a/,/b/d' /a > /etc/x\nsed '/a/!d' /a > /etc/x\nsed '/a/d' /a /b > /etc/x\nsed '/a/d' > /etc/x\nsed '/a/Id' /a > /etc/x"))).toEqual([
      'sed -n writes /etc/x with only what its script prints at line 3',
      'sed writes /etc/x with the script "/a/,/b/d": a command has an address at line 4',
      'sed writes /etc/x with the script "/a/!d": a command is negated at line 5',
      'sed writes /etc/x from several inputs at line 6',
      'sed writes /etc/x from its standard input at line 7',
      'sed writes /etc/x with the script "/a/Id": a command has an address at line 8',
    ]);
  });

  it("mariadb's ${DEBIAN_SCRIPT_TRACE:+ echo …}: the debug switches are unset in an install, so the command is empty", () => {
    const body = 'if [ -n "$DEBIAN_SCRIPT_DEBUG" ]; then set -v -x; DEBIAN_SCRIPT_TRACE=1; fi\n${DEBIAN_SCRIPT_TRACE:+ echo "#42#DEBUG# RUNNING $0 $*" 1>&2 }';
    expect(real(deb(body))).toEqual([]);
  });
});

describe('debconf answers of a fresh noninteractive install', () => {
  const templates = 'Template: x/a\nType: boolean\nDefault: true\nDescription: A?\n\nTemplate: x/b\nType: string\nDescription: B?\n\nTemplate: x/c\nType: string\nDefault: c\n';
  it('takes the template defaults, less what the config script sets unless it only does so where a file the package does not ship exists', () => {
    const config = '#!/bin/sh\n. /usr/share/debconf/confmodule\nif [ -f /etc/x.conf ]; then\n  if grep -q a /etc/x.conf; then db_set x/a false; fi\nfi\n[ -e /usr/share/x/shipped ] && db_set x/c other\n';
    const sets = debconfSetsOf(config);
    expect(sets).toEqual([
      { question: 'x/a', when: [{ test: '-f', path: '/etc/x.conf', negate: false }] },
      { question: 'x/c', when: [{ test: '-e', path: '/usr/share/x/shipped', negate: false }] },
    ]);
    expect(debconfDefaults(templates, sets, (p) => p === '/usr/share/x/shipped')).toEqual({ 'x/a': 'true', 'x/b': '' });
    // a db_set weld cannot name makes every answer unknown
    expect(debconfDefaults(templates, debconfSetsOf('db_set "$q" v'), () => false)).toBeUndefined();
    expect(debconfDefaults(undefined, [], () => false)).toBeUndefined();
    // a config script in Perl sets answers through its own client: unknown
    expect(debconfSetsOf('#!/usr/bin/perl -w\nprint "setting x/a";\n')).toBeNull();
    expect(debconfSetsOf('#!/bin/sh\nprint "setting x/a";\n')).toEqual([]);
  });

  it('gives db_get its answer (or what the script db_set), so branches on it are decided', () => {
    const body = 'db_get x/a\nif [ "$RET" != true ]; then touch /etc/no; fi\ndb_get x/c\necho "$RET" > /etc/c\ndb_set x/c d\ndb_get x/c && v="$RET"\necho "$v" > /etc/d\ndb_fget x/c seen\necho "$RET" > /etc/e';
    const acts = classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body, debconf: { 'x/a': 'true', 'x/c': 'c' } });
    expect(real(acts)).toEqual([
      { kind: 'write', path: '/etc/c', append: false, parts: [{ text: 'c\n' }] },
      { kind: 'write', path: '/etc/d', append: false, parts: [{ text: 'd\n' }] },
      { kind: 'opaque', text: 'echo "$RET" > /etc/e', reason: 'echo writes /etc/e with content weld cannot resolve at line 9' },
    ]);
    // without the package's answers, RET stays unknown
    expect(reasons(classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body: 'db_get x/c\necho "$RET" > /etc/c' }))).toEqual(['echo writes /etc/c with content weld cannot resolve at line 2']);
  });
});
