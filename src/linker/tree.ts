import type { FileEntry, FileType, TreeNode } from '../model.js';
import { WeldError } from '../errors.js';

const S_IF: Record<FileType, number> = {
  file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000, socket: 0o140000,
};

/** A node while linking: owners are still names; uid/gid are resolved after the users action. */
export interface LinkNode extends TreeNode {
  user: string;
  group: string;
  /** package that shipped it, or `action:<kind>` / `variant` for generated files */
  origin: string;
  caps?: string;
  digest?: string;
}

export function modeOf(type: FileType, perm: number): number {
  return S_IF[type] | (perm & 0o7777);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** The merged tree: one node per path, every ancestor a directory. */
export class LinkTree {
  readonly nodes = new Map<string, LinkNode>();
  readonly mtime: number;

  constructor(mtime: number) {
    this.mtime = mtime;
    this.nodes.set('/', { path: '/', type: 'dir', mode: modeOf('dir', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime, size: 0, origin: 'weld' });
  }

  get(p: string): LinkNode | undefined {
    return this.nodes.get(p);
  }

  /** Creates missing ancestors as root-owned 0755 directories; a non-directory ancestor is an error. */
  ensureParents(p: string, origin: string): void {
    // common case: the parent exists, and so (every ancestor being a directory) do all ancestors
    const slash = p.lastIndexOf('/');
    if (slash > 0 && this.nodes.get(p.slice(0, slash))?.type === 'dir') return;
    if (slash === 0) return;
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur += '/' + parts[i];
      const n = this.nodes.get(cur);
      if (!n) this.nodes.set(cur, { path: cur, type: 'dir', mode: modeOf('dir', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: this.mtime, size: 0, origin });
      else if (n.type !== 'dir') {
        throw new WeldError('conflict', 'E_PARENT', `${origin} ships ${p}, but its parent ${cur} is a ${n.type} from ${n.origin}`, { path: p, parent: cur });
      }
    }
  }

  set(n: LinkNode): void {
    this.ensureParents(n.path, n.origin);
    this.nodes.set(n.path, n);
  }

  delete(p: string): void {
    for (const k of [...this.nodes.keys()]) if (k === p || k.startsWith(p + '/')) this.nodes.delete(k);
  }

  /** Writes a generated regular file (passwd, ld.so.cache, os-release…). */
  writeFile(p: string, data: Uint8Array | string, origin: string, perm = 0o644, user = 'root', group = 'root'): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const old = this.nodes.get(p);
    if (old && old.type === 'dir') throw new WeldError('conflict', 'E_CONFLICT', `${origin} writes ${p}, which is a directory from ${old.origin}`, { path: p });
    this.set({ path: p, type: 'file', mode: modeOf('file', perm), uid: 0, gid: 0, user, group, mtime: this.mtime, size: bytes.length, data: bytes, origin });
  }

  symlink(p: string, target: string, origin: string): void {
    const old = this.nodes.get(p);
    if (old && old.type === 'dir') throw new WeldError('conflict', 'E_CONFLICT', `${origin} links ${p}, which is a directory from ${old.origin}`, { path: p });
    this.set({ path: p, type: 'symlink', mode: modeOf('symlink', 0o777), uid: 0, gid: 0, user: 'root', group: 'root', mtime: this.mtime, size: Buffer.byteLength(target), target, origin });
  }

  mkdir(p: string, origin: string, perm = 0o755, user = 'root', group = 'root'): void {
    const old = this.nodes.get(p);
    if (old) return;
    this.set({ path: p, type: 'dir', mode: modeOf('dir', perm), uid: 0, gid: 0, user, group, mtime: this.mtime, size: 0, origin });
  }

  /** Nodes sorted by path bytes: parents before children, '/' first. */
  sorted(): LinkNode[] {
    const nodes = [...this.nodes.values()];
    // UTF-8 byte order is code point order, which JS string order matches unless a surrogate is involved;
    // raw (non-UTF-8) paths sort by their bytes, not by their \xNN spelling
    if (nodes.every((n) => !n.pathBytes && !SURROGATE.test(n.path))) return nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const keyed = nodes.map((n) => ({ n, k: n.pathBytes ? Buffer.from(n.pathBytes) : Buffer.from(n.path) }));
    keyed.sort((a, b) => Buffer.compare(a.k, b.k));
    return keyed.map((x) => x.n);
  }
}

/** What a path walk learns of one component: absent, a symlink and its target, or anything else. */
export type PathStep = null | { target: string } | 'other';

/**
 * The one symlink walk inside a tree (at most 40 links, like the kernel). It
 * yields each path it must look at and is told what is there, so a sync and an
 * async tree share it. A missing component ends the walk with null when
 * `missing` is 'fail' (ldconfig's chroot_canon), or stays as written when
 * 'keep' (realpath -m). Null too when links loop.
 */
export function* walkPath(p: string, missing: 'keep' | 'fail'): Generator<string, string | null, PathStep> {
  const todo = p.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const step = yield '/' + [...done, part].join('/');
    if (step === null && missing === 'fail') return null;
    if (step !== null && step !== 'other') {
      if (++links > 40) return null;
      if (step.target.startsWith('/')) done.length = 0;
      todo.unshift(...step.target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return '/' + done.join('/');
}

/** realpath -m inside a tree: every symlink along p resolved, missing components kept as written. */
export function realpath(get: (p: string) => LinkNode | undefined, p: string): string | null {
  const walk = walkPath(p, 'keep');
  for (let r = walk.next(); ; ) {
    if (r.done) return r.value;
    const n = get(r.value);
    r = walk.next(n === undefined ? null : n.type === 'symlink' ? { target: n.target! } : 'other');
  }
}

/** Content identity for conflict checks; mtime is not part of it. */
export function sameContent(a: LinkNode, b: { type: FileType; mode: number; object?: string; target?: string; user: string; group: string; size: number }): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file') return (a.object ?? '') === (b.object ?? '') && a.size === b.size && (a.mode & 0o7777) === (b.mode & 0o7777);
  if (a.type === 'symlink') return a.target === b.target;
  return (a.mode & 0o7777) === (b.mode & 0o7777);
}

export function fromEntry(f: FileEntry, path: string, origin: string, hardlink: number | undefined): LinkNode {
  const n: LinkNode = {
    path,
    type: f.type,
    mode: f.mode,
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
    user: f.user,
    group: f.group,
    mtime: f.mtime,
    size: f.type === 'file' ? f.size : f.type === 'symlink' ? Buffer.byteLength(f.target) : 0,
    origin,
  };
  if (f.pathBytes && path === f.path) n.pathBytes = f.pathBytes;
  if (f.type === 'symlink') n.target = f.target;
  if (f.type === 'file' && f.object) n.object = f.object;
  if (f.rdevMajor !== undefined) (n.rdevMajor = f.rdevMajor), (n.rdevMinor = f.rdevMinor);
  if (f.caps) n.caps = f.caps;
  if (f.xattrs) n.xattrs = { ...f.xattrs };
  if (hardlink) n.hardlink = hardlink;
  if (f.digest) n.digest = f.digest;
  return n;
}
