/**
 * A store written by the weld before schema 5 (fixtures/store-schema4, made
 * by b8bf278) opens, migrates once, and links to the root hash that weld gave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DepEntry } from '../src/model.js';
import { Store } from '../src/store/store.js';
import { scriptletReport } from '../src/store/report.js';
import { ROOT, weld } from './helpers/tools.js';

const FIXTURE = path.join(ROOT, 'fixtures/store-schema4');
// `weld link --variant tiny.toml` of the fixture store with b8bf278
const OLD_ROOT_HASH = '98c0810f5aa7584153052aa7a043fd25930bee7045f8d3d4672dfaf5a0422098';
const VARIANT = `name = "tiny"
format = "deb"
arch = "amd64"
merged-usr = true
packages = ["netbase", "sensible-utils"]
[layout]
filesystem = "erofs"
partitions = "ddi"
`;
// `weld scriptlets --json` of the fixture store with b8bf278
const OLD_REPORT = {
  packages: 2,
  scriptlets: 20,
  counts: { group: 1, ldconfig: 2, noop: 28, opaque: 2, user: 1 },
  opaque: [
    { package: 'netbase-6.4.all', format: 'deb', phase: 'postinst', reason: 'writes to "/etc/hosts" at line 6', text: 'cat > /etc/hosts <<-EOF' },
    { package: 'netbase-6.4.all', format: 'deb', phase: 'postinst', reason: 'writes to "/etc/networks" at line 18', text: 'cat > /etc/networks <<-EOF' },
  ],
};
const canRun = fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let tmp: string;
const copy = (name: string) => {
  const dir = path.join(tmp, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'README.md'));
  return dir;
};
const tables = (dir: string) => {
  const db = new Database(path.join(dir, 'catalog.db'), { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-migrate-'));
  fs.writeFileSync(path.join(tmp, 'tiny.toml'), VARIANT);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a schema-4 store', () => {
  it('is what b8bf278 wrote: schema 4 with its normalised tables', () => {
    // a copy: SQLite makes -shm and -wal files beside a WAL catalog even to read it
    expect(tables(copy('orig'))).toEqual(expect.arrayContaining(['actions', 'deps', 'files', 'scriptlets', 'signatures', 'trees']));
  });

  it.skipIf(!canRun)('opens, migrates once and links to the root hash the old weld gave', () => {
    const dir = copy('a');
    const r = weld(['link', '--store', dir, '--variant', path.join(tmp, 'tiny.toml'), '-o', path.join(tmp, 'a.img'), '--report', path.join(tmp, 'a.json')]);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(fs.readFileSync(path.join(tmp, 'a.json'), 'utf8')) as { rootHash: string }).rootHash).toBe(OLD_ROOT_HASH);
    const t = tables(dir);
    expect(t).toEqual(expect.arrayContaining(['file_lists', 'link_index', 'packages', 'objects']));
    for (const gone of ['actions', 'deps', 'files', 'scriptlets', 'signatures', 'trees']) expect(t).not.toContain(gone);
    // their space is given back
    expect(fs.statSync(path.join(dir, 'catalog.db')).size).toBeLessThan(fs.statSync(path.join(FIXTURE, 'catalog.db')).size);
    // once: a second open finds nothing to migrate, so the generation stays
    let s = Store.open(dir);
    const gen = s.catalog.generation();
    expect(s.catalog.getMeta('schema_version')).toBe('5');
    s.close();
    s = Store.open(dir);
    expect(s.catalog.generation()).toBe(gen);
    s.close();
    const again = weld(['link', '--store', dir, '--variant', path.join(tmp, 'tiny.toml'), '-o', path.join(tmp, 'a2.img'), '--report', path.join(tmp, 'a2.json')]);
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(fs.readFileSync(path.join(tmp, 'a2.json'), 'utf8')) as { rootHash: string }).rootHash).toBe(OLD_ROOT_HASH);
    const fsck = weld(['fsck', '--json', '--store', dir]);
    expect(JSON.parse(fsck.stdout.toString()).errors.filter((e: { message: string }) => !/is writable/.test(e.message))).toEqual([]);
  });

  it('gains parsed rich dependencies in its resolver entries, and reports the scriptlets the old weld reported', () => {
    const s = Store.open(copy('b'));
    try {
      const rpm = s.catalog.resolverIndex('rpm').find((e) => e.row.name === 'weld-scripts')!;
      const rich = (l: DepEntry[]) => l.flatMap((d) => ('anyOf' in d ? d.anyOf : [d])).filter((d) => d.name.startsWith('('));
      expect(rich(rpm.entry.requires).length).toBeGreaterThan(3);
      for (const d of [...rich(rpm.entry.requires), ...rich(rpm.entry.conflicts)]) expect(d.rich, d.name).toBeDefined();
      expect(rich(rpm.entry.requires).find((d) => d.name === '(weld-a or weld-b)')!.rich).toEqual({
        op: 'or',
        args: [
          { op: 'atom', dep: { name: 'weld-a', op: '', evr: '' } },
          { op: 'atom', dep: { name: 'weld-b', op: '', evr: '' } },
        ],
      });
      expect(scriptletReport(s)).toEqual(OLD_REPORT);
    } finally {
      s.close();
    }
  });

  it.skipIf(!canRun)('migrates on a read-only command too (weld scriptlets, weld ls)', () => {
    const dir = copy('c');
    const r = weld(['scriptlets', '--json', '--store', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toEqual(OLD_REPORT);
    expect(tables(dir)).not.toContain('trees');
    expect((JSON.parse(weld(['ls', '--json', '--store', dir]).stdout.toString()) as unknown[]).length).toBe(3);
  });
});
