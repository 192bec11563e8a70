import { formatError } from '../../errors.js';
import type { Dep, RichDep } from '../../model.js';

/**
 * Parses an rpm rich (boolean) dependency such as `(a and (b or c))` or
 * `(x if y else z)`, following rpm's lib/rpmds.c grammar: and/or chain
 * with one operator per level; with/without/if/unless are binary; if and
 * unless take an optional else branch; a plain atom is `name [op evr]`.
 */
export function parseRichDep(text: string): RichDep {
  const p = new RichParser(text);
  p.ws();
  const r = p.group();
  p.ws();
  if (!p.eof()) throw p.fail('trailing text after the closing parenthesis');
  return r;
}

const BINARY = new Set(['and', 'or', 'with', 'without', 'if', 'unless']);
const OPS = ['<=', '>=', '==', '<', '>', '='];

class RichParser {
  pos = 0;
  constructor(readonly text: string) {}

  eof(): boolean {
    return this.pos >= this.text.length;
  }
  ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }
  fail(why: string) {
    return formatError('rpm', `Cannot parse rich dependency ${JSON.stringify(this.text)} at offset ${this.pos}: ${why}`, { field: 'rich dependency', offset: this.pos });
  }

  /** '(' expr ')' */
  group(): RichDep {
    if (this.text[this.pos] !== '(') throw this.fail('expected "("');
    this.pos++;
    this.ws();
    const first = this.term();
    this.ws();
    let result: RichDep = first;
    const word = this.peekWord();
    if (word && BINARY.has(word)) {
      this.pos += word.length;
      this.ws();
      const second = this.term();
      this.ws();
      if (word === 'and' || word === 'or') {
        const args = [first, second];
        for (;;) {
          const w = this.peekWord();
          if (w === word) {
            this.pos += w.length;
            this.ws();
            args.push(this.term());
            this.ws();
          } else if (w && BINARY.has(w)) throw this.fail(`cannot mix "${word}" and "${w}" without parentheses`);
          else break;
        }
        result = { op: word, args };
      } else if (word === 'with' || word === 'without') {
        result = { op: word, args: [first, second] };
      } else {
        let elseBranch: RichDep | undefined;
        if (this.peekWord() === 'else') {
          this.pos += 4;
          this.ws();
          elseBranch = this.term();
          this.ws();
        }
        result = elseBranch ? { op: word as 'if' | 'unless', cond: second, then: first, else: elseBranch } : { op: word as 'if' | 'unless', cond: second, then: first };
      }
    } else if (word) throw this.fail(`unknown operator "${word}"`);
    if (this.text[this.pos] !== ')') throw this.fail('expected ")"');
    this.pos++;
    return result;
  }

  term(): RichDep {
    if (this.text[this.pos] === '(') return this.group();
    return { op: 'atom', dep: this.atom() };
  }

  peekWord(): string | null {
    const m = /^[a-z]+(?=[\s()]|$)/.exec(this.text.slice(this.pos));
    return m ? m[0] : null;
  }

  /** name [op evr]; names may hold balanced parentheses, e.g. perl(Foo) */
  atom(): Dep {
    const name = this.token('a dependency name');
    if (BINARY.has(name) || name === 'else') throw this.fail(`operator "${name}" where a name was expected`);
    const save = this.pos;
    this.ws();
    const op = OPS.find((o) => this.text.startsWith(o, this.pos));
    if (!op) {
      this.pos = save;
      return { name, op: '', evr: '' };
    }
    this.pos += op.length;
    this.ws();
    const evr = this.token('a version');
    return { name, op: op === '==' ? '=' : op, evr };
  }

  token(what: string): string {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (/\s/.test(ch) && depth === 0) break;
      if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      }
      this.pos++;
    }
    if (this.pos === start) throw this.fail(`expected ${what}`);
    return this.text.slice(start, this.pos);
  }
}
