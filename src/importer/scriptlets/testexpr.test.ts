import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { evalTest } from './testexpr.js';
import { compareVersionsWithEmpty } from './versions.js';

/** the real shell decides; weld must agree whenever its answer is not "unknown" */
function shTest(args: string[]): boolean {
  return spawnSync('sh', ['-c', 'test "$@"', 'sh', ...args]).status === 0;
}

describe('evalTest agrees with sh on known operands', () => {
  const cases: string[][] = [
    ['-z', ''], ['-z', 'x'], ['-n', ''], ['-n', 'x'], ['x'], [''],
    ['configure', '=', 'configure'], ['configure', '=', 'install'], ['a', '!=', 'b'], ['a', '!=', 'a'],
    ['1', '-eq', '1'], ['0', '-eq', '1'], ['2', '-ge', '1'], ['1', '-gt', '1'], ['1', '-le', '1'], ['0', '-lt', '1'], ['1', '-ne', '1'],
    ['!', '-z', ''], ['!', 'a', '=', 'b'], ['-z', '', '-a', 'x', '=', 'x'], ['-n', '', '-o', 'x', '=', 'x'], ['-n', '', '-o', 'x', '=', 'y'],
    ['(', 'a', '=', 'a', ')'], ['=', '=', '='],
  ];
  for (const c of cases) {
    it(c.join(' ') || '(empty)', () => {
      const got = evalTest(c.map((x) => [x]), 'deb');
      expect(got).not.toBeNull();
      expect(got).toBe(shTest(c));
    });
  }

  it('is unknown when an operand is unknown, or for file tests', () => {
    expect(evalTest([null, ['='], ['x']], 'deb')).toBeNull();
    expect(evalTest([['-x'], ['/usr/bin/foo']], 'deb')).toBeNull();
    expect(evalTest([['-n'], null], 'deb')).toBeNull();
  });

  it('decides when every possibility agrees', () => {
    expect(evalTest([['remove', 'purge'], ['='], ['configure']], 'deb')).toBe(false);
    expect(evalTest([['remove', 'purge'], ['='], ['purge']], 'deb')).toBeNull();
  });

  it('treats the running-systemd probe as false at build time', () => {
    expect(evalTest([['-d'], ['/run/systemd/system']], 'deb')).toBe(false);
  });
});

describe('compareVersionsWithEmpty agrees with dpkg --compare-versions', () => {
  const ops = ['lt', 'le', 'eq', 'ne', 'ge', 'gt', 'lt-nl', 'le-nl', 'ge-nl', 'gt-nl', '<<', '>>'];
  for (const op of ops)
    for (const [a, b] of [['', '1.0-1'], ['245.4-4~', ''], ['', '']]) {
      it(`"${a}" ${op} "${b}"`, () => {
        const r = spawnSync('dpkg', ['--compare-versions', a!, op, b!]);
        expect(compareVersionsWithEmpty([a!], op, [b!])).toBe(r.status === 0);
      });
    }
  it('is unknown for two real versions (not needed on a fresh install)', () => {
    expect(compareVersionsWithEmpty(['1.0'], 'lt', ['2.0'])).toBeNull();
  });
});
