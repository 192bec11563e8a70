import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isWeldError } from '../../errors.js';
import { parseShell, type Node } from './shell.js';

/** dash is /bin/sh on Debian: it is the oracle for what is valid */
function shAccepts(src: string): boolean {
  return spawnSync('sh', ['-n'], { input: src }).status === 0;
}
function weldAccepts(src: string): boolean {
  try {
    parseShell(src);
    return true;
  } catch (e) {
    if (!isWeldError(e)) throw e;
    return false;
  }
}

describe('parseShell agrees with sh -n on validity', () => {
  const scripts = [
    'set -e\nexit 0\n',
    'if [ "$1" = configure ]; then\n  echo a\nelif true; then :; else echo b; fi',
    'case "$1" in\n  configure|abort-upgrade) echo x ;;\n  (purge) ;;\n  *) exit 1\nesac',
    'f() { echo "$@"; }\nf a b',
    'for x in a b c; do echo $x; done',
    'for x\ndo echo $x\ndone',
    'while read a b; do echo "$a"; done < /etc/passwd',
    'until false; do break; done',
    'a=1 b="2 3" c=$(echo 4) env',
    'echo "${x:-default value}" ${y:+"--root=$y"} ${#z} $((1+2)) `uname`',
    'cat <<EOF\nhello $x\nEOF\necho after',
    'cat <<-\'EOF\' | grep x\n\tindented\n\tEOF\n',
    'a && b || c; d | e | f & g',
    '! true',
    '( cd /tmp && ls ) 2>/dev/null >&2',
    '{ echo a; echo b; } > /dev/null',
    'echo \\\n  continued',
    "echo 'it''s' \"a \\\"q\\\"\"",
    'x="$(echo "$(echo nested)")"',
    // errors
    'if then fi',
    'if true; then echo; ',
    'case x in a) echo',
    'echo "unterminated',
    "echo 'unterminated",
    'echo $(unterminated',
    'fi',
    'for 1x in a; do :; done',
    '{ }',
    'while; do :; done',
    'a | | b',
    'echo ;;',
  ];
  for (const s of scripts) {
    it(JSON.stringify(s.slice(0, 40)), () => {
      expect(weldAccepts(s)).toBe(shAccepts(s));
    });
  }
});

describe('parseShell structure', () => {
  it('accepts the bash `function` keyword, which dash rejects (rpm scriptlets may run under bash)', () => {
    expect(shAccepts('function g { true; }')).toBe(false);
    expect(weldAccepts('function g { true; }')).toBe(true);
  });

  it('reads here-documents at the next newline', () => {
    const t = parseShell('systemd-sysusers - <<EOF && echo ok\nu foo -\nEOF\necho next\n');
    const list = t as Extract<Node, { t: 'list' }>;
    expect(list.items).toHaveLength(2);
    const andor = list.items[0] as Extract<Node, { t: 'andor' }>;
    const cmd = andor.left as Extract<Node, { t: 'simple' }>;
    expect(cmd.redirs[0]!.heredoc).toBe('u foo -\n');
  });

  it('counts lines across continuations, quotes and here-documents', () => {
    const t = parseShell('echo a \\\n b\necho "x\ny"\ncat <<E\n1\n2\nE\nlast') as Extract<Node, { t: 'list' }>;
    expect(t.items.map((n) => n.line)).toEqual([1, 3, 5, 9]);
  });

  it('errors name the line and are format errors', () => {
    try {
      parseShell('echo ok\necho ok\nif true; then\n');
      expect.unreachable();
    } catch (e) {
      expect(isWeldError(e) && e.kind === 'format').toBe(true);
      expect((e as Error).message).toMatch(/^Cannot parse shell script: .* at line 4$/);
    }
  });
});
