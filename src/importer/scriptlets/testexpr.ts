/**
 * Three-valued evaluation of `test` / `[` (XCU test): each operand is a set of
 * possible strings or unknown; the result is true, false or null (unknown).
 * File tests are unknown, except the "is systemd running" probe, which is
 * false while an image is being built.
 */
import type { Tri, Val } from './values.js';

const UNARY_FILE = new Set(['-e', '-f', '-d', '-x', '-L', '-h', '-s', '-r', '-w', '-c', '-b', '-p', '-S', '-g', '-u', '-k', '-O', '-G', '-t', '-a']);
const BINARY = new Set(['=', '==', '!=', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef', '<', '>']);
/** checks that mean "we are on a booted systemd host" */
const SYSTEMD_RUNNING = /^\/run\/systemd\/system\/?$/;

function one(v: Val | undefined): string | null {
  return v && v.length === 1 ? v[0]! : null;
}

/** applies `f` to every pair of possibilities: all agree → that, else unknown */
function over(a: Val, b: Val, f: (x: string, y: string) => boolean | null): Tri {
  if (a === null || b === null) return null;
  let seen: Tri | undefined;
  for (const x of a)
    for (const y of b) {
      const r = f(x, y);
      if (r === null) return null;
      if (seen === undefined) seen = r;
      else if (seen !== r) return null;
    }
  return seen ?? null;
}

function int(s: string): number | null {
  const t = s.trim();
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

function binary(op: string, a: Val, b: Val): Tri {
  switch (op) {
    case '=':
    case '==':
      return over(a, b, (x, y) => x === y);
    case '!=':
      return over(a, b, (x, y) => x !== y);
    case '<':
      return over(a, b, (x, y) => x < y);
    case '>':
      return over(a, b, (x, y) => x > y);
    case '-eq':
    case '-ne':
    case '-lt':
    case '-le':
    case '-gt':
    case '-ge':
      return over(a, b, (x, y) => {
        const m = int(x);
        const n = int(y);
        if (m === null || n === null) return null;
        return { '-eq': m === n, '-ne': m !== n, '-lt': m < n, '-le': m <= n, '-gt': m > n, '-ge': m >= n }[op]!;
      });
    default:
      return null;
  }
}

function unary(op: string, a: Val): Tri {
  if (op === '-z') return over(a, [''], (x) => x === '');
  if (op === '-n') return over(a, [''], (x) => x !== '');
  if ((op === '-d' || op === '-e') && a && a.every((x) => SYSTEMD_RUNNING.test(x))) return false;
  return null;
}

const not = (t: Tri): Tri => (t === null ? null : !t);
function and(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  return a === true && b === true ? true : null;
}
function or(a: Tri, b: Tri): Tri {
  if (a === true || b === true) return true;
  return a === false && b === false ? false : null;
}

/** POSIX's argument-count rules for 0–4 operands, then -a/-o/( ) as XSI does */
export function evalTest(args: Val[], _format: string): Tri {
  let i = 0;
  const peek = (k = 0): string | null => one(args[i + k]);
  const expr = (): Tri => {
    let v = andExpr();
    while (peek() === '-o') {
      i++;
      v = or(v, andExpr());
    }
    return v;
  };
  const andExpr = (): Tri => {
    let v = prim();
    while (peek() === '-a' && i + 1 < args.length) {
      i++;
      v = and(v, prim());
    }
    return v;
  };
  const prim = (): Tri => {
    if (i >= args.length) return false;
    const t = peek();
    if (t === '!' && i + 1 < args.length) {
      i++;
      return not(prim());
    }
    if (t === '(' ) {
      i++;
      const v = expr();
      if (peek() === ')') i++;
      return v;
    }
    const op1 = peek(1);
    if (op1 !== null && BINARY.has(op1) && i + 2 < args.length) {
      const a = args[i]!;
      const b = args[i + 2]!;
      i += 3;
      return binary(op1, a, b);
    }
    if (t !== null && (t === '-z' || t === '-n' || UNARY_FILE.has(t)) && i + 1 < args.length) {
      const a = args[i + 1]!;
      i += 2;
      return unary(t, a);
    }
    const a = args[i]!;
    i++;
    return over(a, [''], (x) => x !== '');
  };
  const v = expr();
  return i < args.length ? null : v;
}
