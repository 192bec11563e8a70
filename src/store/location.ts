import os from 'node:os';
import path from 'node:path';

/** `--store DIR`, else `$WELD_STORE`, else the XDG data directory. */
export function storeDir(flag?: string): string {
  if (flag) return path.resolve(flag);
  if (process.env.WELD_STORE) return path.resolve(process.env.WELD_STORE);
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'weld');
}

/**
 * Where a store keeps what, the one place that knows. Cheap (path joins only):
 * a `weld run` cache hit reads the two marker files and opens nothing else.
 */
export function storePaths(dir: string) {
  return {
    catalog: path.join(dir, 'catalog.db'),
    objects: path.join(dir, 'objects'),
    tmp: path.join(dir, 'tmp'),
    /** the catalog's generation, mirrored out of SQLite (src/store/store.ts) */
    generation: path.join(dir, 'generation'),
    /** bumped when objects are deleted, never by imports */
    gcEpoch: path.join(dir, 'gc-epoch'),
  };
}

/** An object's path relative to the objects dir (objects/ab/cdef…), as overlayfs redirects name it. */
export function objectRelPath(id: string): string {
  return `${id.slice(0, 2)}/${id.slice(2)}`;
}

export function objectPath(objectsDir: string, id: string): string {
  return path.join(objectsDir, id.slice(0, 2), id.slice(2));
}
