import type { Extent, TreeNode } from '../model.js';
import type { Store } from '../store/store.js';
import type { LinkResult } from './link.js';
import { objectPlacements, encodeErofs, type ErofsImage } from '../formats/erofs/writer.js';
import type { Layout } from '../formats/erofs/layout.js';
import fs from 'node:fs';
import { DIGEST_SIZE, superblock, verityTable, deriveUuid, leafDigests, hashTreeFromExtents, type SealStats } from '../verity/index.js';
import { DDI_ROOT_START, ddiLayout, ddiPieces, type DdiLayout } from '../formats/ddi/index.js';
import { shift, type ObjectRange } from './output/emit.js';
import { bug, usageError } from '../errors.js';
import { nevra } from '../util/nevra.js';

export interface ImageReport {
  format: 'erofs' | 'ddi';
  size: number;
  rootHash: string | null;
  salt: string | null;
  dataBlocks: number;
  hashStartBlock: number | null;
  table: string | null;
  partitions: { type: string; uuid: string; start: number; size: number; name: string }[];
  seal: (SealStats & { objects: number; cachedObjects: number; ms: number }) | null;
}

export interface Image {
  size: number;
  extents: Extent[];
  report: ImageReport;
  erofs: ErofsImage;
}

export function toTreeNodes(r: LinkResult): TreeNode[] {
  return r.nodes.map((n) => {
    const t: TreeNode = { path: n.path, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, mtime: n.mtime, size: n.size };
    if (n.pathBytes) t.pathBytes = n.pathBytes;
    if (n.target !== undefined) t.target = n.target;
    if (n.rdevMajor !== undefined) (t.rdevMajor = n.rdevMajor), (t.rdevMinor = n.rdevMinor);
    if (n.xattrs) t.xattrs = n.xattrs;
    if (n.object) t.object = n.object;
    if (n.data) t.data = n.data;
    if (n.hardlink) t.hardlink = n.hardlink;
    return t;
  });
}

/**
 * Lays out the filesystem and, for a DDI, seals it: the root hash is known
 * before the first byte is written, which is what lets the image stream to a pipe.
 */
export async function buildImage(
  store: Store,
  r: LinkResult,
  format: 'erofs' | 'ddi',
  opts: { saltHex: string; volumeName?: string; onData?: (ranges: ObjectRange[]) => void },
): Promise<Image> {
  const uuid = Buffer.from(deriveUuid('erofs', Buffer.from(r.lock.salt, 'hex'), Buffer.from(r.variant.name)).replace(/-/g, ''), 'hex');
  // file data placement is final once pass 1 is done: a copier can move it while pass 2 runs and the hash tree is built
  const dataAt = format === 'ddi' ? DDI_ROOT_START : 0;
  let placed: ObjectRange[] | null = null;
  const onLayout = opts.onData ? (l: Layout) => opts.onData!((placed = objectPlacements(l).map((o) => ({ ...o, offset: o.offset + dataAt })))) : undefined;
  const erofs = encodeErofs(toTreeNodes(r), { buildTime: r.sourceDateEpoch, uuid, volumeName: opts.volumeName ?? r.variant.name.slice(0, 16), onLayout });
  if (placed) checkPlacements(placed, erofs.extents, dataAt);
  const base: ImageReport = { format, size: erofs.size, rootHash: null, salt: null, dataBlocks: erofs.blocks, hashStartBlock: null, table: null, partitions: [], seal: null };
  if (format === 'erofs') return { size: erofs.size, extents: erofs.extents, report: base, erofs };
  if (!/^[0-9a-f]*$/.test(opts.saltHex) || opts.saltHex.length % 2 || opts.saltHex.length > 512) throw usageError(`--salt must be hex, at most 256 bytes`);
  const salt = Uint8Array.from(Buffer.from(opts.saltHex, 'hex'));
  const t0 = performance.now();
  // leaves are cached per (package, salt); an object shared by several packages is filed under the first
  const owner = new Map<string, number>();
  for (const p of r.packages) for (const f of p.files) if (f.object && !owner.has(f.object)) owner.set(f.object, p.row.id);
  // a generator's outputs (hwdb.bin: megabytes) are filed under the first package that asked for them
  for (const g of r.actions.generators ?? []) {
    const p = r.packages.find((x) => nevra(x.row) === g.packages[0]);
    if (p) for (const o of g.outputs) if (!owner.has(o.object)) owner.set(o.object, p.row.id);
  }
  const packs = store.getPackageLeaves(r.packages.map((p) => p.row.id), opts.saltHex);
  const known = new Map<string, Uint8Array>();
  for (const m of packs.values()) for (const [o, d] of m) known.set(o, d);
  const grown = new Set<number>();
  const seen = new Set<string>();
  const cached = new Set<string>();
  const { hashTree, stats } = await hashTreeFromExtents(erofs.extents, erofs.size, { salt }, {
    // per-object leaves, computed once per (object, salt) and reused by every later link
    leaves: async (o, size) => {
      seen.add(o);
      const hit = known.get(o);
      if (hit) {
        cached.add(o);
        return hit;
      }
      // big objects stream, so a multi-GiB file never sits in memory whole
      const d = size > 64 << 20 ? await leafDigests(objectChunks(store.objects.pathOf(o)), salt) : leafDigests(store.readObject(o), salt);
      const pkg = owner.get(o);
      if (pkg !== undefined) {
        // generated files (passwd, ld.so.cache…) belong to no package and are cheap to hash again
        let m = packs.get(pkg);
        if (!m) packs.set(pkg, (m = new Map()));
        m.set(o, d);
        grown.add(pkg);
      }
      return d;
    },
    read: (o, offset, length) => readRange(store.objects.pathOf(o), offset, length),
  });
  try {
    store.putPackageLeaves([...grown].sort((x, y) => x - y).map((p) => ({ package: p, salt: opts.saltHex, leaves: packs.get(p)!, digestSize: DIGEST_SIZE[hashTree.params.algorithm] })));
  } catch {
    // a read-only store still links; the cache is an optimisation
  }
  const seal = { ...stats, objects: seen.size, cachedObjects: cached.size, ms: Number((performance.now() - t0).toFixed(3)) };
  const vuuid = deriveUuid('verity', salt, hashTree.rootHash);
  const sb = superblock({ ...hashTree.params, uuid: vuuid });
  const verityBytes = new Uint8Array(hashTree.params.hashBlockSize + hashTree.hashArea.length);
  verityBytes.set(sb, 0);
  verityBytes.set(hashTree.hashArea, hashTree.params.hashBlockSize);
  const layout: DdiLayout = ddiLayout({ rootSize: erofs.size, veritySize: verityBytes.length, rootHash: hashTree.rootHex });
  if (layout.partitions[0]!.start !== DDI_ROOT_START) throw bug(`root partition at ${layout.partitions[0]!.start}, not ${DDI_ROOT_START}`);
  const extents: Extent[] = [];
  for (const p of ddiPieces(layout)) {
    if (p.kind === 'bytes') extents.push({ kind: 'bytes', offset: p.offset, data: p.data });
    else if (p.kind === 'zero') extents.push({ kind: 'zero', offset: p.offset, size: p.size });
    else if (p.role === 'root') extents.push(...shift(erofs.extents, p.offset));
    else extents.push({ kind: 'bytes', offset: p.offset, data: verityBytes });
  }
  const table = verityTable({ params: hashTree.params, rootHash: hashTree.rootHex, dataDevice: '/dev/disk/by-partuuid/' + layout.partitions[0]!.uuid, hashDevice: '/dev/disk/by-partuuid/' + layout.partitions[1]!.uuid, hashStartBlock: 1, options: r.variant.layout.verityOptions as never });
  return {
    size: layout.totalSize,
    extents,
    erofs,
    report: {
      ...base,
      size: layout.totalSize,
      rootHash: hashTree.rootHex,
      salt: opts.saltHex,
      hashStartBlock: 1,
      table,
      partitions: layout.partitions.map((p) => ({ type: p.type, uuid: p.uuid, start: p.start, size: p.size, name: p.name })),
      seal,
    },
  };
}

function readRange(file: string, offset: number, length: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, b, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

async function* objectChunks(file: string): AsyncGenerator<Uint8Array> {
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const b = Buffer.allocUnsafe(4 << 20); // fresh per chunk: the consumer may keep it
      const n = fs.readSync(fd, b, 0, b.length, null);
      if (n === 0) return;
      yield b.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The copier was handed pass 1's placements; they must be exactly the extents pass 2 emitted. */
function checkPlacements(placed: readonly ObjectRange[], extents: readonly Extent[], dataAt: number): void {
  let i = 0;
  for (const e of extents) {
    if (e.kind !== 'object') continue;
    const p = placed[i++];
    if (!p || p.object !== e.object || p.offset !== e.offset + dataAt || p.size !== e.size) throw bug(`copier placement ${i - 1} disagrees with the EROFS writer at ${e.offset}`);
  }
  if (i !== placed.length) throw bug(`copier got ${placed.length} placements, the EROFS writer emitted ${i}`);
}
