/**
 * Per-lock cache of resolved views: <cache>/views/<key>/manifest.json and one
 * metadata-only EROFS image per mount-point set (meta-<digest>.erofs).
 * <cache> is $WELD_CACHE, else $XDG_CACHE_HOME/weld, else ~/.cache/weld. It
 * is not in the store: a view is derived data, safe to delete at any time.
 *
 * The key covers the store path, the variant text, the lock text and the --pkg
 * roots, and the store's own marks (src/store/marks.ts): its GC epoch, and,
 * for a view without a lock, its catalog generation. A lock names every
 * package by digest, so imports do not invalidate its view; only deleting
 * objects can. A variant resolves against the catalog, so each commit does. A
 * cache hit opens neither SQLite nor the manifest, and loads no node:crypto:
 * directories are named by quickHash() of the key text, and views/<name>.key
 * holds the text itself (meta-<name>.json: the mount points of an image),
 * which must match exactly, so a hash collision can only cost a rebuild.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WeldError, notFound, usageError } from '../errors.js';
import type { Manifest } from '../linker/output/manifest.js';
import type { MountPoint } from './nodes.js';
import { quickHash } from '../util/quickhash.js';
import { variantPath } from '../linker/variant.js';
import { cacheRoot } from '../util/cachedir.js';
import { writeFileAtomic } from '../util/atomic.js';
import { objectPath, objectRelPath, storePaths } from '../store/location.js';
import { readGcEpoch, readGeneration } from '../store/marks.js';

export { cacheRoot };

export interface ViewSpec {
  storeDir: string;
  /** variant name or TOML path; absent with --pkg alone */
  variant?: string;
  lock?: string;
  roots?: string[];
}

export interface PreparedView {
  dir: string;
  manifestFile: string;
  imageFile: string;
  objectsDir: string;
  /** what had to be built: 'none' on a full cache hit */
  built: 'none' | 'image' | 'manifest' | 'manifest+image';
}

/** bumped when the metadata image's layout changes, so cached manifests get a fresh image (2: xattr name filters) */
const IMAGE_FORMAT = 2;

function readOrNull(f: string | undefined): string | null {
  if (!f) return null;
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
}

/** The cache key text of a view spec (cheap: a few small file reads). */
export function viewKey(spec: ViewSpec, variantFile: string | null): string {
  const lock = readOrNull(spec.lock);
  // no mark (a store older than marks, or one whose mark could not be written): a key nothing matches
  const generation = lock === null ? readGeneration(spec.storeDir) || `unmarked ${Math.random()}` : null;
  return JSON.stringify({
    v: 3,
    store: spec.storeDir,
    gcEpoch: readGcEpoch(spec.storeDir),
    generation,
    variant: variantFile ? (readOrNull(variantFile) ?? variantFile) : null,
    lock,
    roots: spec.roots ?? [],
  });
}

const lap = (t: Record<string, number> | undefined, k: string, t0: number) => {
  if (t) t[k] = Number((performance.now() - t0).toFixed(3));
  return performance.now();
};

/**
 * Returns the view's cached manifest and metadata image, building what is
 * missing. Links (dependency resolution) only on a manifest miss.
 */
export async function prepareView(spec: ViewSpec, mountpoints: readonly MountPoint[], timing?: Record<string, number>, opts: { image?: boolean } = {}): Promise<PreparedView> {
  const wantImage = opts.image !== false;
  let t = performance.now();
  const objectsDir = storePaths(spec.storeDir).objects;
  if (/[:,\\]/.test(objectsDir)) throw usageError(`The store path ${spec.storeDir} contains ':', ',' or '\\', which overlayfs mount options cannot carry`);
  let variantFile: string | null = null;
  if (spec.variant) {
    variantFile = variantPath(spec.variant);
  }
  const keyText = viewKey(spec, variantFile);
  const key = quickHash(keyText);
  const views = path.join(cacheRoot(), 'views');
  const keyFile = path.join(views, `${key}.key`);
  const dir = path.join(views, key);
  const manifestFile = path.join(dir, 'manifest.json');
  // images are derived from the directory's manifest: their sidecar names only the mount points
  const mpsText = JSON.stringify(mountpoints);
  const imageBase = path.join(dir, `meta-${quickHash(`${IMAGE_FORMAT}:${mpsText}`)}`);
  const imageFile = `${imageBase}.erofs`;
  const keyHave = readOrNull(keyFile);
  const keyHit = keyHave === keyText;
  t = lap(timing, 'cacheLookup', t);
  if (keyHit && (wantImage ? readOrNull(`${imageBase}.json`) === mpsText && fs.existsSync(imageFile) : fs.existsSync(manifestFile))) return { dir, manifestFile, imageFile, objectsDir, built: 'none' };

  let built: PreparedView['built'] = 'image';
  let manifest: Manifest;
  if (keyHit && fs.existsSync(manifestFile)) {
    if (!wantImage) return { dir, manifestFile, imageFile, objectsDir, built: 'none' };
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } else {
    built = 'manifest+image';
    manifest = await linkManifest(spec, timing);
    t = performance.now();
    checkObjects(manifest, objectsDir, spec.storeDir);
    t = lap(timing, 'checkObjects', t);
    if (keyHave !== null) {
      // another key with this hash owned the name: never write through its alias, nor keep its images
      if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(dir, { force: true });
      else if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (f.startsWith('meta-')) fs.rmSync(path.join(dir, f), { force: true });
    }
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(manifestFile, JSON.stringify(manifest));
    writeFileAtomic(keyFile, keyText);
    // linking may write the lock (--lock naming a new file), and so change the key: alias the new key too
    const key2Text = viewKey(spec, variantFile);
    const key2 = quickHash(key2Text);
    if (key2Text !== keyText && key2 !== key) {
      const alias = path.join(views, key2);
      try {
        fs.symlinkSync(key, alias);
        writeFileAtomic(path.join(views, `${key2}.key`), key2Text);
      } catch {}
    }
  }
  if (!wantImage) return { dir, manifestFile, imageFile, objectsDir, built: 'manifest' };
  t = performance.now();
  const image = await metadataImage(manifest, mountpoints);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(imageFile, image);
  writeFileAtomic(`${imageBase}.json`, mpsText);
  lap(timing, 'image', t);
  return { dir, manifestFile, imageFile, objectsDir, built };
}

async function linkManifest(spec: ViewSpec, timing?: Record<string, number>): Promise<Manifest> {
  const { Store } = await import('../store/store.js');
  const { link } = await import('../linker/link.js');
  const { toManifest } = await import('../linker/output/manifest.js');
  const store = Store.open(spec.storeDir);
  try {
    let variant: string | import('../linker/variant.js').Variant;
    if (spec.variant) variant = spec.variant;
    else {
      const { adhocVariant } = await import('../linker/variant.js');
      const rows = store.catalog.listPackages();
      // the store's default format: deb when it holds debs
      const format = rows.some((r) => r.format === 'deb') ? 'deb' : 'rpm';
      variant = adhocVariant(spec.roots ?? [], format);
    }
    const r = await link(store, { variant, lock: spec.lock ?? null, roots: spec.roots?.length ? spec.roots : undefined, timing });
    if (spec.lock && !fs.existsSync(spec.lock)) {
      const { lockText } = await import('../linker/lock.js');
      writeFileAtomic(spec.lock, lockText(r.lock));
    }
    return toManifest(r, (d) => store.putBytes(d));
  } finally {
    store.close();
  }
}

/** Every object the view names must be in the store: a view must not fail with EIO halfway through a program. */
export function checkObjects(manifest: Manifest, objectsDir: string, storeDir: string): void {
  const missing: { object: string; path: string }[] = [];
  const seen = new Set<string>();
  for (const n of manifest.nodes) {
    if (!n.object || seen.has(n.object)) continue;
    seen.add(n.object);
    if (!fs.existsSync(objectPath(objectsDir, n.object))) missing.push({ object: n.object, path: n.path });
  }
  if (missing.length) {
    const e = notFound(
      `The store ${storeDir} is missing ${missing.length} object${missing.length > 1 ? 's' : ''} the view needs: ${missing
        .slice(0, 5)
        .map((m) => `${m.path} (${m.object.slice(0, 16)}…)`)
        .join(', ')}${missing.length > 5 ? ', …' : ''}; re-import the packages or run weld fsck`,
      { missing },
    );
    throw e;
  }
}

/** The metadata-only EROFS image of a manifest plus mount points. */
export async function metadataImage(manifest: Manifest, mountpoints: readonly MountPoint[]): Promise<Uint8Array> {
  const { manifestNodes } = await import('../linker/output/manifest.js');
  const { withMountPoints, metacopyNodes } = await import('./nodes.js');
  const { encodeErofs } = await import('../formats/erofs/writer.js');
  const nodes = metacopyNodes(withMountPoints(manifestNodes(manifest), mountpoints), objectRelPath);
  // the name filter spares each file's inline-xattr scan on ls -l's negative security.selinux and ACL lookups
  const img = encodeErofs(nodes, { buildTime: manifest.sourceDateEpoch, metadataOnly: true, xattrFilter: true, volumeName: manifest.variant.slice(0, 16) });
  const out = new Uint8Array(img.size);
  for (const e of img.extents) {
    if (e.kind === 'bytes') out.set(e.data, e.offset);
    else if (e.kind === 'object') throw new WeldError('bug', 'E_BUG', `internal error: metadata image has data for object ${e.object}`);
  }
  return out;
}
