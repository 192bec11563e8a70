import type { Dep } from '../../model.js';
import { usageError } from '../../errors.js';

/**
 * dpkg's version ordering (lib/dpkg/version.c verrevcmp) and relation
 * checks (lib/dpkg/depcon.c). `epoch:upstream-revision`.
 */

export type Order = -1 | 0 | 1;

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** Weight of a non-digit character: '~' < end < letters < everything else. */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1;
  if (c) return c + 256;
  return 0;
}

/** verrevcmp(): compares one upstream or revision part; 0 stands for the end. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const at = (s: string, k: number): number => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(at(a, i))) || (j < b.length && !isDigit(at(b, j)))) {
      const ac = order(at(a, i));
      const bc = order(at(b, j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (at(a, i) === 0x30) i++;
    while (at(b, j) === 0x30) j++;
    while (isDigit(at(a, i)) && isDigit(at(b, j))) {
      if (!firstDiff) firstDiff = at(a, i) - at(b, j);
      i++;
      j++;
    }
    if (isDigit(at(a, i))) return 1;
    if (isDigit(at(b, j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/**
 * Parses a version as dpkg's parseversion(): the epoch is digits before the
 * first ':', the revision follows the last '-'. Throws a usage error on what
 * dpkg rejects as bad syntax.
 */
export function parseDpkgVersion(text: string): DpkgVersion {
  const s = text.trim();
  const bad = (why: string): never => {
    throw usageError(`Cannot parse dpkg version '${text}': ${why}`, { version: text });
  };
  if (!s) bad('version string is empty');
  if (/\s/.test(s)) bad('version string has embedded spaces');
  let epoch = 0;
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!e) bad('epoch in version is empty');
    if (!/^\d+$/.test(e)) bad('epoch in version is not number');
    epoch = Number(e);
    if (epoch > 0x7fffffff) bad('epoch in version is too big');
    rest = s.slice(colon + 1);
    if (!rest) bad('nothing after colon in version number');
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (hyphen >= 0 && !revision) bad('revision number is empty');
  if (!upstream) bad('version number is empty');
  return { epoch, upstream, revision };
}

/**
 * A control file's Version field split as the importer stores it:
 * [epoch:]upstream[-revision], the revision after the last hyphen
 * (deb-version(7)); epoch null when absent. Format errors through `fail`.
 * More lenient than parseDpkgVersion: an empty revision or an epoch past
 * 2^31 pass, as they always have at import.
 */
export function parseControlVersion(v: string, fail: (m: string) => Error): { epoch: number | null; version: string; release: string } {
  let epoch: number | null = null;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^[0-9]+$/.test(e) || !Number.isSafeInteger(Number(e))) throw fail(`version ${JSON.stringify(v)} has a bad epoch`);
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const version = dash >= 0 ? rest.slice(0, dash) : rest;
  if (!version || /\s/.test(rest)) throw fail(`version ${JSON.stringify(v)} is malformed`);
  return { epoch, version, release: dash >= 0 ? rest.slice(dash + 1) : '' };
}

const sign = (n: number): Order => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Orders two parsed versions as dpkg_version_compare(). */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): Order {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const rc = verrevcmp(a.upstream, b.upstream);
  if (rc) return sign(rc);
  return sign(verrevcmp(a.revision, b.revision));
}

/** Orders two version strings as `dpkg --compare-versions`. */
export function dpkgVercmp(a: string, b: string): Order {
  return compareDpkgVersions(parseDpkgVersion(a), parseDpkgVersion(b));
}

/** Whether `version` stands in relation `op` to `wanted` (dpkg_version_relate). */
export function dpkgRelate(version: string, op: string, wanted: string): boolean {
  const r = dpkgVercmp(version, wanted);
  switch (op) {
    case '<<':
      return r < 0;
    case '<=':
    case '<': // obsolete spelling, means <=
      return r <= 0;
    case '=':
      return r === 0;
    case '>=':
    case '>': // obsolete spelling, means >=
      return r >= 0;
    case '>>':
      return r > 0;
    case '':
      return true;
    default:
      throw usageError(`Cannot compare dpkg versions: unknown relation '${op}'`, { op });
  }
}

/**
 * Whether a package version or a Provides entry satisfies `dep`. A string is
 * a real package's version. A Dep is a Provides entry: an unversioned one
 * satisfies only unversioned dependencies; a versioned one (`foo (= 1.0)`)
 * is checked as that version.
 */
export function dpkgSatisfies(provideOrVersion: string | Dep, dep: Dep): boolean {
  if (typeof provideOrVersion === 'string') return !dep.op || dpkgRelate(provideOrVersion, dep.op, dep.evr);
  const p = provideOrVersion;
  if (p.name !== dep.name) return false;
  if (!dep.op) return true;
  if (!p.op || !p.evr) return false;
  // Provides only allow '='
  return dpkgRelate(p.evr, dep.op, dep.evr);
}

/**
 * dpkg --compare-versions relations (src/main/enquiry.c relationinfos): the
 * answer when a < b, a = b, a > b, and when a, both, or b are empty. The -nl
 * forms treat an empty version as later than any other; `<` and `>` are the
 * obsolete spellings of `<=` and `>=`.
 */
const COMPARE_RELATIONS: Record<string, readonly [lt: boolean, eq: boolean, gt: boolean, noneA: boolean, noneBoth: boolean, noneB: boolean]> = {
  le: [true, true, false, true, true, false],
  lt: [true, false, false, true, false, false],
  eq: [false, true, false, false, true, false],
  ne: [true, false, true, true, false, true],
  ge: [false, true, true, false, true, true],
  gt: [false, false, true, false, false, true],
  'le-nl': [true, true, false, false, true, true],
  'lt-nl': [true, false, false, false, false, true],
  'ge-nl': [false, true, true, true, true, false],
  'gt-nl': [false, false, true, true, false, false],
  '<': [true, true, false, true, true, false],
  '<=': [true, true, false, true, true, false],
  '<<': [true, false, false, true, false, false],
  '=': [false, true, false, false, true, false],
  '>': [false, true, true, false, true, true],
  '>=': [false, true, true, false, true, true],
  '>>': [false, false, true, false, false, true],
};

export const isDpkgCompareRelation = (op: string): boolean => Object.hasOwn(COMPARE_RELATIONS, op);

/**
 * `dpkg --compare-versions a op b`: true when dpkg exits 0. An empty version
 * (or `<unknown>`) is blank and answered by the relation's table, as dpkg
 * does, without comparing. Throws a usage error for an unknown relation or a
 * version dpkg cannot parse.
 */
export function dpkgCompareVersions(a: string, op: string, b: string): boolean {
  if (!isDpkgCompareRelation(op)) throw usageError(`Cannot compare dpkg versions: unknown relation '${op}'`, { op });
  const rel = COMPARE_RELATIONS[op]!;
  const blank = (v: string): boolean => v === '' || v === '<unknown>';
  // dpkg parses both sides before it looks at blanks
  const va = blank(a) ? null : parseDpkgVersion(a);
  const vb = blank(b) ? null : parseDpkgVersion(b);
  if (!va) return vb ? rel[3] : rel[4];
  if (!vb) return rel[5];
  const r = compareDpkgVersions(va, vb);
  return r < 0 ? rel[0] : r === 0 ? rel[1] : rel[2];
}
