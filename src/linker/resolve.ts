import type { AnyOf, Dep, DepEntry, RichDep } from '../model.js';
import { WeldError, usageError } from '../errors.js';
import { compareEVR, parseEVR, rpmSatisfies } from '../formats/rpm/evr.js';
import { dpkgSatisfies, dpkgVercmp } from '../formats/deb/version.js';

/**
 * Pure dependency closure over a package universe (no I/O). rpm: Requires
 * against Provides (+ the implicit `name = EVR`), file provides and rich
 * dependencies. deb: Depends + Pre-Depends against packages and Provides,
 * with `|` alternatives. The closure is then checked against Conflicts
 * (deb: and Breaks; rpm: and Obsoletes): a clash is an error naming both
 * packages, not a silent second choice.
 */

export interface ResolverPackage {
  /** unique id of this package in the universe (e.g. the catalog row id) */
  key: string;
  format: 'rpm' | 'deb';
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  provides: DepEntry[];
  requires: DepEntry[];
  preDepends: DepEntry[];
  /** absolute paths, for rpm file provides */
  files: string[];
  conflicts?: DepEntry[];
  breaks?: DepEntry[];
  obsoletes?: DepEntry[];
}

export interface ResolveOptions {
  format: 'rpm' | 'deb';
  /** e.g. x86_64 or amd64 */
  arch: string;
  /** names preferred when several packages could satisfy a requirement */
  prefer?: string[];
  /** names never chosen */
  exclude?: string[];
  /** packages whose declared Conflicts/Breaks/Obsoletes are not enforced (bad metadata) */
  ignoreConflicts?: string[];
}

export interface PackageConflict {
  /** the package declaring it */
  pkg: string;
  kind: 'conflicts' | 'breaks' | 'obsoletes';
  dep: string;
  /** the package in the closure it hits */
  with: string;
}

export interface ResolveResult {
  /** sorted by name, then key */
  packages: ResolverPackage[];
  /** key → the requirements that pulled the package in ("<root>: foo" or "bar-1.0-1: foo >= 1") */
  chosenBy: Record<string, string[]>;
}

export interface MissingRequirement {
  requirement: string;
  neededBy: string;
}

const RPM_OPS = new Set(['<', '<=', '=', '==', '>=', '>', '=<', '=>']);
const DEB_OPS = new Set(['<<', '<=', '=', '>=', '>>', '<', '>']);

/** Parses a root like "foo", "foo >= 1.2" or (deb) "foo (>= 1.2)". */
export function parseRootSpec(spec: string): Dep {
  const m = /^\s*(\S+?)\s*(?:\(?\s*(<<|<=|>=|>>|==|=<|=>|<|>|=)\s*([^\s)]+)\s*\)?)?\s*$/.exec(spec);
  if (!m) throw usageError(`Cannot parse package spec '${spec}'`, { spec });
  return { name: m[1]!, op: m[2] ?? '', evr: m[3] ?? '' };
}

/** Parses an rpm rich dependency "(a or (b >= 1 and c))". */
export function parseRichDep(text: string): RichDep {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let k = 0;
  const fail = (why: string): never => {
    throw usageError(`Cannot parse rich dependency '${text}': ${why}`, { text });
  };
  const KEYWORDS = new Set(['and', 'or', 'if', 'else', 'unless', 'with', 'without']);
  const term = (): RichDep => {
    const t = tokens[k];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      k++;
      const e = expr();
      if (tokens[k] !== ')') fail('missing )');
      k++;
      return e;
    }
    if (t === ')' || KEYWORDS.has(t)) fail(`unexpected '${t}'`);
    k++;
    const dep: Dep = { name: t, op: '', evr: '' };
    if (tokens[k] !== undefined && RPM_OPS.has(tokens[k]!)) {
      dep.op = tokens[k++]!;
      const v = tokens[k++];
      if (v === undefined || v === ')' || v === '(') fail('missing version');
      dep.evr = v!;
    }
    return { op: 'atom', dep };
  };
  const expr = (): RichDep => {
    const first = term();
    const op = tokens[k];
    if (op === undefined || op === ')') return first;
    k++;
    if (op === 'and' || op === 'or' || op === 'with' || op === 'without') {
      const args = [first, term()];
      while (tokens[k] === op) {
        k++;
        args.push(term());
      }
      return { op, args };
    }
    if (op === 'if' || op === 'unless') {
      const cond = term();
      if (tokens[k] === 'else') {
        k++;
        return { op, cond, then: first, else: term() };
      }
      return { op, cond, then: first };
    }
    return fail(`unknown operator '${op}'`);
  };
  const e = expr();
  if (k !== tokens.length) fail('trailing text');
  return e;
}

const isAnyOf = (d: DepEntry): d is AnyOf => 'anyOf' in d;

function depText(d: Dep, format: 'rpm' | 'deb'): string {
  if (!d.op) return d.name;
  return format === 'deb' ? `${d.name} (${d.op} ${d.evr})` : `${d.name} ${d.op} ${d.evr}`;
}

function entryText(d: DepEntry, format: 'rpm' | 'deb'): string {
  return isAnyOf(d) ? d.anyOf.map((a) => depText(a, format)).join(' | ') : depText(d, format);
}

export function packageLabel(p: ResolverPackage): string {
  const v = p.format === 'deb' ? `${p.epoch ? `${p.epoch}:` : ''}${p.version}${p.release ? `-${p.release}` : ''}` : `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
  return `${p.name}-${v}`;
}

/** The version string a deb package is compared with. */
function debVersion(p: ResolverPackage): string {
  return `${p.epoch ? `${p.epoch}:` : ''}${p.version}${p.release ? `-${p.release}` : ''}`;
}

function rpmEVRText(p: ResolverPackage): string {
  return `${p.epoch !== null ? `${p.epoch}:` : ''}${p.version}-${p.release}`;
}

/** Newest first; same-name ordering by format's version rules. */
function compareVersions(a: ResolverPackage, b: ResolverPackage): number {
  if (a.format === 'deb') return dpkgVercmp(debVersion(a), debVersion(b));
  return compareEVR({ epoch: a.epoch ?? 0, version: a.version, release: a.release }, { epoch: b.epoch ?? 0, version: b.version, release: b.release });
}

const archOk = (p: ResolverPackage, arch: string): boolean => p.arch === arch || p.arch === 'noarch' || p.arch === 'all';

export function resolve(universe: ResolverPackage[], roots: string[], opts: ResolveOptions): ResolveResult {
  const format = opts.format;
  const exclude = new Set(opts.exclude ?? []);
  const prefer = new Set(opts.prefer ?? []);
  const pool = universe.filter((p) => p.format === format && archOk(p, opts.arch) && !exclude.has(p.name));

  // provide name → packages offering it (real names included)
  const providers = new Map<string, ResolverPackage[]>();
  const addProvider = (name: string, p: ResolverPackage): void => {
    const l = providers.get(name);
    if (!l) providers.set(name, [p]);
    else if (l[l.length - 1] !== p) l.push(p);
  };
  for (const p of pool) {
    addProvider(p.name, p);
    for (const pr of p.provides) for (const d of isAnyOf(pr) ? pr.anyOf : [pr]) addProvider(d.name, p);
  }
  let files: Map<string, ResolverPackage[]> | null = null;
  const fileOwners = (path: string): ResolverPackage[] => {
    if (!files) {
      files = new Map();
      for (const p of pool)
        for (const f of p.files) {
          const l = files.get(f);
          if (l) l.push(p);
          else files.set(f, [p]);
        }
    }
    return files.get(path) ?? [];
  };

  const provideAtoms = (p: ResolverPackage): Dep[] => p.provides.flatMap((pr) => (isAnyOf(pr) ? pr.anyOf : [pr]));

  /** Does package p satisfy atom d? */
  const satisfies = (p: ResolverPackage, d: Dep): boolean => {
    if (format === 'rpm') {
      if (d.name.startsWith('/') && p.files.includes(d.name)) return true;
      if (p.name === d.name && rpmSatisfies({ name: p.name, op: '=', evr: rpmEVRText(p) }, d)) return true;
      return provideAtoms(p).some((pr) => rpmSatisfies(pr, d));
    }
    const [name, qual] = splitArchQualifier(d.name);
    if (qual && qual !== 'any' && qual !== 'native' && p.arch !== qual && p.arch !== 'all') return false;
    const want: Dep = { ...d, name };
    if (p.name === name && dpkgSatisfies(debVersion(p), want)) return true;
    return provideAtoms(p).some((pr) => dpkgSatisfies(pr, want));
  };

  /** Requirements the runtime itself satisfies. */
  const implicit = (d: Dep, by: ResolverPackage | null): boolean => {
    if (format !== 'rpm') return false;
    if (d.name.startsWith('rpmlib(')) return true;
    return by !== null && d.name === `config(${by.name})`;
  };

  const candidates = (d: Dep): ResolverPackage[] => {
    const name = format === 'deb' ? splitArchQualifier(d.name)[0] : d.name;
    const from = new Set(providers.get(name) ?? []);
    if (format === 'rpm' && name.startsWith('/')) for (const p of fileOwners(name)) from.add(p);
    return [...from].filter((p) => satisfies(p, d));
  };

  const chosen = new Map<string, ResolverPackage>();
  const chosenNames = new Map<string, ResolverPackage>();
  const chosenBy: Record<string, string[]> = {};
  const queue: ResolverPackage[] = [];
  const missing: MissingRequirement[] = [];
  const deferredRich: { rich: RichDep; text: string; by: ResolverPackage }[] = [];

  const pick = (d: Dep): ResolverPackage | null => {
    const cands = candidates(d);
    const already = cands.filter((p) => chosen.has(p.key));
    if (already.length) return already.sort(rank(d))[0]!;
    // never a second version of a package already in the closure
    const open = cands.filter((p) => !chosenNames.has(p.name));
    return open.length ? open.sort(rank(d))[0]! : null;
  };
  const rank =
    (d: Dep) =>
    (a: ResolverPackage, b: ResolverPackage): number => {
      const pa = prefer.has(a.name) ? 0 : 1;
      const pb = prefer.has(b.name) ? 0 : 1;
      if (pa !== pb) return pa - pb;
      const base = format === 'deb' ? splitArchQualifier(d.name)[0] : d.name;
      const ra = a.name === base ? 0 : 1;
      const rb = b.name === base ? 0 : 1;
      if (ra !== rb) return ra - rb;
      if (a.name !== b.name) return a.name < b.name ? -1 : 1;
      const v = compareVersions(b, a);
      if (v) return v;
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    };

  const choose = (p: ResolverPackage, reason: string): void => {
    (chosenBy[p.key] ??= []).includes(reason) || chosenBy[p.key]!.push(reason);
    if (chosen.has(p.key)) return;
    chosen.set(p.key, p);
    chosenNames.set(p.name, p);
    queue.push(p);
  };

  const who = (by: ResolverPackage | null): string => (by ? packageLabel(by) : '<root>');

  const requireAtom = (d: Dep, by: ResolverPackage | null, text: string): boolean => {
    if (implicit(d, by)) return true;
    const p = pick(d);
    if (!p) return false;
    choose(p, `${who(by)}: ${text}`);
    return true;
  };

  const installed = (r: RichDep): boolean => {
    switch (r.op) {
      case 'atom':
        return implicit(r.dep, null) || [...chosen.values()].some((p) => satisfies(p, r.dep));
      case 'and':
        return r.args.every(installed);
      case 'or':
        return r.args.some(installed);
      case 'with':
        return [...chosen.values()].some((p) => r.args.every((a) => a.op === 'atom' && satisfies(p, a.dep)));
      case 'without':
        return [...chosen.values()].some((p) => r.args[0]!.op === 'atom' && satisfies(p, r.args[0].dep) && !r.args.slice(1).some((a) => a.op === 'atom' && satisfies(p, a.dep)));
      case 'if':
        return installed(r.cond) ? installed(r.then) : r.else ? installed(r.else) : true;
      case 'unless':
        return !installed(r.cond) ? installed(r.then) : r.else ? installed(r.else) : true;
    }
  };
  const satisfiable = (r: RichDep): boolean => {
    switch (r.op) {
      case 'atom':
        return implicit(r.dep, null) || pick(r.dep) !== null;
      case 'and':
        return r.args.every(satisfiable);
      case 'or':
        return r.args.some(satisfiable);
      case 'with':
      case 'without':
        return withCandidate(r) !== null;
      default:
        return true;
    }
  };
  const withCandidate = (r: { op: string; args: RichDep[] }): ResolverPackage | null => {
    const [first, ...rest] = r.args;
    if (first?.op !== 'atom' || rest.some((a) => a.op !== 'atom')) return null;
    const ok = (p: ResolverPackage): boolean =>
      r.op === 'with' ? rest.every((a) => satisfies(p, (a as { dep: Dep }).dep)) : !rest.some((a) => satisfies(p, (a as { dep: Dep }).dep));
    const cands = candidates(first.dep).filter(ok);
    const already = cands.find((p) => chosen.has(p.key));
    if (already) return already;
    return cands.filter((p) => !chosenNames.has(p.name)).sort(rank(first.dep))[0] ?? null;
  };
  /** Makes r true by choosing packages; false when it cannot. Conditions are read from the current closure. */
  const requireRich = (r: RichDep, by: ResolverPackage, text: string): boolean => {
    switch (r.op) {
      case 'atom':
        return requireAtom(r.dep, by, text);
      case 'and':
        return r.args.map((a) => requireRich(a, by, text)).every(Boolean);
      case 'or': {
        if (r.args.some(installed)) return true;
        const first = r.args.find(satisfiable);
        return first ? requireRich(first, by, text) : false;
      }
      case 'with':
      case 'without': {
        const p = withCandidate(r);
        if (!p) return false;
        choose(p, `${who(by)}: ${text}`);
        return true;
      }
      case 'if':
        return installed(r.cond) ? requireRich(r.then, by, text) : r.else ? requireRich(r.else, by, text) : true;
      case 'unless':
        return !installed(r.cond) ? requireRich(r.then, by, text) : r.else ? requireRich(r.else, by, text) : true;
    }
  };

  const requireEntry = (e: DepEntry, by: ResolverPackage): void => {
    const text = entryText(e, format);
    if (isAnyOf(e)) {
      // deb alternatives: one already chosen, else the first that can be had
      if (e.anyOf.some((a) => candidates(a).some((p) => chosen.has(p.key)))) {
        const a = e.anyOf.find((x) => candidates(x).some((p) => chosen.has(p.key)))!;
        requireAtom(a, by, text);
        return;
      }
      for (const a of e.anyOf) if (requireAtom(a, by, text)) return;
      missing.push({ requirement: text, neededBy: who(by) });
      return;
    }
    if (format === 'rpm' && e.name.startsWith('(')) {
      let rich: RichDep;
      try {
        rich = parseRichDep(e.name);
      } catch {
        missing.push({ requirement: text, neededBy: who(by) });
        return;
      }
      deferredRich.push({ rich, text, by });
      return;
    }
    if (!requireAtom(e, by, text)) missing.push({ requirement: text, neededBy: who(by) });
  };

  const drain = (): void => {
    while (queue.length) {
      const p = queue.shift()!;
      for (const e of [...p.preDepends, ...p.requires]) requireEntry(e, p);
    }
  };

  for (const spec of roots) {
    const d = parseRootSpec(spec);
    const text = depText(d, format);
    if (!requireAtom(d, null, text)) missing.push({ requirement: text, neededBy: '<root>' });
  }
  drain();
  // rich deps see the closure of plain deps; repeat until choosing stops changing it
  const richFailed = new Map<string, MissingRequirement>();
  for (let round = 0; round < 64; round++) {
    const before = chosen.size;
    richFailed.clear();
    for (const r of deferredRich) if (!requireRich(r.rich, r.by, r.text)) richFailed.set(`${r.text}\0${who(r.by)}`, { requirement: r.text, neededBy: who(r.by) });
    drain();
    if (chosen.size === before) break;
  }
  missing.push(...richFailed.values());

  if (missing.length) {
    const uniq = [...new Map(missing.map((m) => [`${m.requirement}\0${m.neededBy}`, m])).values()];
    throw new WeldError(
      'notfound',
      'E_UNRESOLVED',
      `Cannot resolve ${uniq.length} requirement${uniq.length === 1 ? '' : 's'}: ${uniq.map((m) => `${m.requirement} (needed by ${m.neededBy})`).join(', ')}`,
      { missing: uniq },
    );
  }
  const packages = [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const ignore = new Set(opts.ignoreConflicts ?? []);
  const clashes: PackageConflict[] = [];
  for (const p of packages) {
    if (ignore.has(p.name)) continue;
    const declared: [PackageConflict['kind'], DepEntry[]][] = [
      ['conflicts', p.conflicts ?? []],
      ['breaks', format === 'deb' ? (p.breaks ?? []) : []],
      ['obsoletes', format === 'rpm' ? (p.obsoletes ?? []) : []],
    ];
    for (const [kind, entries] of declared)
      for (const e of entries)
        for (const d of isAnyOf(e) ? e.anyOf : [e]) {
          // a package never clashes with itself: Debian lets one conflict with a virtual name it provides
          // rpm Obsoletes match package names (and versions) only, never Provides
          // only packages that could match by name or Provides are compared (candidates() is the universe's index)
          const named = candidates(d)
            .filter((q) => q !== p && chosen.has(q.key))
            .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
          const hits = kind === 'obsoletes' ? named.filter((q) => q.name === d.name && rpmSatisfies({ name: q.name, op: '=', evr: rpmEVRText(q) }, d)) : named;
          for (const q of hits) clashes.push({ pkg: packageLabel(p), kind, dep: depText(d, format), with: packageLabel(q) });
        }
  }
  if (clashes.length) {
    throw new WeldError(
      'conflict',
      'E_PACKAGE_CONFLICT',
      `Cannot link: ${clashes.length} package conflict${clashes.length === 1 ? '' : 's'} in the closure: ${clashes.map((c) => `${c.pkg} ${c.kind === 'obsoletes' ? 'obsoletes' : c.kind === 'breaks' ? 'breaks' : 'conflicts with'} ${c.dep}, which ${c.with} satisfies`).join('; ')} (drop one from the variant, pick another provider with [prefer], or list the declaring package in ignore-conflicts)`,
      { conflicts: clashes },
    );
  }
  return { packages, chosenBy };
}

/** "foo:any" → ["foo", "any"] (deb multiarch qualifiers). */
function splitArchQualifier(name: string): [string, string | null] {
  const i = name.indexOf(':');
  return i < 0 ? [name, null] : [name.slice(0, i), name.slice(i + 1)];
}

export { DEB_OPS, RPM_OPS };
