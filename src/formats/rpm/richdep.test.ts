import { describe, expect, it } from 'vitest';
import { isWeldError } from '../../errors.js';
import type { RichDep } from '../../model.js';
import { isRichName, parseRichDep } from './richdep.js';

const a = (name: string, op = '', evr = ''): RichDep => ({ op: 'atom', dep: { name, op, evr } });

describe('parseRichDep', () => {
  const table: [string, RichDep][] = [
    // every operator
    ['(a and b)', { op: 'and', args: [a('a'), a('b')] }],
    ['(a or b or c)', { op: 'or', args: [a('a'), a('b'), a('c')] }],
    ['(a if b)', { op: 'if', cond: a('b'), then: a('a') }],
    ['(a if b else c)', { op: 'if', cond: a('b'), then: a('a'), else: a('c') }],
    ['(a unless b)', { op: 'unless', cond: a('b'), then: a('a') }],
    ['(a unless b else c)', { op: 'unless', cond: a('b'), then: a('a'), else: a('c') }],
    ['(a >= 1 with a < 2 with c)', { op: 'with', args: [a('a', '>=', '1'), a('a', '<', '2'), a('c')] }],
    ['(a without b)', { op: 'without', args: [a('a'), a('b')] }],
    // parenthesised names, with and without versions, at every position
    ['(perl(Foo::Bar) >= 1.0 or python3dist(baz))', { op: 'or', args: [a('perl(Foo::Bar)', '>=', '1.0'), a('python3dist(baz)')] }],
    ['(libc.so.6()(64bit) and pkgconfig(glib-2.0) >= 2.56)', { op: 'and', args: [a('libc.so.6()(64bit)'), a('pkgconfig(glib-2.0)', '>=', '2.56')] }],
    ['(config(foo) = 1:2.0-1 if python3dist(baz) else perl(A::B))', { op: 'if', cond: a('python3dist(baz)'), then: a('config(foo)', '=', '1:2.0-1'), else: a('perl(A::B)') }],
    ['(perl(Foo)(bar))', a('perl(Foo)(bar)')],
    // nesting
    [
      '((perl(A) >= 1.0 and pkgconfig(w)) or (config(x) if python3dist(y) else libz.so.1()(64bit)))',
      {
        op: 'or',
        args: [
          { op: 'and', args: [a('perl(A)', '>=', '1.0'), a('pkgconfig(w)')] },
          { op: 'if', cond: a('python3dist(y)'), then: a('config(x)'), else: a('libz.so.1()(64bit)') },
        ],
      },
    ],
    ['(a if (b if c))', { op: 'if', cond: { op: 'if', cond: a('c'), then: a('b') }, then: a('a') }],
    ['(a with (b with c))', { op: 'with', args: [a('a'), { op: 'with', args: [a('b'), a('c')] }] }],
    ['((a))', a('a')],
    // rpm's other spellings of the comparisons, and its white space (commas count)
    ['(a =< 1 or b => 2 or c == 3)', { op: 'or', args: [a('a', '<=', '1'), a('b', '>=', '2'), a('c', '=', '3')] }],
    ['(  a\tand\n b  )', { op: 'and', args: [a('a'), a('b')] }],
  ];
  for (const [text, want] of table) it(text, () => expect(parseRichDep(text)).toEqual(want));

  // each refused by rpmbuild 4.18 too ("Unknown rich dependency op", "Cannot chain different ops", ...)
  const bad = ['a and b', '(a and b', '(a and b or c)', '(a foo b)', '()', '(a and b))', '(and b)', '(a >=1)', '(a or(b))', '(a,b)', '(a without b without c)', '(a if b if c)', '(a if b else c else d)', '(a else b)', '(a or )', '(a >= )', '(a constructor 1)'];
  for (const text of bad) {
    it(`rejects ${text}`, () => {
      let err: unknown;
      try {
        parseRichDep(text);
      } catch (e) {
        err = e;
      }
      expect(isWeldError(err) && err.kind === 'format').toBe(true);
      expect((err as Error).message).toContain(JSON.stringify(text));
    });
  }

  it('knows a rich name by its parenthesis', () => {
    expect([isRichName('(a or b)'), isRichName('perl(Foo)'), isRichName('a')]).toEqual([true, false, false]);
  });
});
