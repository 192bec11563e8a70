import type { AnyOf, Dep, DepEntry, RichDep } from '../model.js';
import { WeldError, usageError } from '../errors.js';
import { isRichName } from '../formats/rpm/richdep.js';
import { compareEVR, rpmSatisfies } from '../formats/rpm/evr.js';
import { dpkgSatisfies, dpkgVercmp } from '../formats/deb/version.js';

/**
 * Pure dependency closure over a package universe (no I/O). rpm: Requires
 * against Provides (+ the implicit `name = EVR`), file provides and rich
 * dependencies. deb: Depends + Pre-Depends against packages and Provides,
 * with `|` alternatives. The closure is then checked against Conflicts
 * (deb: and Breaks; rpm: and Obsoletes, and rich Conflicts as rpm reads
 * them): a clash is an error naming both packages, not a silent second choice.
 * Rich dependencies arrive parsed (`Dep.rich`, stored by the catalog).
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

/** Parses a root like "foo", "foo >= 1.2" or (deb) "foo (>= 1.2)". */
export function parseRootSpec(spec: string): Dep {
  const m = /^\s*(\S+?)\s*(?:\(?\s*(<<|<=|>=|>>|==|=<|=>|<|>|=)\s*([^\s)]+)\s*\)?)?\s*$/.exec(spec);
  if (!m) throw usageError(`Cannot parse package spec '${spec}'`, { spec });
  return { name: m[1]!, op: m[2] ?? '', evr: m[3] ?? '' };
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

/**
 * The closure of `roots` over `universe`, in five steps: index the
 * candidates, require the roots, choose until the closure is complete,
 * report what is missing, then report conflicts inside the closure.
 */
export function resolve(universe: ResolverPackage[], roots: string[], opts: ResolveOptions): ResolveResult {
  const index = new CandidateIndex(universe, opts);
  const closure = new Closure(index, opts.prefer ?? []);
  closure.requireRoots(roots);
  closure.complete();
  reportMissing(closure.missing);
  const packages = closure.packages();
  reportConflicts(findConflicts(packages, closure, index, opts.ignoreConflicts ?? []));
  return { packages, chosenBy: closure.chosenBy };
}

/** Candidates: which packages of the pool could satisfy a dependency atom. */
class CandidateIndex {
  readonly format: 'rpm' | 'deb';
  private readonly pool: ResolverPackage[];
  /** provide name → packages offering it (real names included) */
  private readonly providers = new Map<string, ResolverPackage[]>();
  private files: Map<string, ResolverPackage[]> | null = null;

  constructor(universe: ResolverPackage[], opts: ResolveOptions) {
    this.format = opts.format;
    const exclude = new Set(opts.exclude ?? []);
    this.pool = universe.filter((p) => p.format === opts.format && archOk(p, opts.arch) && !exclude.has(p.name));
    for (const p of this.pool) {
      this.addProvider(p.name, p);
      for (const d of provideAtoms(p)) this.addProvider(d.name, p);
    }
  }

  private addProvider(name: string, p: ResolverPackage): void {
    const l = this.providers.get(name);
    if (!l) this.providers.set(name, [p]);
    else if (l[l.length - 1] !== p) l.push(p);
  }

  /** rpm file provides; indexed on first use, as most closures never ask */
  private fileOwners(path: string): ResolverPackage[] {
    if (!this.files) {
      this.files = new Map();
      for (const p of this.pool)
        for (const f of p.files) {
          const l = this.files.get(f);
          if (l) l.push(p);
          else this.files.set(f, [p]);
        }
    }
    return this.files.get(path) ?? [];
  }

  /** The packages that satisfy d. */
  candidates(d: Dep): ResolverPackage[] {
    const name = this.baseName(d);
    const from = new Set(this.providers.get(name) ?? []);
    if (this.format === 'rpm' && name.startsWith('/')) for (const p of this.fileOwners(name)) from.add(p);
    return [...from].filter((p) => this.satisfies(p, d));
  }

  /** Does package p satisfy atom d? */
  satisfies(p: ResolverPackage, d: Dep): boolean {
    if (this.format === 'rpm') {
      if (d.name.startsWith('/') && p.files.includes(d.name)) return true;
      if (p.name === d.name && rpmSatisfies({ name: p.name, op: '=', evr: rpmEVRText(p) }, d)) return true;
      return provideAtoms(p).some((pr) => rpmSatisfies(pr, d));
    }
    const [name, qual] = splitArchQualifier(d.name);
    if (qual && qual !== 'any' && qual !== 'native' && p.arch !== qual && p.arch !== 'all') return false;
    const want: Dep = { ...d, name };
    if (p.name === name && dpkgSatisfies(debVersion(p), want)) return true;
    return provideAtoms(p).some((pr) => dpkgSatisfies(pr, want));
  }

  /** Does package p alone satisfy r? The operands of rpm's with and without name one package. */
  satisfiesRich(p: ResolverPackage, r: RichDep): boolean {
    switch (r.op) {
      case 'atom':
        return this.satisfies(p, r.dep);
      case 'and':
      case 'with':
        return r.args.every((a) => this.satisfiesRich(p, a));
      case 'or':
        return r.args.some((a) => this.satisfiesRich(p, a));
      case 'without':
        return this.satisfiesRich(p, r.args[0]!) && !r.args.slice(1).some((a) => this.satisfiesRich(p, a));
      default:
        return false;
    }
  }

  /** Requirements the runtime itself satisfies. */
  implicit(d: Dep, by: ResolverPackage | null): boolean {
    if (this.format !== 'rpm') return false;
    if (d.name.startsWith('rpmlib(')) return true;
    return by !== null && d.name === `config(${by.name})`;
  }

  /** the name a provider is looked up by: deb drops the multiarch qualifier */
  baseName(d: Dep): string {
    return this.format === 'deb' ? splitArchQualifier(d.name)[0] : d.name;
  }
}

/** Choice: the packages chosen so far, why, and what could not be had. */
class Closure {
  private readonly chosen = new Map<string, ResolverPackage>();
  private readonly chosenNames = new Map<string, ResolverPackage>();
  readonly chosenBy: Record<string, string[]> = {};
  readonly missing: MissingRequirement[] = [];
  private readonly queue: ResolverPackage[] = [];
  private readonly deferredRich: { rich: RichDep; text: string; by: ResolverPackage }[] = [];
  private readonly prefer: Set<string>;

  constructor(
    private readonly index: CandidateIndex,
    prefer: string[],
  ) {
    this.prefer = new Set(prefer);
  }

  has(p: ResolverPackage): boolean {
    return this.chosen.has(p.key);
  }

  /** sorted by name, then key */
  packages(): ResolverPackage[] {
    return [...this.chosen.values()].sort(byNameKey);
  }

  /** Roots: each spec must be had. */
  requireRoots(roots: string[]): void {
    for (const spec of roots) {
      const d = parseRootSpec(spec);
      const text = depText(d, this.index.format);
      if (!this.requireAtom(d, null, text)) this.missing.push({ requirement: text, neededBy: '<root>' });
    }
  }

  /** Plain dependencies first; rich ones see that closure, and repeat until choosing stops changing it. */
  complete(): void {
    this.drain();
    const richFailed = new Map<string, MissingRequirement>();
    for (let round = 0; round < 64; round++) {
      const before = this.chosen.size;
      richFailed.clear();
      for (const r of this.deferredRich) if (!this.requireRich(r.rich, r.by, r.text)) richFailed.set(`${r.text}\0${who(r.by)}`, { requirement: r.text, neededBy: who(r.by) });
      this.drain();
      if (this.chosen.size === before) break;
    }
    this.missing.push(...richFailed.values());
  }

  private drain(): void {
    while (this.queue.length) {
      const p = this.queue.shift()!;
      for (const e of [...p.preDepends, ...p.requires]) this.requireEntry(e, p);
    }
  }

  private requireEntry(e: DepEntry, by: ResolverPackage): void {
    const format = this.index.format;
    const text = entryText(e, format);
    if (isAnyOf(e)) {
      // deb alternatives: one already chosen, else the first that can be had
      const had = e.anyOf.find((x) => this.index.candidates(x).some((p) => this.has(p)));
      if (had) {
        this.requireAtom(had, by, text);
        return;
      }
      for (const a of e.anyOf) if (this.requireAtom(a, by, text)) return;
      this.missing.push({ requirement: text, neededBy: who(by) });
      return;
    }
    if (format === 'rpm' && isRichName(e.name)) {
      const rich = richOf(e);
      if (rich) this.deferredRich.push({ rich, text, by });
      else this.missing.push({ requirement: text, neededBy: who(by) });
      return;
    }
    if (!this.requireAtom(e, by, text)) this.missing.push({ requirement: text, neededBy: who(by) });
  }

  private choose(p: ResolverPackage, reason: string): void {
    (this.chosenBy[p.key] ??= []).includes(reason) || this.chosenBy[p.key]!.push(reason);
    if (this.chosen.has(p.key)) return;
    this.chosen.set(p.key, p);
    this.chosenNames.set(p.name, p);
    this.queue.push(p);
  }

  /** The best candidate: one already chosen, else never a second version of a package already in the closure. */
  private best(cands: ResolverPackage[], d: Dep): ResolverPackage | null {
    const already = cands.filter((p) => this.chosen.has(p.key));
    if (already.length) return already.sort(this.rank(d))[0]!;
    const open = cands.filter((p) => !this.chosenNames.has(p.name));
    return open.length ? open.sort(this.rank(d))[0]! : null;
  }

  private pick(d: Dep): ResolverPackage | null {
    return this.best(this.index.candidates(d), d);
  }

  /** preferred names, then the package named d itself, then by name, newest, key */
  private rank(d: Dep) {
    const base = this.index.baseName(d);
    return (a: ResolverPackage, b: ResolverPackage): number => {
      const pa = this.prefer.has(a.name) ? 0 : 1;
      const pb = this.prefer.has(b.name) ? 0 : 1;
      if (pa !== pb) return pa - pb;
      const ra = a.name === base ? 0 : 1;
      const rb = b.name === base ? 0 : 1;
      if (ra !== rb) return ra - rb;
      if (a.name !== b.name) return a.name < b.name ? -1 : 1;
      const v = compareVersions(b, a);
      if (v) return v;
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    };
  }

  private requireAtom(d: Dep, by: ResolverPackage | null, text: string): boolean {
    if (this.index.implicit(d, by)) return true;
    const p = this.pick(d);
    if (!p) return false;
    this.choose(p, `${who(by)}: ${text}`);
    return true;
  }

  /** Does the closure as it stands make r true? (if without else: true when the condition is false) */
  installed(r: RichDep): boolean {
    switch (r.op) {
      case 'atom':
        return this.index.implicit(r.dep, null) || [...this.chosen.values()].some((p) => this.index.satisfies(p, r.dep));
      case 'and':
        return r.args.every((a) => this.installed(a));
      case 'or':
        return r.args.some((a) => this.installed(a));
      case 'with':
      case 'without':
        return [...this.chosen.values()].some((p) => this.index.satisfiesRich(p, r));
      case 'if':
        return this.installed(r.cond) ? this.installed(r.then) : r.else ? this.installed(r.else) : true;
      case 'unless':
        return !this.installed(r.cond) ? this.installed(r.then) : r.else ? this.installed(r.else) : true;
    }
  }

  private satisfiable(r: RichDep): boolean {
    switch (r.op) {
      case 'atom':
        return this.index.implicit(r.dep, null) || this.pick(r.dep) !== null;
      case 'and':
        return r.args.every((a) => this.satisfiable(a));
      case 'or':
        return r.args.some((a) => this.satisfiable(a));
      case 'with':
      case 'without':
        return this.withCandidate(r) !== null;
      default:
        return true;
    }
  }

  /** One package satisfying every operand of with (the first and none of the rest for without). */
  private withCandidate(r: Extract<RichDep, { args: RichDep[] }>): ResolverPackage | null {
    const lead = atomsOf(r)[0];
    if (!lead) return null;
    const cands = atomsOf(r.args[0]!)
      .flatMap((d) => this.index.candidates(d))
      .filter((p, i, all) => all.indexOf(p) === i && this.index.satisfiesRich(p, r));
    const already = cands.find((p) => this.chosen.has(p.key));
    if (already) return already;
    return cands.filter((p) => !this.chosenNames.has(p.name)).sort(this.rank(lead))[0] ?? null;
  }

  /** Makes r true by choosing packages; false when it cannot. Conditions are read from the current closure. */
  private requireRich(r: RichDep, by: ResolverPackage, text: string): boolean {
    switch (r.op) {
      case 'atom':
        return this.requireAtom(r.dep, by, text);
      case 'and':
        return r.args.map((a) => this.requireRich(a, by, text)).every(Boolean);
      case 'or': {
        if (r.args.some((a) => this.installed(a))) return true;
        const first = r.args.find((a) => this.satisfiable(a));
        return first ? this.requireRich(first, by, text) : false;
      }
      case 'with':
      case 'without': {
        const p = this.withCandidate(r);
        if (!p) return false;
        this.choose(p, `${who(by)}: ${text}`);
        return true;
      }
      case 'if':
        return this.installed(r.cond) ? this.requireRich(r.then, by, text) : r.else ? this.requireRich(r.else, by, text) : true;
      case 'unless':
        return !this.installed(r.cond) ? this.requireRich(r.then, by, text) : r.else ? this.requireRich(r.else, by, text) : true;
    }
  }

  /**
   * The packages in the closure, other than `self`, that make the rich
   * conflict r true, or null when it is not. A conflict holds only where
   * packages make it so, as rpm reads one: (a unless b) is a and not b,
   * and if or unless without else is false when its branch is not taken.
   */
  conflictHits(r: RichDep, self: ResolverPackage): ResolverPackage[] | null {
    const union = (parts: (ResolverPackage[] | null)[]): ResolverPackage[] => [...new Set(parts.flatMap((x) => x ?? []))];
    switch (r.op) {
      case 'atom': {
        const hits = [...this.chosen.values()].filter((q) => q !== self && this.index.satisfies(q, r.dep));
        return hits.length ? hits : null;
      }
      case 'and': {
        const parts = r.args.map((a) => this.conflictHits(a, self));
        return parts.every((x) => x !== null) ? union(parts) : null;
      }
      case 'or': {
        const parts = r.args.map((a) => this.conflictHits(a, self));
        return parts.some((x) => x !== null) ? union(parts) : null;
      }
      case 'with':
      case 'without': {
        const hits = [...this.chosen.values()].filter((q) => q !== self && this.index.satisfiesRich(q, r));
        return hits.length ? hits : null;
      }
      case 'if':
        return this.installed(r.cond) ? this.conflictHits(r.then, self) : r.else ? this.conflictHits(r.else, self) : null;
      case 'unless':
        return !this.installed(r.cond) ? this.conflictHits(r.then, self) : r.else ? this.conflictHits(r.else, self) : null;
    }
  }
}

/** The parsed form the store derives beside a rich dependency; absent when its text does not parse. */
const richOf = (d: Dep): RichDep | null => d.rich ?? null;

function atomsOf(r: RichDep): Dep[] {
  switch (r.op) {
    case 'atom':
      return [r.dep];
    case 'if':
    case 'unless':
      return [...atomsOf(r.then), ...atomsOf(r.cond), ...(r.else ? atomsOf(r.else) : [])];
    default:
      return r.args.flatMap(atomsOf);
  }
}

const who = (by: ResolverPackage | null): string => (by ? packageLabel(by) : '<root>');

const byNameKey = (a: ResolverPackage, b: ResolverPackage): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Report: every requirement that could not be had, in one error. */
function reportMissing(missing: MissingRequirement[]): void {
  if (!missing.length) return;
  const uniq = [...new Map(missing.map((m) => [`${m.requirement}\0${m.neededBy}`, m])).values()];
  throw new WeldError(
    'notfound',
    'E_UNRESOLVED',
    `Cannot resolve ${uniq.length} requirement${uniq.length === 1 ? '' : 's'}: ${uniq.map((m) => `${m.requirement} (needed by ${m.neededBy})`).join(', ')}`,
    { missing: uniq },
  );
}

/** Conflicts: each package's declared Conflicts (deb: and Breaks; rpm: and Obsoletes) against the rest of the closure. */
function findConflicts(packages: ResolverPackage[], closure: Closure, index: CandidateIndex, ignoreConflicts: string[]): PackageConflict[] {
  const format = index.format;
  const ignore = new Set(ignoreConflicts);
  const clashes: PackageConflict[] = [];
  for (const p of packages) {
    if (ignore.has(p.name)) continue;
    const declared: [PackageConflict['kind'], DepEntry[]][] = [
      ['conflicts', p.conflicts ?? []],
      ['breaks', format === 'deb' ? (p.breaks ?? []) : []],
      ['obsoletes', format === 'rpm' ? (p.obsoletes ?? []) : []],
    ];
    for (const [kind, entries] of declared)
      for (const e of entries) {
        if (format === 'rpm' && !isAnyOf(e) && isRichName(e.name)) {
          // a rich dependency that does not parse conflicts with nothing, as before it was read
          const rich = richOf(e);
          const hits = rich ? closure.conflictHits(rich, p) : null;
          for (const q of (hits ?? []).sort(byNameKey)) clashes.push({ pkg: packageLabel(p), kind, dep: e.name, with: packageLabel(q) });
          continue;
        }
        for (const d of isAnyOf(e) ? e.anyOf : [e]) {
          // a package never clashes with itself: Debian lets one conflict with a virtual name it provides
          // rpm Obsoletes match package names (and versions) only, never Provides
          // only packages that could match by name or Provides are compared (candidates() is the universe's index)
          const named = index
            .candidates(d)
            .filter((q) => q !== p && closure.has(q))
            .sort(byNameKey);
          const hits = kind === 'obsoletes' ? named.filter((q) => q.name === d.name && rpmSatisfies({ name: q.name, op: '=', evr: rpmEVRText(q) }, d)) : named;
          for (const q of hits) clashes.push({ pkg: packageLabel(p), kind, dep: depText(d, format), with: packageLabel(q) });
        }
      }
  }
  return clashes;
}

function reportConflicts(clashes: PackageConflict[]): void {
  if (!clashes.length) return;
  throw new WeldError(
    'conflict',
    'E_PACKAGE_CONFLICT',
    `Cannot link: ${clashes.length} package conflict${clashes.length === 1 ? '' : 's'} in the closure: ${clashes.map((c) => `${c.pkg} ${c.kind === 'obsoletes' ? 'obsoletes' : c.kind === 'breaks' ? 'breaks' : 'conflicts with'} ${c.dep}, which ${c.with} satisfies`).join('; ')} (drop one from the variant, pick another provider with [prefer], or list the declaring package in ignore-conflicts)`,
    { conflicts: clashes },
  );
}

const provideAtoms = (p: ResolverPackage): Dep[] => p.provides.flatMap((pr) => (isAnyOf(pr) ? pr.anyOf : [pr]));

/** "foo:any" → ["foo", "any"] (deb multiarch qualifiers). */
function splitArchQualifier(name: string): [string, string | null] {
  const i = name.indexOf(':');
  return i < 0 ? [name, null] : [name.slice(0, i), name.slice(i + 1)];
}

