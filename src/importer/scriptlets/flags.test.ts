import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet } from './index.js';

const deb = (body: string): Action[] => classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body: `#!/bin/sh\nset -e\n${body}` });
const real = (a: Action[]) => a.filter((x) => x.kind !== 'noop');

describe('classifyScriptlet: function statuses, flags file tests decide, opaque steps under tests', () => {
  it("apache2's is_fresh_install: `return 0` is the status its caller's if reads", () => {
    const body = 'fresh() {\n  if [ -z "$2" ]; then return 0; fi\n  return 1\n}\nif fresh $@; then touch /etc/a; else touch /etc/b; fi';
    expect(real(deb(body))).toEqual([{ kind: 'file', path: '/etc/a', truncate: false }]);
  });

  it("apache2's $do_copy: the body of `if $do_copy` runs where the tests that left it true hold", () => {
    const body = [
      'do_copy=true',
      'for dir in /var/www /var/www/html; do',
      '  if [ -e $dir/index.html ]; then do_copy=false; break 2; fi',
      'done',
      'if $do_copy; then cp /usr/share/x/index.html /var/www/html/index.html; fi',
    ].join('\n');
    expect(real(deb(body))).toEqual([
      {
        kind: 'copy', from: '/usr/share/x/index.html', to: '/var/www/html/index.html', preserve: false, noClobber: false,
        when: [{ test: '-e', path: '/var/www/html/index.html', negate: true }, { test: '-e', path: '/var/www/index.html', negate: true }],
      },
    ]);
    // a flag an unknown command decided is no such flag
    const open = deb('do_copy=true\nif grep -q x /etc/y; then do_copy=false; fi\nif $do_copy; then cp /a /b; fi');
    expect(open.filter((a) => a.kind === 'noop' && a.what.includes('file tests hold'))).toEqual([]);
    expect(open.find((a) => a.kind === 'noop' && a.what === '$do_copy (true or false)')).toBeTruthy();
  });

  it('an opaque step carries the file tests it runs under; the same step under different tests counts once, under none', () => {
    expect(real(deb('if [ -e /etc/x ]; then frob /etc/x; fi'))).toEqual([
      { kind: 'opaque', text: 'frob /etc/x', reason: 'unknown command "frob" at line 3', when: [{ test: '-e', path: '/etc/x', negate: false }] },
    ]);
    expect(real(deb('f() { frob; }\nif [ -e /etc/x ]; then f; else f; fi'))).toEqual([{ kind: 'opaque', text: 'frob', reason: 'unknown command "frob" at line 3' }]);
  });
});
