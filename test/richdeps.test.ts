/**
 * Rich (boolean) dependencies end to end, checked against rpm 4.18 itself.
 * The packages come from fixtures/rpm/weld-rich-{providers,consumers}.spec
 * (rpmbuild, via scripts/build-fixtures.sh): one consumer per operator, over
 * parenthesised names such as perl(Foo::Bar), python3dist(baz),
 * pkgconfig(weld), libweld.so.6()(64bit) and config(weld-thing). Each set
 * of packages is imported into a fresh store and linked with all of them as
 * roots; `rpm -U --test` into an empty root must give the same verdict.
 * Where both accept, the closure weld picks from the consumer alone must
 * install for rpm too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeldError } from '../src/errors.js';
import { importAll } from '../src/importer/pool.js';
import { link } from '../src/linker/link.js';
import { adhocVariant } from '../src/linker/variant.js';
import { Store } from '../src/store/store.js';
import { ROOT, has, run } from './helpers/tools.js';

const RPMS = path.join(ROOT, 'fixtures/.cache/rpm-rich');
const canRun = has('rpm') && has('rpmbuild');

type Verdict = 'ok' | 'missing' | 'conflict';

// [consumer, the other packages of the set, verdict, alone]; names without the weld-rich- prefix.
// alone false: the consumer by itself cannot be had from the set, as the
// condition that the set meets is not pulled in by the consumer (weld reads
// conditions from the closure, as rpm reads them from what is installed)
const CASES: [string, string[], Verdict, alone?: false][] = [
  // Requires: (perl(Foo::Bar) >= 1.0 and python3dist(baz))
  ['and', ['perl', 'py'], 'ok'],
  ['and', ['perl'], 'missing'],
  ['and', ['perl-old', 'py'], 'missing'],
  // Requires: (perl(Foo::Bar) >= 1.0 or python3dist(baz))
  ['or', ['py'], 'ok'],
  ['or', ['perl'], 'ok'],
  ['or', ['perl-old'], 'missing'],
  ['or', [], 'missing'],
  // Requires: (pkgconfig(weld) >= 3 if libweld.so.6()(64bit))
  ['if', [], 'ok'],
  ['if', ['so', 'pc'], 'ok'],
  ['if', ['so'], 'missing'],
  // Requires: (pkgconfig(weld) >= 3 if libweld.so.6()(64bit) else config(weld-thing))
  ['ifelse', ['cfg'], 'ok'],
  ['ifelse', [], 'missing'],
  ['ifelse', ['so', 'pc'], 'ok', false],
  ['ifelse', ['so', 'cfg'], 'missing'],
  // Conflicts: (pkgconfig(weld) unless libweld.so.6()(64bit))
  ['unless', [], 'ok'],
  ['unless', ['pc'], 'conflict'],
  ['unless', ['pc', 'so'], 'ok'],
  // Conflicts: (pkgconfig(weld) unless libweld.so.6()(64bit) else config(weld-thing) = 1.0-1)
  ['unlesselse', ['cfg'], 'ok'],
  ['unlesselse', ['pc'], 'conflict'],
  ['unlesselse', ['so', 'pc'], 'ok'],
  ['unlesselse', ['so', 'cfg'], 'conflict'],
  // Requires: (python3dist(baz) with libweld.so.6()(64bit)): one package must provide both
  ['with', ['both'], 'ok'],
  ['with', ['py', 'so'], 'missing'],
  // Requires: (python3dist(baz) without weld-rich-py-legacy)
  ['without', ['py'], 'ok'],
  ['without', ['py-legacy'], 'missing'],
  // Requires: (weld-rich-api >= 1.0 with weld-rich-api < 2.0)
  ['range', ['api1'], 'ok'],
  ['range', ['api2'], 'missing'],
  // Requires: (((perl(Foo::Bar) >= 1.0 and pkgconfig(weld)) or python3dist(baz)) if libweld.so.6()(64bit) else config(weld-thing))
  ['nested', ['cfg'], 'ok'],
  ['nested', [], 'missing'],
  ['nested', ['so', 'py'], 'ok', false],
  ['nested', ['so', 'perl', 'pc'], 'ok', false],
  ['nested', ['so', 'perl-old', 'pc'], 'missing'],
  ['nested', ['so', 'cfg'], 'missing'],
];

let work = '';
const rpmFile = (short: string) => path.join(RPMS, `weld-rich-${short}-1.0-1.noarch.rpm`);

/** `rpm -U --test` of exactly these packages into an empty root: does rpm accept the set? */
function rpmAccepts(files: string[]): boolean {
  const root = fs.mkdtempSync(path.join(work, 'root-'));
  try {
    return run('rpm', ['-U', '--test', '--root', root, '--dbpath', '/var/lib/rpm', ...files], { allowFail: true }).status === 0;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

let stores = 0;
/** A fresh store holding exactly these packages. */
async function storeOf(files: string[]): Promise<Store> {
  const dir = path.join(work, `store-${stores++}`);
  const r = await importAll(dir, files, undefined, 1);
  expect(r.outcomes.filter((o) => o.status !== 'added')).toEqual([]);
  return Store.open(dir);
}

/** weld's verdict on linking `roots` from the store, and the packages it chose. */
async function weldLinks(store: Store, roots: string[]): Promise<{ verdict: Verdict; chosen: string[]; message: string }> {
  try {
    const r = await link(store, { variant: adhocVariant(roots, 'rpm') });
    return { verdict: 'ok', chosen: r.packages.map((p) => p.row.name), message: '' };
  } catch (e) {
    if (isWeldError(e) && e.code === 'E_UNRESOLVED') return { verdict: 'missing', chosen: [], message: e.message };
    if (isWeldError(e) && e.code === 'E_PACKAGE_CONFLICT') return { verdict: 'conflict', chosen: [], message: e.message };
    throw e;
  }
}

describe.skipIf(!canRun)('rich dependencies, weld against rpm -U --test', () => {
  beforeAll(() => {
    run('bash', [path.join(ROOT, 'scripts/build-fixtures.sh'), '--no-sparse'], { stdio: ['ignore', 'ignore', 'pipe'] });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-richdeps-'));
  }, 300_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const [consumer, others, want, alone = true] of CASES) {
    const set = [consumer, ...others];
    it(`${set.join(' + ')}: ${want}`, async () => {
      const files = set.map(rpmFile);
      const store = await storeOf(files);
      try {
        const all = await weldLinks(
          store,
          set.map((s) => `weld-rich-${s}`),
        );
        const rpm = rpmAccepts(files);
        expect({ weld: all.verdict, rpm }, all.message).toEqual({ weld: want, rpm: want === 'ok' });
        if (want !== 'ok') return;
        // what weld chooses for the consumer alone, rpm installs
        const one = await weldLinks(store, [`weld-rich-${consumer}`]);
        expect(one.verdict, one.message).toBe(alone ? 'ok' : 'missing');
        if (!alone) return expect(rpmAccepts([rpmFile(consumer)])).toBe(false);
        expect(one.chosen).toContain(`weld-rich-${consumer}`);
        expect(rpmAccepts(one.chosen.map((n) => rpmFile(n.replace(/^weld-rich-/, ''))))).toBe(true);
      } finally {
        store.close();
      }
    });
  }

  it('names the parenthesised requirement weld cannot meet', async () => {
    const store = await storeOf([rpmFile('and'), rpmFile('perl')]);
    try {
      const r = await weldLinks(store, ['weld-rich-and']);
      expect(r.message).toContain('(perl(Foo::Bar) >= 1.0 and python3dist(baz)) (needed by weld-rich-and-1.0-1)');
    } finally {
      store.close();
    }
  });

  it('the store keeps the parsed form of each rich dependency for the resolver', async () => {
    const store = await storeOf([rpmFile('nested')]);
    try {
      const [{ entry }] = store.catalog.resolverIndex('rpm');
      const rich = entry!.requires.find((d) => 'name' in d && d.name.startsWith('('));
      expect(rich && 'rich' in rich && rich.rich?.op).toBe('if');
    } finally {
      store.close();
    }
  });
});
