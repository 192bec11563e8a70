import { describe, expect, it } from 'vitest';
import type { Action } from '../../model.js';
import { classifyScriptlet } from './index.js';

const deb = (body: string): Action[] => classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body: `#!/bin/sh\nset -e\n${body}` });
const real = (a: Action[]) => a.filter((x) => x.kind !== 'noop');

describe('classifyScriptlet: $(stat -L -c %a|%u|%g P), answered from the image as shipped', () => {
  it("ca-certificates' /usr/local/share/ca-certificates: mkdir -m and chgrp like /usr/local, under the script's file test", () => {
    const body = [
      'if [ ! -e /usr/local/share/ca-certificates ]; then',
      '  if mkdir -m $(stat -L -c %a /usr/local) /usr/local/share/ca-certificates 2>/dev/null; then',
      '    chgrp $(stat -L -c %g /usr/local) /usr/local/share/ca-certificates',
      '  fi',
      'fi',
      'chmod $(stat -L -c %a /usr/local) /etc/x',
      'chown $(stat -L -c %u /usr/local):$(stat -L -c %g /usr/share) /etc/x',
    ].join('\n');
    const absent = [{ test: '-e', path: '/usr/local/share/ca-certificates', negate: true }];
    expect(real(deb(body))).toEqual([
      { kind: 'directory', path: '/usr/local/share/ca-certificates', like: { mode: '/usr/local' }, when: absent },
      { kind: 'directory', path: '/usr/local/share/ca-certificates', like: { group: '/usr/local' }, when: absent },
      { kind: 'statoverride', tool: 'chmod', path: '/etc/x', like: { mode: '/usr/local' } },
      { kind: 'statoverride', tool: 'chown', path: '/etc/x', like: { user: '/usr/local', group: '/usr/share' } },
    ]);
  });

  it('keeps stat without -L, another format, a mixed word or a stat path operand opaque', () => {
    const reasons = real(deb(['mkdir -m $(stat -c %a /usr/local) /a', 'chmod $(stat -L -c %u /usr/local) /b', 'chown root:$(stat -L -c %a /x) /c', 'chmod 755 $(stat -L -c %a /x)', 'chgrp x$(stat -L -c %g /x) /d'].join('\n'))).map((a) => (a.kind === 'opaque' ? a.reason : a.kind));
    expect(reasons).toEqual([
      'cannot resolve the arguments of "mkdir" at line 3',
      'chmod: the value of the mode is not one $(stat -L -c %a PATH) at line 4',
      'chown: the owner is not $(stat -L -c %u PATH):$(stat -L -c %g PATH) at line 5',
      'cannot resolve the arguments of "chmod" at line 6',
      'chgrp: the value of the group is not one $(stat -L -c %g PATH) at line 7',
    ]);
  });
});
