import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { Action, FileEntry, PackageFormat, PackageMeta, Scriptlet } from '../model.js';
import { WeldError } from '../errors.js';
import { derive, type LinkData, type ResolverEntry, type StoredHeader } from './derive.js';
import { decodeFileList, encodeFileList } from './filelist.js';
import { pack, unpack } from './msgpack.js';

export type { LinkData, ResolverEntry, StoredHeader } from './derive.js';

const require = createRequire(import.meta.url);

/**
 * 2: deps.rich and link_index; 3: leaves per package; 4: Breaks and Obsoletes
 * in resolver entries; 5: one canonical form (header and file list), the
 * normalised tables dropped, `trees` renamed `file_lists`, parsed rich deps.
 */
const SCHEMA_VERSION = 5;

/**
 * A package is its `packages` row (identity, for lookups and uniqueness), its
 * header blob and its file list blob: that is the canonical form. `link_index`
 * is derived from it (src/store/derive.ts); `objects` registers what the file
 * lists name, for fsck; `package_elf` and `package_leaves` are caches links fill.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS packages (
  id INTEGER PRIMARY KEY,
  format TEXT NOT NULL CHECK (format IN ('rpm','deb')),
  name TEXT NOT NULL, epoch INTEGER, version TEXT NOT NULL, release TEXT NOT NULL, arch TEXT NOT NULL,
  source_digest TEXT NOT NULL UNIQUE,
  source_name TEXT NOT NULL,
  source_size INTEGER NOT NULL,
  summary TEXT NOT NULL, license TEXT NOT NULL, url TEXT NOT NULL, vendor TEXT NOT NULL,
  build_time INTEGER, installed_size INTEGER NOT NULL,
  payload_compressor TEXT NOT NULL, format_version TEXT NOT NULL,
  file_count INTEGER NOT NULL,
  imported_at INTEGER NOT NULL,
  header BLOB NOT NULL,
  UNIQUE (format, name, epoch, version, release, arch)
);
CREATE INDEX IF NOT EXISTS packages_name ON packages(name);
CREATE TABLE IF NOT EXISTS file_lists (
  pkg INTEGER PRIMARY KEY REFERENCES packages(id) ON DELETE CASCADE,
  blob BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS link_index (
  pkg INTEGER PRIMARY KEY REFERENCES packages(id) ON DELETE CASCADE,
  resolver TEXT NOT NULL,
  link TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS package_elf (
  package INTEGER PRIMARY KEY REFERENCES packages(id), data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS package_leaves (
  package INTEGER NOT NULL REFERENCES packages(id), salt TEXT NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY (package, salt)
);
`;

/** Tables of schema 4 and before that copied the header and file list, and that nothing read (deps, signatures) or only fsck (files). */
const DROPPED_TABLES = ['files', 'deps', 'scriptlets', 'actions', 'signatures', 'verity_leaves'];

export interface PackageRow {
  id: number;
  format: PackageFormat;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  source_digest: string;
  source_name: string;
  summary: string;
  file_count: number;
  installed_size: number;
}

/** Columns of `packages` a PackageRow carries: everything but the header blob. */
const ROW_COLUMNS = `id, format, name, epoch, version, release, arch, source_digest, source_name, source_size, summary, license, url, vendor,
  build_time, installed_size, payload_compressor, format_version, file_count, imported_at`;
const ROW_ORDER = 'ORDER BY name, format, epoch, version, release, arch';

/** The per-package caches links fill: (package, [salt,] data). */
export type PackageCache = 'package_leaves' | 'package_elf';

/** The catalog: SQLite, and the only module that speaks SQL to it. */
export class Catalog {
  private db: BetterSqlite3.Database;

  constructor(file: string, opts: { readonly?: boolean } = {}) {
    this.db = openDb(file, opts.readonly ?? false);
    if (opts.readonly) {
      const v = this.schemaVersion();
      if (v > SCHEMA_VERSION) throw newerSchema(file, v);
      if (v < SCHEMA_VERSION) {
        // an older store: a writable open migrates it once, then read as asked
        this.db.close();
        try {
          new Catalog(file).close();
        } catch (e) {
          if (e instanceof WeldError) throw e;
          throw new WeldError('conflict', 'E_SCHEMA', `Store ${file} has catalog schema ${v} and cannot be migrated here (${(e as Error).message}); run weld import or weld fsck on it once with write access`, { file });
        }
        this.db = openDb(file, true);
      }
      return;
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const fresh = !this.hasTable('packages');
      // schema 5 renamed trees: before SCHEMA, which would create an empty file_lists beside it
      if (this.hasTable('trees') && !this.hasTable('file_lists')) this.db.exec('ALTER TABLE trees RENAME TO file_lists');
      this.db.exec(SCHEMA);
      const v = fresh ? SCHEMA_VERSION : this.schemaVersion();
      if (v > SCHEMA_VERSION) throw newerSchema(file, v);
      if (v < SCHEMA_VERSION) this.migrate();
      this.setMeta('schema_version', String(SCHEMA_VERSION));
      this.backfillDerived();
      this.db.exec('COMMIT');
      // the dropped tables left about half the file free (measured on 177 bookworm packages): give it back, once
      if (v < 5) vacuum(this.db);
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | undefined {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Bumped by every commit that changes a package (import, reclassification, migration). */
  generation(): number {
    return Number(this.getMeta('generation') ?? 0);
  }

  private bumpGeneration(): void {
    this.setMeta('generation', String(this.generation() + 1));
  }

  private schemaVersion(): number {
    // a store without a version predates schema 2's meta row: schema 1
    return this.hasTable('meta') ? Number(this.getMeta('schema_version') ?? 1) : 1;
  }

  private hasTable(name: string): boolean {
    return this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  findBySourceDigest(digest: string): PackageRow | undefined {
    return this.db.prepare(`SELECT ${ROW_COLUMNS} FROM packages WHERE source_digest = ?`).get(digest) as PackageRow | undefined;
  }

  /**
   * Inserts a package (header, file list, its objects, its derived rows) in
   * one transaction, so a half-imported package is never visible. Returns the
   * new id, or the existing one when the same source file was imported already.
   */
  insertPackage(
    meta: PackageMeta,
    source: { digest: string; name: string; size: number },
    objects: Map<string, number>,
    fileActions: { source: string; actions: Action[] }[],
    now: number,
  ): { id: number; added: boolean } {
    const tx = this.db.transaction(() => {
      const existing = this.findBySourceDigest(source.digest);
      if (existing) return { id: existing.id, added: false };
      const insObj = this.db.prepare('INSERT OR IGNORE INTO objects(id, size) VALUES (?, ?)');
      for (const [id, size] of objects) insObj.run(id, size);
      const { files, ...header } = meta;
      const stored: StoredHeader = { ...header, fileActions };
      const r = this.db
        .prepare(
          `INSERT INTO packages (format, name, epoch, version, release, arch, source_digest, source_name, source_size,
            summary, license, url, vendor, build_time, installed_size, payload_compressor, format_version, file_count, imported_at, header)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(
          meta.format, meta.name, meta.epoch, meta.version, meta.release, meta.arch,
          source.digest, source.name, source.size,
          meta.summary, meta.license, meta.url, meta.vendor, meta.buildTime, meta.installedSize,
          meta.payload.compressor, meta.formatVersion, files.length, now, pack(stored),
        );
      const id = Number(r.lastInsertRowid);
      this.db.prepare('INSERT INTO file_lists (pkg, blob) VALUES (?, ?)').run(id, encodeFileList(files));
      this.writeDerived(id, stored, files);
      this.bumpGeneration();
      return { id, added: true };
    });
    return tx.immediate();
  }

  listPackages(): PackageRow[] {
    return this.db.prepare(`SELECT ${ROW_COLUMNS} FROM packages ${ROW_ORDER}`).all() as PackageRow[];
  }

  /** Every package of a format with its resolver entry, in one query (no header is decoded). */
  resolverIndex(format: PackageFormat): { row: PackageRow; entry: ResolverEntry }[] {
    const rows = this.db
      .prepare(`SELECT ${ROW_COLUMNS}, (SELECT resolver FROM link_index WHERE pkg = packages.id) AS resolver FROM packages WHERE format = ? ${ROW_ORDER}`)
      .all(format) as (PackageRow & { resolver: string | null })[];
    return rows.map(({ resolver, ...row }) => ({ row, entry: resolver !== null ? (JSON.parse(resolver) as ResolverEntry) : this.derived(row.id).resolver }));
  }

  /** What applying actions needs of a package, without decoding its header when the index has it. */
  linkData(pkg: number): LinkData {
    const r = this.stmt('SELECT link FROM link_index WHERE pkg = ?').get(pkg) as { link: string } | undefined;
    return r ? (JSON.parse(r.link) as LinkData) : this.derived(pkg).link;
  }

  /** Every package with its link data, in catalog order (the scriptlet report). */
  everyLinkData(): { row: PackageRow; link: LinkData }[] {
    const rows = this.db
      .prepare(`SELECT ${ROW_COLUMNS}, (SELECT link FROM link_index WHERE pkg = packages.id) AS link FROM packages ${ROW_ORDER}`)
      .all() as (PackageRow & { link: string | null })[];
    return rows.map(({ link, ...row }) => ({ row, link: link !== null ? (JSON.parse(link) as LinkData) : this.derived(row.id).link }));
  }

  // a link reads ~3 statements per package: prepare each once
  private readonly stmts = new Map<string, BetterSqlite3.Statement>();
  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  header(pkg: number): StoredHeader {
    const r = this.stmt('SELECT header FROM packages WHERE id = ?').get(pkg) as { header: Buffer };
    return unpack(r.header) as StoredHeader;
  }

  fileList(pkg: number): FileEntry[] {
    const r = this.stmt('SELECT blob FROM file_lists WHERE pkg = ?').get(pkg) as { blob: Buffer | string } | undefined;
    return r ? decodeFileList(r.blob) : [];
  }

  /** New actions for a package's scriptlets (a newer classifier): the header changes, and with it everything derived. */
  updateScriptlets(pkg: number, scriptlets: Scriptlet[], classifier: number): void {
    // IMMEDIATE: import workers write at once, and a read lock upgraded to a write one cannot wait (SQLITE_BUSY)
    this.db
      .transaction(() => {
        const next: StoredHeader = { ...this.header(pkg), scriptlets, classifier };
        this.db.prepare('UPDATE packages SET header = ? WHERE id = ?').run(pack(next), pkg);
        this.writeDerived(pkg, next, this.fileList(pkg));
        this.bumpGeneration();
      })
      .immediate();
  }

  private derived(pkg: number) {
    return derive(this.header(pkg), () => this.fileList(pkg));
  }

  /** Stores what `derive` makes of a package: the one place derived rows are written. */
  private writeDerived(id: number, header: StoredHeader, files: FileEntry[]): void {
    const d = derive(header, () => files);
    this.stmt('INSERT OR REPLACE INTO link_index (pkg, resolver, link) VALUES (?, ?, ?)').run(id, JSON.stringify(d.resolver), JSON.stringify(d.link));
  }

  /** Whether a package's derived rows differ from what `derive` makes of its header and file list (fsck). */
  derivedIsStale(pkg: number): boolean {
    const r = this.stmt('SELECT resolver, link FROM link_index WHERE pkg = ?').get(pkg) as { resolver: string; link: string } | undefined;
    // no rows: readers derive on the fly, and the next writable open stores them
    if (!r) return false;
    const d = this.derived(pkg);
    return r.resolver !== JSON.stringify(d.resolver) || r.link !== JSON.stringify(d.link);
  }

  /** Brings an older catalog up to SCHEMA_VERSION (new tables come from SCHEMA's IF NOT EXISTS). */
  private migrate(): void {
    for (const t of DROPPED_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${t}`);
    // derived rows of older schemas lack Breaks, Obsoletes and parsed rich deps: rebuild them all (backfillDerived)
    this.db.exec('DELETE FROM link_index');
    this.bumpGeneration();
  }

  /** Packages without derived rows (a migrated store) get them, on a writable open. */
  private backfillDerived(): void {
    const missing = this.db.prepare('SELECT id FROM packages WHERE id NOT IN (SELECT pkg FROM link_index)').all() as { id: number }[];
    for (const { id } of missing) this.writeDerived(id, this.header(id), this.fileList(id));
  }

  /** Every (object, size) the catalog refers to. */
  referencedObjects(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.db.prepare('SELECT id, size FROM objects').iterate() as Iterable<{ id: string; size: number }>) m.set(r.id, r.size);
    return m;
  }

  /** SQLite's own checks (integrity, foreign keys), one message per problem. */
  integrityProblems(): string[] {
    const out: string[] = [];
    for (const r of this.db.pragma('integrity_check') as { integrity_check: string }[]) if (r.integrity_check !== 'ok') out.push(`SQLite integrity: ${r.integrity_check}`);
    for (const r of this.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) out.push(`dangling reference in ${r.table} row ${r.rowid} to ${r.parent}`);
    return out;
  }

  /**
   * Rows of a per-package cache for these packages, decoded; a row that does
   * not decode is left out, so it is recomputed and replaced, never trusted.
   */
  readPackageCache<D, T>(table: PackageCache, packages: readonly number[], salt: string | null, decode: (data: D) => T): Map<number, T> {
    const out = new Map<number, T>();
    if (!packages.length) return out;
    const where = salt === null ? '' : 'salt = ? AND ';
    const rows = this.db
      .prepare(`SELECT package, data FROM ${table} WHERE ${where}package IN (SELECT value FROM json_each(?))`)
      .raw()
      .all(...(salt === null ? [] : [salt]), JSON.stringify(packages)) as [number, D][];
    for (const [p, data] of rows) {
      try {
        out.set(p, decode(data));
      } catch {
        // damaged: recomputed by the caller
      }
    }
    return out;
  }

  /** Replaces per-package cache rows (package, [salt,] data) in one transaction. */
  writePackageCache(table: PackageCache, rows: readonly unknown[][]): void {
    if (!rows.length) return;
    const cols = table === 'package_leaves' ? 'package, salt, data' : 'package, data';
    const ins = this.db.prepare(`INSERT OR REPLACE INTO ${table} (${cols}) VALUES (${cols.split(', ').map(() => '?').join(', ')})`);
    this.db.transaction(() => {
      for (const r of rows) ins.run(...r);
    })();
  }
}

function openDb(file: string, readonly: boolean): BetterSqlite3.Database {
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(file, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 30000');
  return db;
}

function vacuum(db: BetterSqlite3.Database): void {
  try {
    db.exec('VACUUM');
  } catch {
    // another connection is busy: the space stays free pages, reused by later imports
  }
}

function newerSchema(file: string, v: number): WeldError {
  return new WeldError('conflict', 'E_SCHEMA', `Store ${file} has catalog schema ${v}, newer than this weld understands (${SCHEMA_VERSION}); upgrade weld`, { file });
}
