import type { TreeNode } from '../../model.js';
import type { LinkResult } from '../link.js';
// light imports only: views load this module on their start-up path
import { nevra } from '../../util/nevra.js';

export interface ManifestNode {
  path: string;
  /** hex of the raw path, when it is not UTF-8 */
  pathHex?: string;
  type: TreeNode['type'];
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  object?: string;
  target?: string;
  rdev?: [number, number];
  /** name → hex value */
  xattrs?: Record<string, string>;
  hardlink?: number;
  origin: string;
}

export interface Manifest {
  manifestVersion: 1;
  variant: string;
  format: 'rpm' | 'deb';
  sourceDateEpoch: number;
  packages: string[];
  nodes: ManifestNode[];
}

/**
 * The resolved tree only, for views and diffs. Generated files are stored as
 * objects first (via `put`), so every regular file is an object reference.
 */
export function toManifest(r: LinkResult, put: (data: Uint8Array) => string): Manifest {
  return {
    manifestVersion: 1,
    variant: r.variant.name,
    format: r.variant.format,
    sourceDateEpoch: r.sourceDateEpoch,
    packages: r.packages.map((p) => nevra(p.row)),
    nodes: r.nodes.map((n) => {
      const m: ManifestNode = { path: n.path, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, mtime: n.mtime, origin: n.origin };
      if (n.pathBytes) m.pathHex = Buffer.from(n.pathBytes).toString('hex');
      if (n.type === 'file' && n.size > 0) m.object = n.object ?? put(n.data!);
      if (n.target !== undefined) m.target = n.target;
      if (n.rdevMajor !== undefined) m.rdev = [n.rdevMajor, n.rdevMinor ?? 0];
      if (n.xattrs && Object.keys(n.xattrs).length) m.xattrs = Object.fromEntries(Object.entries(n.xattrs).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
      if (n.hardlink) m.hardlink = n.hardlink;
      return m;
    }),
  };
}

export function manifestNodes(m: Manifest): TreeNode[] {
  return m.nodes.map((n) => {
    const t: TreeNode = { path: n.path, type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, size: n.size, mtime: n.mtime };
    if (n.pathHex) t.pathBytes = Uint8Array.from(Buffer.from(n.pathHex, 'hex'));
    if (n.object) t.object = n.object;
    if (n.target !== undefined) t.target = n.target;
    if (n.rdev) (t.rdevMajor = n.rdev[0]), (t.rdevMinor = n.rdev[1]);
    if (n.xattrs) t.xattrs = Object.fromEntries(Object.entries(n.xattrs).map(([k, v]) => [k, Uint8Array.from(Buffer.from(v, 'hex'))]));
    if (n.hardlink) t.hardlink = n.hardlink;
    return t;
  });
}
