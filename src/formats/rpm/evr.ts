import type { Dep } from '../../model.js';

/**
 * rpm's version ordering and dependency range overlap, mirroring rpm 4.18
 * (rpmio/rpmvercmp.c, rpmio/rpmver.c). Only ASCII letters and digits count as
 * segment characters, as rpm's risalnum() does.
 */

export type Order = -1 | 0 | 1;

export interface EVR {
  /** null when the text had no `epoch:` part */
  epoch: string | number | null;
  version: string;
  /** null when the text had no `-release` part */
  release: string | null;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string): boolean => isDigit(c) || isAlpha(c);

/** Segmented compare of one version or release string, exactly as rpmvercmp(). */
export function rpmvercmp(a: string, b: string): Order {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  // '' stands for the C string terminator
  const at = (s: string, k: number): string => (k < s.length ? s[k]! : '');
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;
    const ca = at(a, i);
    const cb = at(b, j);
    // tilde sorts before everything, even the end of the string
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // caret sorts after the end of the string but before anything else
    if (ca === '^' || cb === '^') {
      if (ca === '') return -1;
      if (cb === '') return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '' || cb === '') break;

    const numeric = isDigit(ca);
    const take = numeric ? isDigit : isAlpha;
    let ie = i;
    let je = j;
    while (ie < a.length && take(a[ie]!)) ie++;
    while (je < b.length && take(b[je]!)) je++;
    // segments of different kinds: numeric is newer than alpha
    if (je === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Splits `[epoch:]version[-release]` the way rpm's parseEVR() does. */
export function parseEVR(text: string): EVR {
  let s = 0;
  while (s < text.length && isDigit(text[s]!)) s++;
  // the release separator is the last '-' after the epoch digits
  const dash = text.lastIndexOf('-');
  const se = dash >= s ? dash : -1;
  let epoch: string | null = null;
  let vStart = 0;
  if (text[s] === ':') {
    epoch = s === 0 ? '0' : text.slice(0, s);
    vStart = s + 1;
  }
  const version = se >= 0 ? text.slice(vStart, se) : text.slice(vStart);
  const release = se >= 0 ? text.slice(se + 1) : null;
  return { epoch, version, release };
}

const epochText = (e: EVR['epoch']): string | null => (e === null ? null : String(e));

/**
 * Total order of two EVRs as rpmverCmp(): a missing epoch is 0, a missing
 * release sorts before any release. Use rpmSatisfies for requirement matching,
 * where a missing release matches any release.
 */
export function compareEVR(a: EVR, b: EVR): Order {
  const rc = rpmvercmp(epochText(a.epoch) ?? '0', epochText(b.epoch) ?? '0');
  if (rc) return rc;
  const rv = rpmvercmp(a.version, b.version);
  if (rv) return rv;
  if (a.release === null && b.release === null) return 0;
  if (b.release === null) return 1;
  if (a.release === null) return -1;
  return rpmvercmp(a.release, b.release);
}

/** RPMSENSE_* comparison bits (rpmds.h) */
export const RPMSENSE_LESS = 1 << 1;
export const RPMSENSE_GREATER = 1 << 2;
export const RPMSENSE_EQUAL = 1 << 3;

/** Comparison bits of an operator as rpm spells it ('' = unversioned). */
export function senseOf(op: string): number {
  switch (op) {
    case '':
      return 0;
    case '=':
    case '==':
      return RPMSENSE_EQUAL;
    case '<':
      return RPMSENSE_LESS;
    case '<=':
    case '=<':
      return RPMSENSE_LESS | RPMSENSE_EQUAL;
    case '>':
      return RPMSENSE_GREATER;
    case '>=':
    case '=>':
      return RPMSENSE_GREATER | RPMSENSE_EQUAL;
    default:
      return 0;
  }
}

/**
 * Whether two version ranges overlap, as rpmverOverlap(): both must be
 * versioned, else they always overlap (an unversioned provide satisfies
 * everything; an unversioned require is satisfied by anything).
 */
export function rpmRangesOverlap(v1: EVR, f1: number, v2: EVR, f2: number): boolean {
  let sense = 0;
  const e1 = epochText(v1.epoch);
  const e2 = epochText(v2.epoch);
  if (e1 && e2) sense = rpmvercmp(e1, e2);
  else if (e1 && atol(e1) > 0) sense = 1;
  else if (e2 && atol(e2) > 0) sense = -1;

  if (sense === 0) {
    sense = rpmvercmp(v1.version, v2.version);
    if (sense === 0) {
      if (v1.release && v2.release) sense = rpmvercmp(v1.release, v2.release);
      // the side without a release matches any release when it says '='
      else if ((v1.release && f2 & RPMSENSE_EQUAL) || (v2.release && f1 & RPMSENSE_EQUAL)) return true;
    }
  }
  if (sense < 0) return !!(f1 & RPMSENSE_GREATER || f2 & RPMSENSE_LESS);
  if (sense > 0) return !!(f1 & RPMSENSE_LESS || f2 & RPMSENSE_GREATER);
  return !!((f1 & RPMSENSE_EQUAL && f2 & RPMSENSE_EQUAL) || (f1 & RPMSENSE_LESS && f2 & RPMSENSE_LESS) || (f1 & RPMSENSE_GREATER && f2 & RPMSENSE_GREATER));
}

function atol(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m ? parseInt(m[0], 10) : 0;
}

/** Whether `provide` satisfies `require` (rpmdsCompare): same name and overlapping ranges. */
export function rpmSatisfies(provide: Dep, require: Dep): boolean {
  if (provide.name !== require.name) return false;
  const fp = senseOf(provide.op);
  const fr = senseOf(require.op);
  if (!fp || !fr) return true;
  if (!provide.evr || !require.evr) return true;
  return rpmRangesOverlap(parseEVR(provide.evr), fp, parseEVR(require.evr), fr);
}
