import fs from 'node:fs';
import crypto from 'node:crypto';
import { decodeLeafPack, encodeLeafPack, type LeafMap } from './leaves.js';
import { storePaths } from './location.js';
import { markGeneration } from './marks.js';
import type { Action, PackageMeta } from '../model.js';
import { Catalog, type PackageRow } from './catalog.js';
import { ObjectStore, type WriteStats } from './objects.js';
import { ioError } from '../util/io.js';
import { WeldError } from '../errors.js';
import { nevra } from '../util/nevra.js';

export { nevra };

export interface CommitResult {
  id: number;
  added: boolean;
}

/** Fixed default verity salt: the same on every machine, so relinks are reproducible without coordination. */
export const DEFAULT_SALT = crypto.createHash('sha256').update('weld:dm-verity:salt:v1').digest('hex');

/**
 * The store: objects plus catalog. The only code that writes the store directory.
 */
export class Store {
  readonly dir: string;
  readonly objects: ObjectStore;
  readonly catalog: Catalog;

  private constructor(dir: string, catalog: Catalog) {
    this.dir = dir;
    this.objects = new ObjectStore(dir);
    this.catalog = catalog;
  }

  static open(dir: string, opts: { create?: boolean; readonly?: boolean } = {}): Store {
    const dbFile = storePaths(dir).catalog;
    if (!fs.existsSync(dbFile)) {
      if (!opts.create) throw new WeldError('notfound', 'E_NO_STORE', `No weld store at ${dir} (import a package first, or pass --store)`, { dir });
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw ioError(`Cannot create store ${dir}`, e);
      }
    }
    const catalog = new Catalog(dbFile, { readonly: opts.readonly && fs.existsSync(dbFile) });
    const s = new Store(dir, catalog);
    if (!opts.readonly) {
      s.objects.init();
      if (catalog.getMeta('salt') === undefined) catalog.setMeta('salt', DEFAULT_SALT);
      // a writer that died between its commit and its mark leaves the mark behind: catch up
      markGeneration(dir, catalog.generation(), false);
    }
    return s;
  }

  close(): void {
    this.objects.close();
    this.catalog.close();
  }

  get salt(): string {
    return this.catalog.getMeta('salt') ?? DEFAULT_SALT;
  }

  newStats(): WriteStats {
    return { objectsNew: 0, objectsReused: 0, bytesNew: 0, bytesReused: 0 };
  }

  /**
   * Makes the package visible: sync the objects it wrote, then one catalog
   * transaction. Order matters: an object is durable before the catalog names it.
   */
  commit(meta: PackageMeta, source: { digest: string; name: string; size: number }, fileActions: { source: string; actions: Action[] }[], wrote: boolean): CommitResult {
    if (wrote) this.objects.syncAll();
    const objects = new Map<string, number>();
    for (const f of meta.files) if (f.object) objects.set(f.object, f.size);
    let r: CommitResult;
    try {
      r = this.catalog.insertPackage(meta, source, objects, fileActions, Math.floor(Date.now() / 1000));
    } catch (e) {
      const msg = (e as Error).message ?? '';
      if (/UNIQUE constraint failed: packages\.format/.test(msg)) {
        throw new WeldError(
          'conflict',
          'E_IDENTITY',
          `${source.name}: ${meta.format} package ${nevra(meta)} is already in the store from a different file`,
          { name: meta.name },
        );
      }
      if ((e as { code?: string }).code === 'SQLITE_FULL') throw ioError(`Cannot record ${source.name}`, Object.assign(e as Error, { code: 'ENOSPC' }));
      throw e;
    }
    if (r.added) markGeneration(this.dir, this.catalog.generation());
    return r;
  }

  /** The cached verity leaves of these packages' objects (src/store/leaves.ts), per package. */
  getPackageLeaves(packages: readonly number[], salt: string): Map<number, LeafMap> {
    return this.catalog.readPackageCache('package_leaves', packages, salt, (data: Buffer) => decodeLeafPack(data));
  }

  putPackageLeaves(entries: { package: number; salt: string; leaves: LeafMap; digestSize: number }[]): void {
    this.catalog.writePackageCache('package_leaves', entries.map((e) => [e.package, e.salt, encodeLeafPack(e.leaves, e.digestSize)]));
  }

  /**
   * Cached ELF facts (what ldconfig reads) of these packages' objects, filled
   * by links: JSON per package, object id → facts, null for files ldconfig skips.
   */
  getPackageElf(packages: readonly number[]): Map<number, Record<string, unknown>> {
    return this.catalog.readPackageCache('package_elf', packages, null, (data: string) => {
      const v = JSON.parse(data) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    });
  }

  putPackageElf(entries: { package: number; facts: Record<string, unknown> }[]): void {
    this.catalog.writePackageCache('package_elf', entries.map((e) => [e.package, JSON.stringify(Object.fromEntries(Object.entries(e.facts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))]));
  }

  /**
   * Classifies a package's stored scriptlets again when an older classifier
   * produced their actions; true when it did. The bodies are in the header.
   */
  reclassify(pkg: number, version: number, classify: (s: { phase: string; interpreter: string; body: string; debconf?: Record<string, string> }) => Action[]): boolean {
    const h = this.catalog.header(pkg);
    if ((h.classifier ?? 1) >= version) return false;
    const scriptlets = h.scriptlets.map((s) => ({ ...s, actions: classify({ phase: s.phase, interpreter: s.interpreter, body: s.body, ...(h.debconf ? { debconf: h.debconf } : {}) }) }));
    this.catalog.updateScriptlets(pkg, scriptlets, version);
    markGeneration(this.dir, this.catalog.generation());
    return true;
  }

  /** Stores bytes that a link generated (passwd, ld.so.cache…) so views can serve them from the object dir. */
  putBytes(data: Uint8Array): string {
    return this.objects.putSync(data);
  }

  readObject(id: string): Buffer {
    return fs.readFileSync(this.objects.pathOf(id));
  }

  /** Packages named NAME or NAME-EVR, optionally of one format. */
  findPackages(spec: string, format?: string): PackageRow[] {
    const all = this.catalog.listPackages();
    return all.filter((p) => {
      if (format && p.format !== format) return false;
      if (p.name === spec) return true;
      const v = `${p.name}-${p.epoch !== null ? p.epoch + ':' : ''}${p.version}${p.release ? '-' + p.release : ''}`;
      const v2 = `${p.name}-${p.version}${p.release ? '-' + p.release : ''}`;
      return spec === v || spec === v2 || spec === `${v}.${p.arch}` || spec === `${v2}.${p.arch}`;
    });
  }
}

