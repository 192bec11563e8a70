import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet } from './index.js';

const deb = (phase: string, body: string): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '', body });
const real = (as: Action[]): Action[] => as.filter((a) => a.kind !== 'noop');
const OUT = ['<dir>/__pycache__/<module>.<cache tag>.pyc'];
const publicOf = (pkg: string) => ['/usr/lib/python3/dist-packages/', '/usr/lib/python3/site-packages/', '/usr/lib/python3.*/dist-packages/', '/usr/lib/python3.*/site-packages/'].map((d) => `${pkg}:${d}`);

// dh_python3's snippets and python3.11's postinsts as bookworm ships them
const DH_POSTINST = `#!/bin/sh
set -e
if command -v py3compile >/dev/null 2>&1; then
	py3compile -p python3-yaml:amd64 
fi
if command -v pypy3compile >/dev/null 2>&1; then
	pypy3compile -p python3-yaml:amd64  || true
fi
`;
const STDLIB_POSTINST = `#! /bin/sh
set -e
case "$1" in
    configure)
    files=$(dpkg -L libpython3.11-stdlib:amd64 | sed -n '/^\\/usr\\/lib\\/python3.11\\/.*\\.py$/p')
    if [ -n "$files" ]; then
	/usr/bin/python3.11 -E -S /usr/lib/python3.11/py_compile.py $files
	if grep -sq '^byte-compile[^#]*optimize' /etc/python/debian_config; then
	    /usr/bin/python3.11 -E -S -O /usr/lib/python3.11/py_compile.py $files
	fi
    else
	echo >&2 "python3.11: can't get files for byte-compilation"
    fi
esac
`;
const MINIMAL_POSTINST = `#! /bin/sh
set -e
if [ "$1" = configure ]; then
    if ls -L /usr/lib/python3.11/sitecustomize.py >/dev/null 2>&1; then
	filt='cat'
    else
	filt='fgrep -v sitecustomize.py'
    fi
    files=$(dpkg -L libpython3.11-minimal:amd64 \\
		| sed -n '/^\\/usr\\/lib\\/python3.11\\/.*\\.py$/p' | $filt)
    if [ -n "$files" ]; then
	/usr/bin/python3.11 -E -S /usr/lib/python3.11/py_compile.py $files
    fi
fi
`;
const RTUPDATE = `#! /bin/sh
set -e
case "$1" in
    configure)
	oldv=$(echo $2 | sed 's/^\\(...\\).*/\\1/')
	for hook in /usr/share/python3/runtime.d/*.rtupdate; do
	    [ -x $hook ] || continue
	    if ! $hook rtupdate python$oldv python3.11; then
	        errors=yes
	    fi
	done
	for hook in /usr/share/python3/runtime.d/*.rtupdate; do
	    [ -x $hook ] || continue
	    $hook post-rtupdate python$oldv python3.11 || errors=yes
	done
	[ -z "$errors" ] || exit 4
esac
if which py3compile >/dev/null 2>&1; then
	py3compile -p python3 /usr/share/python3/
fi
`;
const DH_PRERM = (fallback: string) => `#!/bin/sh
set -e
if command -v py3clean >/dev/null 2>&1; then
	py3clean -p python3-six 
else
	dpkg -L python3-six | ${fallback}
	find /usr/lib/python3/dist-packages/ -type d -name __pycache__ -empty -print0 | xargs --null --no-run-if-empty rmdir
fi
`;

describe('classifyScriptlet: Python bytecode', () => {
  it("py3compile -p is the package's public modules; pypy3compile the same, only where pypy3compile is", () => {
    expect(real(deb('postinst', DH_POSTINST))).toEqual([
      { kind: 'generate', generator: 'bytecode', tool: 'python3', args: [], inputs: publicOf('python3-yaml'), outputs: OUT },
      { kind: 'generate', generator: 'bytecode', tool: 'pypy3', args: [], inputs: publicOf('python3-yaml'), outputs: OUT, when: [{ test: '-x', path: '/usr/bin/pypy3compile', negate: false }] },
    ]);
  });

  it("python3.11's py_compile of $files compiles the files dpkg -L lists of the package the sed names; the -O pass is not taken", () => {
    const want = (pkg: string) => [{ kind: 'generate', generator: 'bytecode', tool: '/usr/bin/python3.11', args: [], inputs: [`${pkg}:/usr/lib/python3.11/`], outputs: OUT }];
    expect(real(deb('postinst', STDLIB_POSTINST))).toEqual(want('libpython3.11-stdlib'));
    // a continued line, and the $filt stage that drops a dangling sitecustomize.py
    expect(real(deb('postinst', MINIMAL_POSTINST))).toEqual(want('libpython3.11-minimal'));
    // -O with optimize in debian_config, were it asked for; files weld cannot name stay opaque
    expect(real(deb('postinst', 'files=$(dpkg -L libx | sed -n \'/^\\/usr\\/lib\\/python3.11\\/.*\\.py$/p\')\n/usr/bin/python3.11 -E -S -O /usr/lib/python3.11/py_compile.py $files'))).toEqual([
      { kind: 'generate', generator: 'bytecode', tool: '/usr/bin/python3.11', args: ['-O'], inputs: ['libx:/usr/lib/python3.11/'], outputs: OUT },
    ]);
    const other = real(deb('postinst', 'files=$(find /usr/lib/foo -name "*.py")\n/usr/bin/python3.11 -E -S /usr/lib/python3.11/py_compile.py $files'));
    expect(other.map((a) => a.kind)).toEqual(['opaque']);
  });

  it("python3's rtupdate hook loops are no-ops on a first install; py3compile -p PKG DIR is the package's files under DIR", () => {
    const as = deb('postinst', RTUPDATE);
    expect(real(as)).toEqual([{ kind: 'generate', generator: 'bytecode', tool: 'python3', args: [], inputs: ['python3:/usr/share/python3/'], outputs: OUT }]);
    expect(as.filter((a) => a.kind === 'noop' && /hook/.test(a.what)).length).toBeGreaterThan(0);
  });

  it('py3compile of directories without -p, -O, and options weld does not model', () => {
    expect(real(deb('postinst', 'py3compile -O /usr/share/foo /usr/lib/bar.py'))).toEqual([
      { kind: 'generate', generator: 'bytecode', tool: 'python3', args: ['-O'], inputs: ['*:/usr/share/foo', '*:/usr/lib/bar.py'], outputs: OUT },
    ]);
    expect(real(deb('postinst', 'py3compile -p foo -V 3.9- /usr/share/foo')).map((a) => a.kind)).toEqual(['opaque']);
    expect(real(deb('postinst', 'py3compile -p "$PKG"')).map((a) => a.kind)).toEqual(['opaque']);
  });

  it("prerm's py3clean and dh_python3's sed and perl fallbacks only remove bytecode", () => {
    const sed = `sed -En -e '/^(.*)\\/(.+)\\.py$/s,,rm "\\1/__pycache__/\\2".*,e'`;
    const perl = `perl -ne 's,/([^/]*)\\.py$,/__pycache__/\\1.*, or next; unlink $_ or die $! foreach glob($_)'`;
    for (const f of [sed, perl]) {
      const as = deb('prerm', DH_PRERM(f));
      expect(as.filter((a) => a.kind === 'opaque')).toEqual([]);
      expect(as.filter((a) => a.kind === 'noop' && /removes bytecode/.test(a.what)).length).toBe(2);
    }
    // another sed script is still not understood
    expect(deb('prerm', "dpkg -L x | sed -e 's/a/b/e'").filter((a) => a.kind === 'opaque').length).toBe(1);
  });
});
