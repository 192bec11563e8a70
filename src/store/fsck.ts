import fs from 'node:fs';
import type { Store } from './store.js';
import { objectRelPath } from './location.js';

export interface FsckReport {
  ok: boolean;
  objects: number;
  packages: number;
  errors: { kind: string; message: string }[];
  reclaimable: { objects: number; bytes: number };
  tempFilesRemoved: number;
}

/**
 * Re-hashes every object and checks every catalog reference, and that each
 * package's derived rows are what its header and file list give. Objects no
 * package refers to are reclaimable, not errors (an interrupted import leaves them).
 */
export function fsck(store: Store, onProgress?: (done: number, total: number) => void): FsckReport {
  const errors: FsckReport['errors'] = [];
  const tempFilesRemoved = store.objects.cleanTmp().length;
  for (const message of store.catalog.integrityProblems()) errors.push({ kind: 'catalog', message });
  const referenced = store.catalog.referencedObjects();
  const onDisk = [...store.objects.list()];
  const present = new Set<string>();
  let reclaimObjects = 0;
  let reclaimBytes = 0;
  onDisk.forEach((id, i) => {
    present.add(id);
    onProgress?.(i + 1, onDisk.length);
    if (!/^[0-9a-f]{64}$/.test(id)) {
      errors.push({ kind: 'object', message: `stray file objects/${objectRelPath(id)}` });
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
  const pkgs = store.catalog.listPackages();
  for (const p of pkgs) {
    try {
      const files = store.catalog.fileList(p.id);
      if (files.length !== p.file_count) errors.push({ kind: 'file-list', message: `${p.name}: file list has ${files.length} files, catalog ${p.file_count}` });
      for (const f of files) if (f.object && !referenced.has(f.object)) errors.push({ kind: 'reference', message: `${p.name}: ${f.path} refers to unknown object ${f.object}` });
      if (store.catalog.derivedIsStale(p.id)) errors.push({ kind: 'derived', message: `${p.name}: its link index is not what its header and file list give` });
    } catch (e) {
      errors.push({ kind: 'file-list', message: `${p.name}: cannot decode stored metadata: ${(e as Error).message}` });
    }
  }
  return { ok: errors.length === 0, objects: onDisk.length, packages: pkgs.length, errors, reclaimable: { objects: reclaimObjects, bytes: reclaimBytes }, tempFilesRemoved };
}
