/**
 * The nodes of a kernel-composed view (metadata EROFS + overlayfs over the
 * store's objects): what `weld run` mounts (src/views) and what a generator
 * runs in (src/linker/generators). Pure.
 */
import type { TreeNode } from '../../model.js';
import { usageError } from '../../errors.js';

export interface MountPoint {
  path: string;
  type: 'dir' | 'file';
}

const enc = new TextEncoder();
const keyOf = (n: TreeNode) => n.pathBytes ?? enc.encode(n.path);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Adds missing mount points (and their parents) as empty dirs/files owned by root. */
export function withMountPoints(nodes: readonly TreeNode[], mountpoints: readonly MountPoint[]): TreeNode[] {
  const byPath = new Map(nodes.map((n) => [n.path, n]));
  const root = byPath.get('/');
  const mtime = root?.mtime ?? 0;
  const added: TreeNode[] = [];
  const add = (p: string, type: 'dir' | 'file') => {
    const have = byPath.get(p);
    if (have) {
      if (have.type !== type) throw usageError(`Cannot mount on ${p}: it is a ${have.type} in the view, not a ${type}`);
      return;
    }
    const n: TreeNode = type === 'dir' ? { path: p, type, mode: 0o40755, uid: 0, gid: 0, mtime, size: 0 } : { path: p, type, mode: 0o100644, uid: 0, gid: 0, mtime, size: 0 };
    byPath.set(p, n);
    added.push(n);
  };
  for (const mp of mountpoints) {
    if (!mp.path.startsWith('/') || mp.path.split('/').some((c) => c === '..' || c === '.') || mp.path.includes('\0')) throw usageError(`Mount point ${JSON.stringify(mp.path)} must be an absolute path without . or ..`);
    const parts = mp.path.split('/').filter(Boolean);
    if (!parts.length) throw usageError('Cannot mount on / inside a view');
    for (let i = 1; i < parts.length; i++) add('/' + parts.slice(0, i).join('/'), 'dir');
    add('/' + parts.join('/'), mp.type);
  }
  if (!added.length) return [...nodes];
  return [...nodes, ...added].sort((a, b) => compareBytes(keyOf(a), keyOf(b)));
}

/**
 * composefs-style metadata: every regular file with content becomes a sparse
 * file whose overlayfs redirect names its object, relative to the objects dir.
 * Files given inline (`data`) keep their bytes in the image.
 */
export function metacopyNodes(nodes: readonly TreeNode[], relPath: (object: string) => string): TreeNode[] {
  const empty = new Uint8Array(0);
  return nodes.map((n) => {
    if (n.type !== 'file' || !n.object || n.size === 0 || n.data !== undefined) return n;
    return { ...n, xattrs: { ...(n.xattrs ?? {}), 'trusted.overlay.metacopy': empty, 'trusted.overlay.redirect': enc.encode('/' + relPath(n.object)) } };
  });
}
