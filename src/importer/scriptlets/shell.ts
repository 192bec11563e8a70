/**
 * A small POSIX-sh parser, good enough for package maintainer scripts
 * (POSIX.1-2017 XCU 2.3 token recognition, 2.10 grammar). It builds an AST and
 * never executes anything. Bash-only syntax that shows up in rpm scriptlets
 * (`&>`, `[[ ]]` as plain words) is tolerated; anything else is a format error.
 */
import { formatError } from '../../errors.js';

export type WordPart =
  | { t: 'lit'; v: string; quoted: boolean }
  /** $name, ${name}, ${name:-word}, ${#name}; `arg` is the raw text after the operator */
  | { t: 'param'; name: string; op: string; arg: string; quoted: boolean }
  | { t: 'cmdsub'; text: string; quoted: boolean }
  | { t: 'arith'; text: string; quoted: boolean };

export interface Word {
  parts: WordPart[];
  /** source text of the word */
  raw: string;
  line: number;
}

export interface Redir {
  op: string;
  fd: number | null;
  target: Word;
  /** here-document body (after the delimiter line is removed) */
  heredoc?: string;
}

export interface Assign {
  name: string;
  value: Word;
}

export type Node =
  | { t: 'simple'; assigns: Assign[]; words: Word[]; redirs: Redir[]; line: number; text: string }
  | { t: 'pipeline'; neg: boolean; cmds: Node[]; line: number }
  | { t: 'andor'; op: '&&' | '||'; left: Node; right: Node; line: number }
  | { t: 'list'; items: Node[]; line: number }
  | { t: 'if'; clauses: { cond: Node; body: Node }[]; otherwise: Node | null; redirs: Redir[]; line: number }
  | { t: 'case'; word: Word; arms: { patterns: Word[]; body: Node; line: number }[]; redirs: Redir[]; line: number }
  | { t: 'for'; name: string; items: Word[] | null; body: Node; redirs: Redir[]; line: number }
  | { t: 'while'; until: boolean; cond: Node; body: Node; redirs: Redir[]; line: number }
  | { t: 'group'; subshell: boolean; body: Node; redirs: Redir[]; line: number }
  | { t: 'func'; name: string; body: Node; line: number };

type Tok =
  | { k: 'word'; w: Word; start: number }
  | { k: 'op'; v: string; line: number; start: number }
  | { k: 'nl'; line: number; start: number }
  | { k: 'io'; fd: number; line: number; start: number }
  | { k: 'eof'; line: number; start: number };

const OPS = ['&&', '||', ';;', '<<-', '<<', '>>', '<&', '>&', '<>', '>|', '&>', ';', '&', '|', '(', ')', '<', '>'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FUNC_PARENS = /[ \t]*\([ \t]*\)/y;
/** recursion cap: hostile scripts must not blow the stack */
const MAX_DEPTH = 200;

function fail(msg: string, line: number): never {
  throw formatError('sh', `Cannot parse shell script: ${msg} at line ${line}`, { line, field: 'body' });
}

class Lexer {
  pos = 0;
  line = 1;
  private pendingHeredocs: Redir[] = [];
  private pendingStrip: boolean[] = [];
  private peeked: Tok | null = null;

  constructor(readonly src: string) {}

  peek(): Tok {
    if (!this.peeked) this.peeked = this.lex();
    return this.peeked;
  }

  next(): Tok {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  /** a here-doc body is read at the next newline (XCU 2.7.4) */
  addHeredoc(r: Redir, strip: boolean): void {
    this.pendingHeredocs.push(r);
    this.pendingStrip.push(strip);
  }

  private lex(): Tok {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && s[this.pos + 1] === '\n') {
        this.pos += 2;
        this.line++;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
    const start = this.pos;
    if (this.pos >= s.length) return { k: 'eof', line: this.line, start };
    const c = s[this.pos]!;
    if (c === '\n') {
      const line = this.line;
      this.pos++;
      this.line++;
      this.readHeredocs();
      return { k: 'nl', line, start };
    }
    for (const op of OPS) {
      if (s.startsWith(op, this.pos)) {
        this.pos += op.length;
        return { k: 'op', v: op, line: this.line, start };
      }
    }
    // IO_NUMBER: digits immediately followed by < or >
    const io = /^[0-9]+(?=[<>])/.exec(s.slice(this.pos, this.pos + 12));
    if (io) {
      this.pos += io[0].length;
      return { k: 'io', fd: Number(io[0]), line: this.line, start };
    }
    return { k: 'word', w: this.readWord(), start };
  }

  private readHeredocs(): void {
    const s = this.src;
    for (let i = 0; i < this.pendingHeredocs.length; i++) {
      const r = this.pendingHeredocs[i]!;
      const strip = this.pendingStrip[i]!;
      const delim = r.target.parts.map((p) => (p.t === 'lit' ? p.v : '')).join('');
      const lines: string[] = [];
      let closed = false;
      while (this.pos < s.length) {
        let end = s.indexOf('\n', this.pos);
        if (end < 0) end = s.length;
        let l = s.slice(this.pos, end);
        this.pos = Math.min(end + 1, s.length);
        this.line++;
        if (strip) l = l.replace(/^\t+/, '');
        if (l.replace(/\r$/, '') === delim) {
          closed = true;
          break;
        }
        lines.push(l);
      }
      if (!closed) fail(`here-document "${delim}" is not terminated`, r.target.line);
      r.heredoc = lines.length ? lines.join('\n') + '\n' : '';
    }
    this.pendingHeredocs = [];
    this.pendingStrip = [];
  }

  /** `whole`: read to the end of the source, blanks included (the argument of ${x:+arg}) */
  readWord(whole = false): Word {
    const s = this.src;
    const start = this.pos;
    const line = this.line;
    const parts: WordPart[] = [];
    let lit = '';
    const flush = (quoted: boolean): void => {
      if (lit) parts.push({ t: 'lit', v: lit, quoted });
      lit = '';
    };
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (!whole && ' \t\r\n;&|()<>'.includes(c)) break;
      if (c === '\\') {
        if (s[this.pos + 1] === '\n') {
          this.pos += 2;
          this.line++;
          continue;
        }
        flush(false);
        if (this.pos + 1 < s.length) parts.push({ t: 'lit', v: s[this.pos + 1]!, quoted: true });
        this.pos += 2;
      } else if (c === "'") {
        flush(false);
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) fail('unterminated single quote', line);
        const v = s.slice(this.pos + 1, end);
        this.countLines(v);
        parts.push({ t: 'lit', v, quoted: true });
        this.pos = end + 1;
      } else if (c === '"') {
        flush(false);
        this.pos++;
        this.readDouble(parts, line);
      } else if (c === '$' || c === '`') {
        flush(false);
        parts.push(this.readDollar(false, line));
      } else {
        lit += c;
        this.pos++;
      }
    }
    flush(false);
    return { parts, raw: s.slice(start, this.pos), line };
  }

  private countLines(v: string): void {
    for (const ch of v) if (ch === '\n') this.line++;
  }

  private readDouble(parts: WordPart[], line: number): void {
    const s = this.src;
    let lit = '';
    // "" must still produce an (empty) quoted field
    let any = false;
    const flush = (): void => {
      if (lit || !any) parts.push({ t: 'lit', v: lit, quoted: true });
      lit = '';
      any = true;
    };
    for (;;) {
      if (this.pos >= s.length) fail('unterminated double quote', line);
      const c = s[this.pos]!;
      if (c === '"') {
        this.pos++;
        if (lit || !any) flush();
        return;
      }
      if (c === '\\' && '$`"\\\n'.includes(s[this.pos + 1] ?? '')) {
        if (s[this.pos + 1] === '\n') this.line++;
        else lit += s[this.pos + 1];
        this.pos += 2;
      } else if (c === '$' || c === '`') {
        if (lit) flush();
        any = true;
        parts.push(this.readDollar(true, line));
      } else {
        if (c === '\n') this.line++;
        lit += c;
        this.pos++;
      }
    }
  }

  private readDollar(quoted: boolean, line: number): WordPart {
    const s = this.src;
    if (s[this.pos] === '`') {
      const end = this.skipBackquote(this.pos + 1, line);
      const text = s.slice(this.pos + 1, end);
      this.countLines(text);
      this.pos = end + 1;
      return { t: 'cmdsub', text, quoted };
    }
    const n = s[this.pos + 1];
    if (n === '(' && s[this.pos + 2] === '(') {
      const end = this.matchParen(this.pos + 1, line);
      const text = s.slice(this.pos + 3, end - 1);
      this.countLines(text);
      this.pos = end + 1;
      return { t: 'arith', text, quoted };
    }
    if (n === '(') {
      const end = this.matchParen(this.pos + 1, line);
      const text = s.slice(this.pos + 2, end);
      this.countLines(text);
      this.pos = end + 1;
      return { t: 'cmdsub', text, quoted };
    }
    if (n === '{') {
      let depth = 0;
      let i = this.pos + 1;
      for (; i < s.length; i++) {
        const ch = s[i];
        if (ch === '\\') i++;
        else if (ch === "'" && !quoted) {
          const e = s.indexOf("'", i + 1);
          if (e < 0) fail('unterminated single quote', line);
          i = e;
        } else if (ch === '{') depth++;
        else if (ch === '}' && --depth === 0) break;
      }
      if (i >= s.length) fail('unterminated ${', line);
      const inner = s.slice(this.pos + 2, i);
      this.countLines(inner);
      this.pos = i + 1;
      const m = /^(#?)([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(.*)$/s.exec(inner);
      if (!m) return { t: 'param', name: '?bad', op: '', arg: inner, quoted };
      if (m[1] && !m[3]) return { t: 'param', name: m[2]!, op: '#len', arg: '', quoted };
      const rest = m[3]!;
      const op = /^(:?[-+=?]|##?|%%?|\/\/?|\[)/.exec(rest)?.[0] ?? (rest ? '?bad' : '');
      return { t: 'param', name: m[1] + m[2]!, op, arg: rest.slice(op === '?bad' ? 0 : op.length), quoted };
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]|[@*#?$!-])/.exec(s.slice(this.pos + 1, this.pos + 200));
    if (m) {
      this.pos += 1 + m[1]!.length;
      return { t: 'param', name: m[1]!, op: '', arg: '', quoted };
    }
    this.pos++;
    return { t: 'lit', v: '$', quoted };
  }

  private skipBackquote(i: number, line: number): number {
    const s = this.src;
    for (; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '`') return i;
    }
    fail('unterminated backquote', line);
  }

  /** index of the ')' matching the '(' at i, skipping quotes */
  private matchParen(i: number, line: number): number {
    const s = this.src;
    let depth = 0;
    for (; i < s.length; i++) {
      const ch = s[i];
      if (ch === '\\') i++;
      else if (ch === "'") {
        const e = s.indexOf("'", i + 1);
        if (e < 0) fail('unterminated single quote', line);
        i = e;
      } else if (ch === '"') {
        for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
      } else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) return i;
    }
    fail('unterminated $(', line);
  }
}

/** the literal text of a word when it has no expansions and no quotes */
function plainWord(w: Word): string | null {
  if (w.parts.length === 0) return null;
  let v = '';
  for (const p of w.parts) {
    if (p.t !== 'lit' || p.quoted) return null;
    v += p.v;
  }
  return v;
}

class Parser {
  private depth = 0;
  constructor(private readonly lx: Lexer) {}

  private isReserved(t: Tok, ...names: string[]): boolean {
    if (t.k !== 'word') return false;
    const v = plainWord(t.w);
    return v !== null && names.includes(v);
  }

  private lineOf(t: Tok): number {
    return t.k === 'word' ? t.w.line : t.line;
  }

  private skipNewlines(): void {
    while (this.lx.peek().k === 'nl') this.lx.next();
  }

  private expectWord(...names: string[]): void {
    const t = this.lx.next();
    if (!this.isReserved(t, ...names)) fail(`expected "${names.join('" or "')}"`, this.lineOf(t));
  }

  program(): Node {
    const body = this.compoundList([]);
    const t = this.lx.peek();
    if (t.k !== 'eof') fail(`unexpected "${t.k === 'word' ? t.w.raw : t.k === 'op' ? t.v : t.k}"`, this.lineOf(t));
    return body;
  }

  /** a compound list that must hold a command (XCU 2.10.2: `if then fi` is an error) */
  private nonEmpty(stops: string[]): Node {
    const l = this.compoundList(stops);
    if (l.t === 'list' && l.items.length === 0) {
      const t = this.lx.peek();
      fail(`unexpected "${t.k === 'word' ? t.w.raw : t.k === 'op' ? t.v : t.k}"`, this.lineOf(t));
    }
    return l;
  }

  /** a sequence of and-or lists until one of `stops` (reserved words or ops) */
  private compoundList(stops: string[]): Node {
    const items: Node[] = [];
    const line = this.lineOf(this.lx.peek());
    for (;;) {
      this.skipNewlines();
      const t = this.lx.peek();
      if (t.k === 'eof') break;
      if (t.k === 'op' && (t.v === ')' || t.v === ';;')) break;
      if (t.k === 'word' && stops.length && this.isReserved(t, ...stops)) break;
      items.push(this.andOr());
      const sep = this.lx.peek();
      if (sep.k === 'op' && (sep.v === ';' || sep.v === '&')) this.lx.next();
      else if (sep.k === 'nl') this.lx.next();
      else if (sep.k !== 'eof' && !(sep.k === 'op' && (sep.v === ')' || sep.v === ';;')) && !(sep.k === 'word' && this.isReserved(sep, ...stops))) {
        fail(`unexpected "${sep.k === 'word' ? sep.w.raw : sep.k === 'op' ? sep.v : sep.k}"`, this.lineOf(sep));
      }
    }
    return { t: 'list', items, line };
  }

  private andOr(): Node {
    let left = this.pipeline();
    for (;;) {
      const t = this.lx.peek();
      if (t.k === 'op' && (t.v === '&&' || t.v === '||')) {
        this.lx.next();
        this.skipNewlines();
        const right = this.pipeline();
        left = { t: 'andor', op: t.v as '&&' | '||', left, right, line: t.line };
      } else return left;
    }
  }

  private pipeline(): Node {
    let neg = false;
    const first = this.lx.peek();
    if (this.isReserved(first, '!')) {
      this.lx.next();
      neg = true;
    }
    const cmds = [this.command()];
    for (;;) {
      const t = this.lx.peek();
      if (t.k === 'op' && t.v === '|') {
        this.lx.next();
        this.skipNewlines();
        cmds.push(this.command());
      } else break;
    }
    if (!neg && cmds.length === 1) return cmds[0]!;
    return { t: 'pipeline', neg, cmds, line: this.lineOf(first) };
  }

  private command(): Node {
    if (++this.depth > MAX_DEPTH) fail('nesting too deep', this.lx.line);
    try {
      return this.commandInner();
    } finally {
      this.depth--;
    }
  }

  private commandInner(): Node {
    const t = this.lx.peek();
    const line = this.lineOf(t);
    if (t.k === 'op' && t.v === '(') {
      this.lx.next();
      const body = this.compoundList([]);
      this.expectOp(')');
      return { t: 'group', subshell: true, body, redirs: this.redirects(), line };
    }
    if (t.k === 'word') {
      const v = plainWord(t.w);
      switch (v) {
        case '{': {
          this.lx.next();
          const body = this.nonEmpty(['}']);
          this.expectWord('}');
          return { t: 'group', subshell: false, body, redirs: this.redirects(), line };
        }
        case 'if':
          return this.ifClause();
        case 'case':
          return this.caseClause();
        case 'for':
          return this.forClause();
        case 'while':
        case 'until': {
          this.lx.next();
          const cond = this.nonEmpty(['do']);
          this.expectWord('do');
          const body = this.nonEmpty(['done']);
          this.expectWord('done');
          return { t: 'while', until: v === 'until', cond, body, redirs: this.redirects(), line };
        }
        case 'then':
        case 'else':
        case 'elif':
        case 'fi':
        case 'do':
        case 'done':
        case 'esac':
        case '}':
          fail(`unexpected "${v}"`, line);
      }
      // function definition: name ( ) compound-command
      if (v !== null && /^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(v) && this.lookingAtFuncParens(t)) {
        this.lx.next();
        this.expectOp('(');
        this.expectOp(')');
        this.skipNewlines();
        const body = this.command();
        return { t: 'func', name: v, body, line };
      }
      if (v === 'function') {
        this.lx.next();
        const nt = this.lx.next();
        const name = nt.k === 'word' ? plainWord(nt.w) : null;
        if (!name) fail('expected a function name', line);
        const p = this.lx.peek();
        if (p.k === 'op' && p.v === '(') {
          this.lx.next();
          this.expectOp(')');
        }
        this.skipNewlines();
        return { t: 'func', name, body: this.command(), line };
      }
    }
    return this.simple();
  }

  /** `name()` needs one token of lookahead past the name */
  private lookingAtFuncParens(t: Tok): boolean {
    if (t.k !== 'word') return false;
    FUNC_PARENS.lastIndex = t.start + t.w.raw.length;
    return FUNC_PARENS.test(this.lx.src);
  }

  private expectOp(op: string): void {
    const t = this.lx.next();
    if (t.k !== 'op' || t.v !== op) fail(`expected "${op}"`, this.lineOf(t));
  }

  private ifClause(): Node {
    const line = this.lineOf(this.lx.next());
    const clauses: { cond: Node; body: Node }[] = [];
    let otherwise: Node | null = null;
    for (;;) {
      const cond = this.nonEmpty(['then']);
      this.expectWord('then');
      const body = this.nonEmpty(['elif', 'else', 'fi']);
      clauses.push({ cond, body });
      const t = this.lx.next();
      if (this.isReserved(t, 'elif')) continue;
      if (this.isReserved(t, 'else')) {
        otherwise = this.nonEmpty(['fi']);
        this.expectWord('fi');
        break;
      }
      if (this.isReserved(t, 'fi')) break;
      fail('expected "fi"', this.lineOf(t));
    }
    return { t: 'if', clauses, otherwise, redirs: this.redirects(), line };
  }

  private caseClause(): Node {
    const line = this.lineOf(this.lx.next());
    const wt = this.lx.next();
    if (wt.k !== 'word') fail('expected a word after "case"', line);
    this.skipNewlines();
    this.expectWord('in');
    const arms: { patterns: Word[]; body: Node; line: number }[] = [];
    for (;;) {
      this.skipNewlines();
      let t = this.lx.peek();
      if (this.isReserved(t, 'esac')) {
        this.lx.next();
        break;
      }
      if (t.k === 'eof') fail('expected "esac"', line);
      if (t.k === 'op' && t.v === '(') {
        this.lx.next();
        t = this.lx.peek();
      }
      const patterns: Word[] = [];
      for (;;) {
        const p = this.lx.next();
        if (p.k !== 'word') fail('expected a case pattern', this.lineOf(p));
        patterns.push(p.w);
        const sep = this.lx.next();
        if (sep.k === 'op' && sep.v === '|') continue;
        if (sep.k === 'op' && sep.v === ')') break;
        fail('expected ")" after a case pattern', this.lineOf(sep));
      }
      const body = this.compoundList(['esac']);
      arms.push({ patterns, body, line: patterns[0]!.line });
      const e = this.lx.peek();
      if (e.k === 'op' && e.v === ';;') this.lx.next();
      else if (!this.isReserved(e, 'esac')) fail('expected ";;" or "esac"', this.lineOf(e));
    }
    return { t: 'case', word: wt.w, arms, redirs: this.redirects(), line };
  }

  private forClause(): Node {
    const line = this.lineOf(this.lx.next());
    const nt = this.lx.next();
    const name = nt.k === 'word' ? plainWord(nt.w) : null;
    if (!name || !NAME.test(name)) fail('expected a name after "for"', line);
    let items: Word[] | null = null;
    this.skipNewlines();
    if (this.isReserved(this.lx.peek(), 'in')) {
      this.lx.next();
      items = [];
      for (;;) {
        const t = this.lx.peek();
        if (t.k !== 'word') break;
        items.push(t.w);
        this.lx.next();
      }
    }
    const sep = this.lx.peek();
    if (sep.k === 'op' && sep.v === ';') this.lx.next();
    this.skipNewlines();
    this.expectWord('do');
    const body = this.nonEmpty(['done']);
    this.expectWord('done');
    return { t: 'for', name, items, body, redirs: this.redirects(), line };
  }

  private redirects(): Redir[] {
    const out: Redir[] = [];
    for (;;) {
      const r = this.redirect();
      if (!r) return out;
      out.push(r);
    }
  }

  private redirect(): Redir | null {
    let t = this.lx.peek();
    let fd: number | null = null;
    if (t.k === 'io') {
      fd = t.fd;
      this.lx.next();
      t = this.lx.peek();
    }
    if (t.k !== 'op' || !['<', '>', '>>', '<&', '>&', '<>', '>|', '<<', '<<-', '&>'].includes(t.v)) {
      if (fd !== null) fail('expected a redirection operator', this.lineOf(t));
      return null;
    }
    this.lx.next();
    const w = this.lx.next();
    if (w.k !== 'word') fail(`expected a word after "${t.v}"`, t.line);
    const r: Redir = { op: t.v, fd, target: w.w };
    if (t.v === '<<' || t.v === '<<-') {
      // a quoted delimiter only changes expansion; the body is kept raw either way
      const delim = w.w.parts.map((p) => (p.t === 'lit' ? p.v : '')).join('');
      r.target = { parts: [{ t: 'lit', v: delim, quoted: true }], raw: w.w.raw, line: w.w.line };
      this.lx.addHeredoc(r, t.v === '<<-');
    }
    return r;
  }

  private simple(): Node {
    const first = this.lx.peek();
    const line = this.lineOf(first);
    const start = first.start;
    const assigns: Assign[] = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    let end = start;
    for (;;) {
      const r = this.redirect();
      if (r) {
        redirs.push(r);
        end = this.lx.pos;
        continue;
      }
      const t = this.lx.peek();
      if (t.k !== 'word') break;
      // reserved words end a simple command only in command position; `}` and `fi` after args are plain words
      this.lx.next();
      end = this.lx.pos;
      const eq = t.w.raw.indexOf('=');
      if (words.length === 0 && eq > 0 && NAME.test(t.w.raw.slice(0, eq))) {
        assigns.push({ name: t.w.raw.slice(0, eq), value: sliceWord(t.w, eq + 1) });
      } else words.push(t.w);
    }
    if (!assigns.length && !words.length && !redirs.length) {
      const t = this.lx.peek();
      fail(`unexpected "${t.k === 'op' ? t.v : t.k === 'nl' ? 'newline' : t.k}"`, line);
    }
    return { t: 'simple', assigns, words, redirs, line, text: this.lx.src.slice(start, end).trim() };
  }
}

/** the value part of NAME=value: drop the first `n` raw characters, which are all unquoted literal */
function sliceWord(w: Word, n: number): Word {
  const parts: WordPart[] = [];
  let skip = n;
  for (const p of w.parts) {
    if (skip > 0 && p.t === 'lit' && !p.quoted) {
      if (p.v.length <= skip) {
        skip -= p.v.length;
        continue;
      }
      parts.push({ ...p, v: p.v.slice(skip) });
      skip = 0;
    } else parts.push(p);
  }
  return { parts, raw: w.raw.slice(n), line: w.line };
}

/** Parses a shell script; throws a `format` WeldError naming the line on a syntax error. */
export function parseShell(src: string): Node {
  return new Parser(new Lexer(src)).program();
}

/** Parses the text of a ${name:-word} argument as one word (blanks kept). */
export function parseWordText(text: string, line: number): Word {
  const lx = new Lexer(text);
  lx.line = line;
  return lx.readWord(true);
}
