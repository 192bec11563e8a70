/**
 * What a sed(1) command line does, read without running it: whether the script
 * only filters its input (no `w`/`W` command, no `w` or `e` flag, no `e`
 * command: GNU sed 4.9 manual §3.2–3.8), and, for a script of plain
 * `s/RE/REPL/[g]` commands, the substitutions translated into JavaScript
 * regular expressions that match exactly what sed's would.
 */
import type { SedEdit } from '../../model.js';

export interface SedCommandLine {
  /** the script (the -e texts joined by newlines, or the first operand) */
  script: string;
  ere: boolean;
  /** -i given: edits the files in place */
  inPlace: boolean;
  files: string[];
}

/** Reads sed's options (GNU sed); a reason string when one is not understood. */
export function sedCommandLine(args: string[]): SedCommandLine | string {
  const scripts: string[] = [];
  let ere = false;
  let inPlace = false;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a === '-e' || a === '--expression') {
      if (i + 1 >= args.length) return 'sed -e without a script';
      scripts.push(args[++i]!);
    } else if (a.startsWith('--expression=')) scripts.push(a.slice(13));
    else if (a === '-f' || a.startsWith('--file')) return 'sed -f reads its script from a file';
    else if (a === '-E' || a === '-r' || a === '--regexp-extended') ere = true;
    else if (a === '-i' || a.startsWith('--in-place')) inPlace = true;
    else if (a === '-z' || a === '--null-data') return 'sed -z splits its input at NUL bytes';
    else if (a === '-n' || a === '--quiet' || a === '--silent' || a === '-u' || a === '--unbuffered' || a === '-s' || a === '--separate' || a === '--posix' || a === '--sandbox') continue;
    else if (/^-[nEriusz]+$/.test(a) && !a.includes('z')) {
      if (/[Er]/.test(a)) ere = true;
      if (a.includes('i')) inPlace = true;
    } else if (/^-i./.test(a)) inPlace = true; // -iSUFFIX keeps a backup
    else if (a.startsWith('-') && a !== '-') return `sed option "${a}" is not modelled`;
    else rest.push(a);
  }
  if (!scripts.length) {
    const s = rest.shift();
    if (s === undefined) return 'sed without a script';
    scripts.push(s);
  }
  return { script: scripts.join('\n'), ere, inPlace, files: rest };
}

export interface SedScript {
  /** why the script is more than a filter of its input (writes or runs something), or null */
  sideEffect: string | null;
  /** the script as substitutions and `/RE/d` deletions weld can apply exactly, or why not */
  substs: SedEdit[] | string;
}

/** Walks a sed script's commands (GNU syntax); a string when it cannot be read. */
export function readSedScript(script: string, ere: boolean): SedScript | string {
  let i = 0;
  const s = script;
  let sideEffect: string | null = null;
  const substs: SedEdit[] = [];
  let plain: string | null = null;
  const notPlain = (why: string) => void (plain ??= why);
  const toEol = () => {
    const e = s.indexOf('\n', i);
    const v = s.slice(i, e < 0 ? s.length : e);
    i = e < 0 ? s.length : e;
    return v;
  };
  /** text up to an unescaped delimiter; the escapes are kept */
  const delimited = (d: string): string | null => {
    let out = '';
    while (i < s.length && s[i] !== d) {
      if (s[i] === '\\' && i + 1 < s.length) {
        out += s[i]! + s[i + 1]!;
        i += 2;
      } else if (s[i] === '\n' && d !== '\n') return null;
      else out += s[i++]!;
    }
    if (i >= s.length) return null;
    i++;
    return out;
  };
  /** the last address's regex when it was a plain /RE/ (no I or M flag) */
  let addrRe = null as { re: string; delim: string } | null;
  const address = (): boolean | null => {
    addrRe = null;
    const c = s[i];
    if (c === undefined) return false;
    if (/[0-9]/.test(c)) {
      while (i < s.length && /[0-9~]/.test(s[i]!)) i++;
      return true;
    }
    if (c === '$') {
      i++;
      return true;
    }
    if (c === '/' || c === '\\') {
      if (c === '\\') i++;
      const d = s[i++];
      const re = d === undefined ? null : delimited(d);
      if (d === undefined || re === null) return null;
      if (s[i] !== 'I' && s[i] !== 'M') addrRe = { re, delim: d };
      while (s[i] === 'I' || s[i] === 'M') i++;
      return true;
    }
    return false;
  };
  while (i < s.length) {
    while (i < s.length && /[\s;]/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const a1 = address();
    if (a1 === null) return 'an address is not terminated';
    // only `/RE/d` keeps its address: one regex, no range, no `!`
    let only: { re: string; delim: string } | null = a1 ? addrRe : null;
    if (a1 && s[i] === ',') {
      i++;
      only = null;
      if (s[i] === '+' || s[i] === '~') i++;
      if (address() === null) return 'an address is not terminated';
    }
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === '!') {
      i++;
      only = null;
      notPlain('a command is negated');
    }
    while (s[i] === ' ' || s[i] === '\t') i++;
    const cmd = s[i++];
    if (cmd === undefined) return 'an address without a command';
    if (cmd === 'd' && only) {
      const t = translateRegex(only.re, only.delim, ere);
      if (typeof t === 'string') notPlain(t);
      else substs.push({ re: t.src, delete: true });
      continue;
    }
    if (a1) notPlain('a command has an address');
    switch (cmd) {
      case '{':
      case '}':
        notPlain('the script has blocks');
        break;
      case '#':
        toEol();
        break;
      case ':':
      case 'b':
      case 't':
      case 'T':
      case 'v': {
        notPlain(`the script has "${cmd}"`);
        while (i < s.length && s[i] !== ';' && s[i] !== '\n') i++;
        break;
      }
      case 'a':
      case 'i':
      case 'c': {
        notPlain(`the script has "${cmd}"`);
        // text to the end of the line, a backslash-newline continuing it
        while (i < s.length && s[i] !== '\n') i += s[i] === '\\' ? 2 : 1;
        break;
      }
      case 'r':
      case 'R':
        notPlain(`the script has "${cmd}"`);
        toEol();
        break;
      case 'w':
      case 'W':
        sideEffect ??= `its "${cmd}" command writes the file "${toEol().trim()}"`;
        break;
      case 'e':
        sideEffect ??= 'its "e" command runs a shell command';
        toEol();
        break;
      case 'q':
      case 'Q':
      case 'l':
      case 'L':
        notPlain(`the script has "${cmd}"`);
        while (i < s.length && /[0-9 ]/.test(s[i]!)) i++;
        break;
      case 'y': {
        notPlain('the script has "y"');
        const d = s[i++];
        if (d === undefined || delimited(d) === null || delimited(d) === null) return 'a "y" command is not terminated';
        break;
      }
      case 's': {
        const d = s[i++];
        if (d === undefined || d === '\\' || d === '\n') return 'an "s" command without a delimiter';
        const re = delimited(d);
        const repl = re === null ? null : delimited(d);
        if (re === null || repl === null) return 'an "s" command is not terminated';
        let global = false;
        let flags = '';
        while (i < s.length && /[gpiImMe0-9w]/.test(s[i]!)) {
          const f = s[i++]!;
          if (f === 'w') {
            sideEffect ??= `its "s///w" flag writes the file "${toEol().trim()}"`;
            break;
          }
          if (f === 'e') sideEffect ??= 'its "s///e" flag runs the pattern space as a shell command';
          if (f === 'g') global = true;
          else flags += f;
        }
        if (flags) notPlain(`an "s" command has the flags "${flags}"`);
        const t = translateRegex(re, d, ere);
        const r = translateReplacement(repl, d);
        if (typeof t === 'string') notPlain(t);
        else if (typeof r === 'string') notPlain(r);
        else substs.push({ re: t.src, global, repl: r });
        break;
      }
      case 'd':
      case 'D':
      case 'p':
      case 'P':
      case 'n':
      case 'N':
      case 'g':
      case 'G':
      case 'h':
      case 'H':
      case 'x':
      case '=':
      case 'z':
      case 'F':
        notPlain(`the script has "${cmd}"`);
        break;
      default:
        return `unknown sed command "${cmd}"`;
    }
  }
  return { sideEffect, substs: plain ?? substs };
}

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: '0-9A-Za-z', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\v\\f\\r',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', print: ' -~', graph: '!-~', cntrl: '\\x00-\\x1f\\x7f', xdigit: '0-9A-Fa-f',
};

interface Atom {
  /** JavaScript source of one character's match */
  src: string;
  quant: '' | '*' | '+' | '?';
}

type Tok = { t: 'atom'; a: Atom } | { t: 'open' } | { t: 'close' } | { t: 'bol' } | { t: 'eol' };

const jsEscape = (c: string) => (/[\\^$.*+?()[\]{}|/-]/.test(c) ? '\\' + c : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c);

/** the bytes (0–255, the C locale) one atom matches */
function byteSet(src: string): boolean[] {
  const re = new RegExp(`^(?:${src})$`);
  return Array.from({ length: 256 }, (_, b) => re.test(String.fromCharCode(b)));
}

/**
 * A POSIX BRE (or ERE) as JavaScript RegExp source, or why not exactly. POSIX
 * picks the leftmost-longest match and JavaScript the leftmost-first; they agree
 * when every repeated atom is followed by the end or by something it cannot
 * match, so the repeat's extent is forced: only such expressions are taken.
 */
export function translateRegex(re: string, delim: string, ere: boolean): { src: string } | string {
  if (!re) return 'an empty expression reuses the last one sed ran';
  const toks: Tok[] = [];
  let i = 0;
  const atStart = () => toks.length === 0 || toks[toks.length - 1]!.t === 'open' || toks[toks.length - 1]!.t === 'bol';
  while (i < re.length) {
    const c = re[i]!;
    if (c === '\\') {
      const n = re[i + 1];
      i += 2;
      if (n === undefined) return `the expression "${re}" ends in a backslash`;
      if (!ere && n === '(') toks.push({ t: 'open' });
      else if (!ere && n === ')') toks.push({ t: 'close' });
      else if (n === 'n') toks.push({ t: 'atom', a: { src: '\\n', quant: '' } });
      else if (n === 't') toks.push({ t: 'atom', a: { src: '\\t', quant: '' } });
      else if (n === delim || /[.*[\]\\^$/]/.test(n) || (ere && /[()+?{}|]/.test(n))) toks.push({ t: 'atom', a: { src: jsEscape(n), quant: '' } });
      else return `the expression "${re}" has "\\${n}", which weld does not translate`;
      continue;
    }
    if (c === '[') {
      const end = bracketEnd(re, i);
      if (end < 0) return `the expression "${re}" has an unterminated bracket`;
      const cls = translateBracket(re.slice(i + 1, end));
      if (cls === null) return `the expression "${re}" has a bracket expression weld does not translate`;
      toks.push({ t: 'atom', a: { src: cls, quant: '' } });
      i = end + 1;
      continue;
    }
    i++;
    const quant = c === '*' || (ere && (c === '+' || c === '?'));
    if (quant && !atStart()) {
      const last = toks[toks.length - 1]!;
      if (last.t !== 'atom' || last.a.quant) return `the expression "${re}" repeats a group or a repeat`;
      last.a.quant = c as Atom['quant'];
      continue;
    }
    if (c === '^' && atStart()) toks.push({ t: 'bol' });
    else if (c === '$' && (i === re.length || (!ere && re.startsWith('\\)', i)) || (ere && re[i] === ')'))) toks.push({ t: 'eol' });
    else if (ere && c === '(') toks.push({ t: 'open' });
    else if (ere && c === ')') toks.push({ t: 'close' });
    else if (ere && (c === '|' || c === '{')) return `the expression "${re}" has "${c}", which weld does not translate`;
    else if (c === '.') toks.push({ t: 'atom', a: { src: '[^\\n]', quant: '' } });
    else toks.push({ t: 'atom', a: { src: jsEscape(c), quant: '' } });
  }
  let depth = 0;
  for (const t of toks) {
    depth += t.t === 'open' ? 1 : t.t === 'close' ? -1 : 0;
    if (depth < 0) return `the expression "${re}" closes a group it did not open`;
  }
  if (depth) return `the expression "${re}" leaves a group open`;
  // each repeat must be followed by the end, or by a single atom it cannot match
  const atoms = toks.filter((t) => t.t === 'atom' || t.t === 'eol' || t.t === 'bol');
  for (let k = 0; k < atoms.length; k++) {
    const t = atoms[k]!;
    if (t.t !== 'atom' || !t.a.quant) continue;
    const next = atoms[k + 1];
    if (!next || next.t === 'eol') continue;
    if (next.t !== 'atom' || next.a.quant) return `the expression "${re}" has a repeat followed by another repeat, where sed's longest match and JavaScript's first match may differ`;
    const a = byteSet(t.a.src);
    const b = byteSet(next.a.src);
    if (a.some((x, j) => x && b[j])) return `the expression "${re}" has a repeat followed by what it can also match, where sed's longest match and JavaScript's first match may differ`;
  }
  return { src: toks.map((t) => (t.t === 'open' ? '(' : t.t === 'close' ? ')' : t.t === 'bol' ? '^' : t.t === 'eol' ? '$' : t.a.src + t.a.quant)).join('') };
}

/** index of the `]` closing the bracket that opens at `start`, or -1 */
function bracketEnd(re: string, start: number): number {
  let i = start + 1;
  if (re[i] === '^') i++;
  if (re[i] === ']') i++;
  while (i < re.length) {
    if (re[i] === '[' && (re[i + 1] === ':' || re[i + 1] === '.' || re[i + 1] === '=')) {
      const close = re.indexOf(re[i + 1]! + ']', i + 2);
      if (close < 0) return -1;
      i = close + 2;
      continue;
    }
    if (re[i] === ']') return i;
    i++;
  }
  return -1;
}

/** a POSIX bracket's inside as a JavaScript class; backslash is literal there (POSIX) */
function translateBracket(body: string): string | null {
  let i = 0;
  let out = '';
  let neg = false;
  if (body[i] === '^') {
    neg = true;
    i++;
  }
  const lit = (c: string) => (/[\\\]^-]/.test(c) ? '\\' + c : c === '\n' ? '\\n' : c);
  let first = true;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '[' && body[i + 1] === ':') {
      const close = body.indexOf(':]', i + 2);
      const cls = CLASSES[body.slice(i + 2, close)];
      if (cls === undefined) return null;
      out += cls;
      i = close + 2;
    } else if (c === '[' && (body[i + 1] === '.' || body[i + 1] === '=')) return null;
    else if (body[i + 1] === '-' && i + 2 < body.length && !(c === ']' && !first)) {
      out += lit(c) + '-' + lit(body[i + 2]!);
      i += 3;
    } else {
      out += lit(c);
      i++;
    }
    first = false;
  }
  // lines are matched one by one, so a negated class never meets a newline either way
  return `[${neg ? '^' : ''}${out}]`;
}

/** sed's replacement text as literal pieces and group numbers (0 for `&`) */
export function translateReplacement(r: string, delim: string): (string | number)[] | string {
  const out: (string | number)[] = [];
  const lit = (c: string) => {
    if (typeof out[out.length - 1] === 'string') out[out.length - 1] += c;
    else out.push(c);
  };
  for (let i = 0; i < r.length; i++) {
    const c = r[i]!;
    if (c === '&') out.push(0);
    else if (c === '\\') {
      const n = r[++i];
      if (n === undefined) return 'the replacement ends in a backslash';
      if (/[1-9]/.test(n)) out.push(Number(n));
      else if (n === 'n' || n === '\n') lit('\n');
      else if (n === 't') lit('\t');
      else if (n === '&' || n === '\\' || n === delim) lit(n);
      else return `the replacement has "\\${n}", which weld does not translate`;
    } else lit(c);
  }
  return out;
}
