import fs from 'node:fs';
import type { Store } from './store.js';

export interface FsckReport {
  ok: boolean;
  objects: number;
  packages: number;
  errors: { kind: string; message: string }[];
  reclaimable: { objects: number; bytes: number };
  tempFilesRemoved: number;
}

/**
 * Re-hashes every object and checks every catalog reference. Objects no
 * package refers to are reclaimable, not errors (an interrupted import leaves them).
 */
export function fsck(store: Store, onProgress?: (done: number, total: number) => void): FsckReport {
  const errors: FsckReport['errors'] = [];
  const tempFilesRemoved = store.objects.cleanTmp().length;
  const db = store.catalog.db;
  for (const r of db.pragma('integrity_check') as { integrity_check: string }[]) {
    if (r.integrity_check !== 'ok') errors.push({ kind: 'catalog', message: `SQLite integrity: ${r.integrity_check}` });
  }
  for (const r of db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
    errors.push({ kind: 'catalog', message: `dangling reference in ${r.table} row ${r.rowid} to ${r.parent}` });
  }
  const referenced = store.catalog.referencedObjects();
  const onDisk = [...store.objects.list()];
  const present = new Set<string>();
  let reclaimObjects = 0;
  let reclaimBytes = 0;
  onDisk.forEach((id, i) => {
    present.add(id);
    onProgress?.(i + 1, onDisk.length);
    if (!/^[0-9a-f]{64}$/.test(id)) {
      errors.push({ kind: 'object', message: `stray file objects/${id.slice(0, 2)}/${id.slice(2)}` });
      return;
    }
    const h = store.objects.rehash(id);
    if (!h) return void errors.push({ kind: 'object', message: `object ${id} is unreadable` });
    if (h.actual !== id) errors.push({ kind: 'object', message: `object ${id} is corrupt: its content hashes to ${h.actual}` });
    const want = referenced.get(id);
    if (want === undefined) {
      reclaimObjects++;
      reclaimBytes += h.size;
    } else if (want !== h.size) errors.push({ kind: 'object', message: `object ${id} has ${h.size} bytes, the catalog says ${want}` });
    const mode = fs.statSync(store.objects.pathOf(id)).mode & 0o777;
    if (mode & 0o222) errors.push({ kind: 'object', message: `object ${id} is writable (mode ${mode.toString(8)})` });
  });
  for (const id of referenced.keys()) if (!present.has(id)) errors.push({ kind: 'reference', message: `catalog refers to missing object ${id}` });
  const missingFileObjects = db
    .prepare('SELECT p.name, f.path, f.object FROM files f JOIN packages p ON p.id = f.pkg LEFT JOIN objects o ON o.id = f.object WHERE f.object IS NOT NULL AND o.id IS NULL')
    .all() as { name: string; path: string; object: string }[];
  for (const r of missingFileObjects) errors.push({ kind: 'reference', message: `${r.name}: ${r.path} refers to unknown object ${r.object}` });
  const pkgs = store.catalog.listPackages();
  for (const p of pkgs) {
    try {
      const t = store.catalog.tree(p.id);
      if (t.length !== p.file_count) errors.push({ kind: 'tree', message: `${p.name}: tree blob has ${t.length} files, catalog ${p.file_count}` });
      store.catalog.header(p.id);
    } catch (e) {
      errors.push({ kind: 'tree', message: `${p.name}: cannot decode stored metadata: ${(e as Error).message}` });
    }
  }
  return { ok: errors.length === 0, objects: onDisk.length, packages: pkgs.length, errors, reclaimable: { objects: reclaimObjects, bytes: reclaimBytes }, tempFilesRemoved };
}
