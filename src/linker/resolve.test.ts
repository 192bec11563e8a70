import { describe, expect, it } from 'vitest';
import type { Dep, DepEntry } from '../model.js';
import { isWeldError } from '../errors.js';
import { parseRichDep } from '../formats/rpm/richdep.js';
import { resolve, type ResolverPackage } from './resolve.js';

const dep = (s: string): Dep => {
  // rich names carry their parsed form, as the store derives it
  if (s.startsWith('(')) return { name: s, op: '', evr: '', rich: parseRichDep(s) };
  const m = /^(\S+)(?:\s+(\S+)\s+(\S+))?$/.exec(s)!;
  return { name: m[1]!, op: m[2] ?? '', evr: m[3] ?? '' };
};
const any = (...alts: string[]): DepEntry => ({ anyOf: alts.map(dep) });

function rpm(nevr: string, o: Partial<{ requires: DepEntry[]; provides: DepEntry[]; files: string[]; arch: string }> = {}): ResolverPackage {
  const [name, version, release] = nevr.split(' ');
  return { key: `${nevr}.${o.arch ?? 'x86_64'}`, format: 'rpm', name: name!, epoch: null, version: version!, release: release!, arch: o.arch ?? 'x86_64', provides: o.provides ?? [], requires: o.requires ?? [], preDepends: [], files: o.files ?? [] };
}
function deb(nv: string, o: Partial<{ depends: DepEntry[]; pre: DepEntry[]; provides: DepEntry[]; arch: string }> = {}): ResolverPackage {
  const [name, v] = nv.split(' ');
  const i = v!.lastIndexOf('-');
  return { key: `${nv}.${o.arch ?? 'amd64'}`, format: 'deb', name: name!, epoch: null, version: i < 0 ? v! : v!.slice(0, i), release: i < 0 ? '' : v!.slice(i + 1), arch: o.arch ?? 'amd64', provides: o.provides ?? [], requires: o.depends ?? [], preDepends: o.pre ?? [], files: [] };
}

const names = (ps: ResolverPackage[]): string[] => ps.map((p) => `${p.name}-${p.version}`);

function unresolved(f: () => unknown): { requirement: string; neededBy: string }[] {
  try {
    f();
  } catch (e) {
    if (isWeldError(e) && e.code === 'E_UNRESOLVED') {
      expect(e.kind).toBe('notfound');
      return e.data.missing as { requirement: string; neededBy: string }[];
    }
    throw e;
  }
  throw new Error('expected E_UNRESOLVED');
}

const RPM = { format: 'rpm' as const, arch: 'x86_64' };
const DEB = { format: 'deb' as const, arch: 'amd64' };

describe('resolve (rpm)', () => {
  const universe = [
    rpm('bash 5.2 1', { requires: [dep('libtinfo.so.6()(64bit)'), dep('/usr/bin/sh'), dep('rpmlib(CompressedFileNames) <= 3.0.4-1'), dep('config(bash) = 5.2-1'), dep('filesystem >= 3')] }),
    rpm('ncurses-libs 6.4 1', { provides: [dep('libtinfo.so.6()(64bit)')] }),
    rpm('dash 0.5 1', { files: ['/usr/bin/sh'] }),
    rpm('filesystem 3.18 2', {}),
    rpm('filesystem 2.0 1', {}),
    rpm('filesystem 3.19 1', { arch: 'aarch64' }),
    rpm('mta-a 1 1', { provides: [dep('mta')] }),
    rpm('mta-b 1 1', { provides: [dep('mta')] }),
    rpm('mta 0.1 1', {}),
    rpm('app 1 1', { requires: [dep('(python3 or perl)'), dep('(docs if man-db)'), dep('(gui-bits if x11)'), dep('(libfoo with libfoo-abi = 2)')] }),
    rpm('perl 5 1', {}),
    rpm('python3 3.11 1', {}),
    rpm('man-db 2 1', {}),
    rpm('docs 1 1', {}),
    rpm('gui-bits 1 1', {}),
    rpm('libfoo 2 1', { provides: [dep('libfoo-abi = 2')] }),
    rpm('libfoo 3 1', { provides: [dep('libfoo-abi = 3')] }),
    rpm('needs-old 1 1', { requires: [dep('filesystem < 3'), dep('nothing-provides-this'), dep('libfoo-abi > 3'), dep('mta >= 2')] }),
  ];

  it.each([
    // [roots, expected closure]
    [['bash'], ['bash-5.2', 'dash-0.5', 'filesystem-3.18', 'ncurses-libs-6.4']],
    [['mta'], ['mta-0.1']], // the real package beats virtual providers
    [['filesystem < 3'], ['filesystem-2.0']],
    [['libfoo-abi = 3'], ['libfoo-3']],
    [['app', 'man-db'], ['app-1', 'docs-1', 'libfoo-2', 'man-db-2', 'python3-3.11']],
    [['app'], ['app-1', 'libfoo-2', 'python3-3.11']],
    [['app', 'perl'], ['app-1', 'libfoo-2', 'perl-5']], // or: one already chosen wins
  ])('%j → %j', (roots, want) => {
    expect(names(resolve(universe, roots, RPM).packages)).toEqual(want);
  });

  it('prefers listed providers, otherwise the lexically first', () => {
    const u = [rpm('x 1 1', { requires: [dep('mta')] }), ...universe.filter((p) => p.name.startsWith('mta-'))];
    expect(names(resolve(u, ['x'], RPM).packages)).toEqual(['mta-a-1', 'x-1']);
    expect(names(resolve(u, ['x'], { ...RPM, prefer: ['mta-b'] }).packages)).toEqual(['mta-b-1', 'x-1']);
    expect(names(resolve(u, ['x'], { ...RPM, exclude: ['mta-a'] }).packages)).toEqual(['mta-b-1', 'x-1']);
  });

  it('lists every missing requirement with who needs it', () => {
    const missing = unresolved(() => resolve(universe, ['needs-old', 'bash', 'ghost >= 1'], RPM));
    expect(missing).toEqual([
      { requirement: 'ghost >= 1', neededBy: '<root>' },
      { requirement: 'nothing-provides-this', neededBy: 'needs-old-1-1' },
      // 'mta >= 2' is met: an unversioned rpm Provides satisfies any version
      { requirement: 'libfoo-abi > 3', neededBy: 'needs-old-1-1' },
      // needs-old took filesystem-2.0 first, so bash's requirement cannot be met
      { requirement: 'filesystem >= 3', neededBy: 'bash-5.2-1' },
    ]);
  });

  it('refuses a second version of a package already chosen', () => {
    const missing = unresolved(() => resolve(universe, ['bash', 'filesystem < 3'], RPM));
    expect(missing).toEqual([{ requirement: 'filesystem >= 3', neededBy: 'bash-5.2-1' }]);
  });

  it('records why each package was chosen', () => {
    const r = resolve(universe, ['bash'], RPM);
    const dash = r.packages.find((p) => p.name === 'dash')!;
    expect(r.chosenBy[dash.key]).toEqual(['bash-5.2-1: /usr/bin/sh']);
  });

  it('parses rich dependencies', () => {
    expect(parseRichDep('(a >= 1 or (b if c else d))')).toEqual({
      op: 'or',
      args: [{ op: 'atom', dep: { name: 'a', op: '>=', evr: '1' } }, { op: 'if', cond: { op: 'atom', dep: dep('c') }, then: { op: 'atom', dep: dep('b') }, else: { op: 'atom', dep: dep('d') } }],
    });
    expect(() => parseRichDep('(a or')).toThrow();
  });
});

describe('resolve (rpm rich dependencies)', () => {
  const perl = rpm('perl-Foo-Bar 1.5 1', { provides: [dep('perl(Foo::Bar) = 1.5')] });
  const py = rpm('python3-baz 2.0 1', { provides: [dep('python3dist(baz) = 2.0')] });
  const pc = rpm('weld-devel 3 1', { provides: [dep('pkgconfig(weld) = 3')] });
  const so = rpm('libweld 6 1', { provides: [dep('libweld.so.6()(64bit)')] });

  it('reads parenthesised names inside a rich dependency', () => {
    const app = rpm('app 1 1', { requires: [dep('(perl(Foo::Bar) >= 1.0 or python3dist(baz))'), dep('(pkgconfig(weld) >= 3 if libweld.so.6()(64bit))')] });
    expect(names(resolve([app, perl, py, pc], ['app'], RPM).packages)).toEqual(['app-1', 'perl-Foo-Bar-1.5']);
    expect(names(resolve([app, perl, py, pc, so], ['app', 'libweld'], RPM).packages)).toEqual(['app-1', 'libweld-6', 'perl-Foo-Bar-1.5', 'weld-devel-3']);
  });

  it('uses the parsed form stored beside the raw text', () => {
    // the stored form wins: the raw text names nothing that exists
    const app = rpm('app 1 1', { requires: [{ name: '(nothing or nowhere)', op: '', evr: '', rich: { op: 'atom', dep: dep('python3dist(baz)') } }] });
    expect(names(resolve([app, py], ['app'], RPM).packages)).toEqual(['app-1', 'python3-baz-2.0']);
  });

  it('with and without operands may nest', () => {
    const app = rpm('app 1 1', { requires: [dep('(python3dist(baz) with (libweld.so.6()(64bit) or pkgconfig(weld)))')] });
    const both = rpm('baz-weld 1 1', { provides: [dep('python3dist(baz) = 2.0'), dep('pkgconfig(weld) = 3')] });
    expect(names(resolve([app, py, pc, both], ['app'], RPM).packages)).toEqual(['app-1', 'baz-weld-1']);
  });

  it('a rich Conflicts holds as rpm reads it: (a unless b) is a without b', () => {
    const app = { ...rpm('app 1 1'), conflicts: [dep('(pkgconfig(weld) unless libweld.so.6()(64bit))')] };
    expect(names(resolve([app, pc, so], ['app', 'libweld', 'weld-devel'], RPM).packages)).toEqual(['app-1', 'libweld-6', 'weld-devel-3']);
    let err: unknown;
    try {
      resolve([app, pc, so], ['app', 'weld-devel'], RPM);
    } catch (e) {
      err = e;
    }
    expect(isWeldError(err) && err.code).toBe('E_PACKAGE_CONFLICT');
    expect((err as Error & { data: { conflicts: unknown } }).data.conflicts).toEqual([{ pkg: 'app-1-1', kind: 'conflicts', dep: '(pkgconfig(weld) unless libweld.so.6()(64bit))', with: 'weld-devel-3-1' }]);
  });
});

describe('resolve (deb)', () => {
  const universe = [
    deb('apt 2.6.1', { depends: [dep('libc6 >= 2.34'), any('gpgv', 'gpgv2', 'gpgv1'), dep('base-passwd'), dep('libstdc++6:any')] }),
    deb('libc6 2.36-9', { depends: [dep('libgcc-s1')] }),
    deb('libgcc-s1 12.2.0-14', { depends: [dep('libc6 >= 2.35')] }), // a cycle
    deb('libstdc++6 12.2.0-14', { depends: [dep('libc6')] }),
    deb('libstdc++6 12.2.0-14', { arch: 'i386' }),
    deb('gpgv2 2.2', {}),
    deb('gpgv 2.2.40-1', {}),
    deb('base-passwd 3.6.1', { pre: [dep('libc6 >= 2.0')] }),
    deb('awk-impl 1.0', { provides: [dep('awk')] }),
    deb('mawk 1.3.4-1', { provides: [{ name: 'awk', op: '=', evr: '1.3.4' }] }),
    deb('wants-awk 1', { depends: [dep('awk >= 1.3')] }),
    deb('wants-any-awk 1', { depends: [dep('awk')] }),
    deb('broken 1', { depends: [any('nope1', 'nope2'), dep('libc6 >> 3')], pre: [dep('missing-pre')] }),
  ];

  it.each([
    [['apt'], ['apt-2.6.1', 'base-passwd-3.6.1', 'gpgv-2.2.40', 'libc6-2.36', 'libgcc-s1-12.2.0', 'libstdc++6-12.2.0']],
    [['gpgv2', 'apt'], ['apt-2.6.1', 'base-passwd-3.6.1', 'gpgv2-2.2', 'libc6-2.36', 'libgcc-s1-12.2.0', 'libstdc++6-12.2.0']],
    [['wants-awk'], ['mawk-1.3.4', 'wants-awk-1']], // only a versioned Provides satisfies a versioned dep
    [['wants-any-awk'], ['awk-impl-1.0', 'wants-any-awk-1']],
    [['libc6 (>= 2.36)'], ['libc6-2.36', 'libgcc-s1-12.2.0']],
  ])('%j → %j', (roots, want) => {
    expect(names(resolve(universe, roots, DEB).packages)).toEqual(want);
  });

  it('only picks the requested architecture', () => {
    const r = resolve(universe, ['libstdc++6'], DEB);
    expect(r.packages.map((p) => p.arch)).toEqual(['amd64', 'amd64', 'amd64']);
  });

  it('lists every missing requirement, alternatives and Pre-Depends included', () => {
    expect(unresolved(() => resolve(universe, ['broken', 'libc6 (>= 9)'], DEB))).toEqual([
      { requirement: 'libc6 (>= 9)', neededBy: '<root>' },
      { requirement: 'missing-pre', neededBy: 'broken-1' },
      { requirement: 'nope1 | nope2', neededBy: 'broken-1' },
      { requirement: 'libc6 (>> 3)', neededBy: 'broken-1' },
    ]);
  });

  it('is deterministic whatever the universe order', () => {
    const a = resolve(universe, ['apt', 'wants-any-awk'], DEB).packages.map((p) => p.key);
    const b = resolve([...universe].reverse(), ['apt', 'wants-any-awk'], DEB).packages.map((p) => p.key);
    expect(b).toEqual(a);
  });
});

function clashes(f: () => unknown): { pkg: string; kind: string; dep: string; with: string }[] {
  try {
    f();
  } catch (e) {
    if (isWeldError(e) && e.code === 'E_PACKAGE_CONFLICT') {
      expect(e.kind).toBe('conflict');
      return e.data.conflicts as { pkg: string; kind: string; dep: string; with: string }[];
    }
    throw e;
  }
  throw new Error('expected E_PACKAGE_CONFLICT');
}

describe('resolve: Conflicts, Breaks and Obsoletes are enforced on the closure', () => {
  const withDecl = <T extends ResolverPackage>(p: T, o: Partial<Pick<ResolverPackage, 'conflicts' | 'breaks' | 'obsoletes'>>): T => ({ ...p, ...o });
  const debs = [
    withDecl(deb('exim4 4.96-15', { provides: [dep('mail-transport-agent')] }), { conflicts: [dep('mail-transport-agent')] }),
    withDecl(deb('postfix 3.7.6-0', { provides: [dep('mail-transport-agent')] }), { conflicts: [dep('mail-transport-agent')] }),
    withDecl(deb('newlib 2.0-1', {}), { breaks: [{ name: 'oldapp', op: '<<', evr: '2' }] }),
    deb('oldapp 1.5-1', {}),
    deb('oldapp 2.1-1', {}),
    withDecl(deb('tidy 1.0', { provides: [dep('tidy-virtual')] }), { conflicts: [dep('tidy-virtual')] }),
  ];

  it('deb: two providers that each conflict with the virtual name clash, both ways; one alone is fine', () => {
    expect(names(resolve(debs, ['exim4'], DEB).packages)).toEqual(['exim4-4.96']);
    expect(names(resolve(debs, ['tidy'], DEB).packages)).toEqual(['tidy-1.0']); // conflicting with what it provides itself is allowed
    expect(clashes(() => resolve(debs, ['exim4', 'postfix'], DEB))).toEqual([
      { pkg: 'exim4-4.96-15', kind: 'conflicts', dep: 'mail-transport-agent', with: 'postfix-3.7.6-0' },
      { pkg: 'postfix-3.7.6-0', kind: 'conflicts', dep: 'mail-transport-agent', with: 'exim4-4.96-15' },
    ]);
  });

  it('deb: Breaks counts with its version: an older package breaks, a newer one does not', () => {
    expect(clashes(() => resolve(debs, ['newlib', 'oldapp (= 1.5-1)'], DEB))).toEqual([{ pkg: 'newlib-2.0-1', kind: 'breaks', dep: 'oldapp (<< 2)', with: 'oldapp-1.5-1' }]);
    expect(names(resolve(debs, ['newlib', 'oldapp'], DEB).packages)).toEqual(['newlib-2.0', 'oldapp-2.1']);
  });

  it('the variant can waive a package\'s declarations', () => {
    expect(names(resolve(debs, ['exim4', 'postfix'], { ...DEB, ignoreConflicts: ['exim4', 'postfix'] }).packages)).toEqual(['exim4-4.96', 'postfix-3.7.6']);
  });

  it('rpm: Conflicts match Provides and files; Obsoletes match names only', () => {
    const rpms = [
      withDecl(rpm('new-tool 2 1', { provides: [dep('old-tool = 2')] }), { obsoletes: [dep('old-tool < 2')] }),
      rpm('old-tool 1 1', {}),
      rpm('provides-old 1 1', { provides: [dep('old-tool = 1')] }),
      withDecl(rpm('a 1 1', {}), { conflicts: [dep('/usr/bin/x')] }),
      rpm('b 1 1', { files: ['/usr/bin/x'] }),
    ];
    // a plain "old-tool" is satisfied by new-tool's Provides; asking for the old package itself clashes
    expect(names(resolve(rpms, ['new-tool', 'old-tool'], RPM).packages)).toEqual(['new-tool-2']);
    expect(clashes(() => resolve(rpms, ['new-tool', 'old-tool = 1-1'], RPM))).toEqual([{ pkg: 'new-tool-2-1', kind: 'obsoletes', dep: 'old-tool < 2', with: 'old-tool-1-1' }]);
    expect(names(resolve(rpms, ['new-tool', 'provides-old'], RPM).packages)).toEqual(['new-tool-2', 'provides-old-1']);
    expect(clashes(() => resolve(rpms, ['a', 'b'], RPM))).toEqual([{ pkg: 'a-1-1', kind: 'conflicts', dep: '/usr/bin/x', with: 'b-1-1' }]);
  });
});
