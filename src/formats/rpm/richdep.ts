import { formatError } from '../../errors.js';
import type { Dep, RichDep } from '../../model.js';

/**
 * Parses an rpm rich (boolean) dependency such as `(a and (b or c))` or
 * `(x if y else z)`, following rpm 4.18's lib/rpmds.c (rpmrichParse):
 * one operator per level; and, or and with chain (`a and b and c`);
 * without, if and unless take two operands, if and unless an optional
 * `else` third. A plain atom is `name [op evr]`, where the op is a word of
 * its own. Names may hold parentheses: `perl(Foo::Bar)`, `libc.so.6()(64bit)`.
 * Commas count as white space, as rpm counts them.
 */
export function parseRichDep(text: string): RichDep {
  const p = new RichParser(text);
  p.ws();
  const r = p.group();
  p.ws();
  if (!p.eof()) throw p.fail('trailing text after the closing parenthesis');
  return r;
}

/** Does this dependency name hold a rich dependency? rpm's rpmdsIsRich. */
export const isRichName = (name: string): boolean => name.startsWith('(');

const BINARY = new Set(['and', 'or', 'with', 'without', 'if', 'unless']);
const CHAINS = new Set(['and', 'or', 'with']);
/** rpm's ReqComparisons; the spellings rpm also accepts become the usual one */
const SENSE = new Map([
  ['<', '<'],
  ['<=', '<='],
  ['=<', '<='],
  ['=', '='],
  ['==', '='],
  ['>=', '>='],
  ['=>', '>='],
  ['>', '>'],
]);

const isWhite = (ch: string): boolean => ch === ',' || /\s/.test(ch);

class RichParser {
  pos = 0;
  constructor(readonly text: string) {}

  eof(): boolean {
    return this.pos >= this.text.length;
  }
  ws(): void {
    while (this.pos < this.text.length && isWhite(this.text[this.pos]!)) this.pos++;
  }
  fail(why: string) {
    return formatError('rpm', `Cannot parse rich dependency ${JSON.stringify(this.text)} at offset ${this.pos}: ${why}`, { field: 'rich dependency', offset: this.pos });
  }

  /** '(' item (op item)* [else item] ')' */
  group(): RichDep {
    if (this.text[this.pos] !== '(') throw this.fail('expected "("');
    this.pos++;
    const items = [this.item()];
    let op: string | null = null;
    let elseBranch: RichDep | undefined;
    for (;;) {
      this.ws();
      if (this.eof()) throw this.fail('expected ")"');
      if (this.text[this.pos] === ')') break;
      const word = this.opWord();
      if (word === 'else') {
        if ((op !== 'if' && op !== 'unless') || elseBranch) throw this.fail('"else" only follows one "if" or "unless"');
      } else if (!BINARY.has(word)) throw this.fail(`unknown operator "${word}"`);
      else if (elseBranch) throw this.fail(`"${word}" after "else" without parentheses`);
      else if (op === null) op = word;
      else if (word !== op) throw this.fail(`cannot mix "${op}" and "${word}" without parentheses`);
      else if (!CHAINS.has(op)) throw this.fail(`only and, or and with chain; "${op}" needs parentheses`);
      this.pos += word.length;
      this.ws();
      if (this.eof() || this.text[this.pos] === ')') throw this.fail(`missing operand after "${word}"`);
      if (word === 'else') elseBranch = this.item();
      else items.push(this.item());
    }
    this.pos++;
    if (op === null) return items[0]!;
    if (op === 'if' || op === 'unless') return elseBranch ? { op, cond: items[1]!, then: items[0]!, else: elseBranch } : { op, cond: items[1]!, then: items[0]! };
    return { op: op as 'and' | 'or' | 'with' | 'without', args: items };
  }

  item(): RichDep {
    this.ws();
    if (this.text[this.pos] === '(') return this.group();
    return { op: 'atom', dep: this.atom() };
  }

  /** An operator ends at white space or ")", as rpm's parseRichDepOp reads it: "or(b" is no operator. */
  opWord(): string {
    const start = this.pos;
    let end = start;
    while (end < this.text.length && !/\s/.test(this.text[end]!) && this.text[end] !== ')') end++;
    return this.text.slice(start, end);
  }

  /** name [op evr] */
  atom(): Dep {
    const name = this.token();
    if (!name) throw this.fail('expected a dependency name');
    if (BINARY.has(name) || name === 'else') throw this.fail(`operator "${name}" where a name was expected`);
    const save = this.pos;
    this.ws();
    const opText = this.token();
    const op = SENSE.get(opText);
    if (op === undefined) {
      this.pos = save;
      return { name, op: '', evr: '' };
    }
    this.ws();
    const evr = this.token();
    if (!evr) throw this.fail(`missing version after "${opText}"`);
    return { name, op, evr };
  }

  /**
   * A name or version: up to white space or an unbalanced ")", as rpm's
   * SKIPNONWHITEX reads it, so `perl(Foo::Bar)` is one name.
   */
  token(): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (isWhite(ch)) break;
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      }
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }
}
