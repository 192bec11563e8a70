import type { FileEntry } from '../model.js';
import { pack, unpack } from './msgpack.js';

/**
 * A package's file list, one blob per package in the catalog's `file_lists`
 * table: the linker reads one blob, not thousands of rows.
 * v3 is msgpack holding columns, each string column joined with NUL (no path,
 * owner, digest or target can hold one): msgpackr then decodes a dozen long
 * strings instead of ~15 short ones per file, which measured ~45 ms slower on
 * minbase. v2 (the same columns as JSON text) and v1 (a record per file) still read.
 */
interface FileListColumns {
  v: 2;
  path: string[];
  type: FileEntry['type'][];
  mode: number[];
  user: string[];
  group: string[];
  uid: (number | null)[];
  gid: (number | null)[];
  size: number[];
  mtime: number[];
  digest: string[];
  digestAlgo: string[];
  target: string[];
  /** comma-joined */
  flags: string[];
  caps: string[];
  object: string[];
  /** sparse columns: index → value */
  pathBytes?: Record<number, string>;
  hardlink?: Record<number, number>;
  rdev?: Record<number, [number, number | undefined]>;
  xattrs?: Record<number, Record<string, string>>;
}

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

export function encodeFileList(files: FileEntry[]): Buffer {
  const t: FileListColumns = {
    v: 2, path: [], type: [], mode: [], user: [], group: [], uid: [], gid: [], size: [], mtime: [],
    digest: [], digestAlgo: [], target: [], flags: [], caps: [], object: [],
  };
  files.forEach((f, i) => {
    t.path.push(f.path);
    t.type.push(f.type);
    t.mode.push(f.mode);
    t.user.push(f.user);
    t.group.push(f.group);
    t.uid.push(f.uid ?? null);
    t.gid.push(f.gid ?? null);
    t.size.push(f.size);
    t.mtime.push(f.mtime);
    t.digest.push(f.digest);
    t.digestAlgo.push(f.digestAlgo);
    t.target.push(f.target);
    t.flags.push(f.flags.join(','));
    t.caps.push(f.caps);
    t.object.push(f.object);
    if (f.pathBytes) (t.pathBytes ??= {})[i] = b64(f.pathBytes);
    if (f.hardlink !== undefined) (t.hardlink ??= {})[i] = f.hardlink;
    if (f.rdevMajor !== undefined) (t.rdev ??= {})[i] = [f.rdevMajor, f.rdevMinor];
    if (f.xattrs) (t.xattrs ??= {})[i] = Object.fromEntries(Object.entries(f.xattrs).map(([k, v]) => [k, b64(v)]));
  });
  return pack(joinColumns(t));
}

const STRING_COLUMNS = ['path', 'type', 'user', 'group', 'digest', 'digestAlgo', 'target', 'flags', 'caps', 'object'] as const;

function joinColumns(t: FileListColumns): Record<string, unknown> {
  const out: Record<string, unknown> = { ...t, v: 3, n: t.path.length };
  for (const c of STRING_COLUMNS) out[c] = (t[c] as string[]).join('\0');
  return out;
}

function splitColumns(j: Record<string, unknown>): FileListColumns {
  const n = j.n as number;
  const t = { ...j, v: 2 } as unknown as FileListColumns;
  for (const c of STRING_COLUMNS) (t as unknown as Record<string, string[]>)[c] = n === 0 ? [] : (j[c] as string).split('\0');
  return t;
}

export function decodeFileList(b: Buffer | string): FileEntry[] {
  // a JSON string: file lists written by an earlier build of schema 2
  const v = typeof b === 'string' ? (JSON.parse(b) as FileListColumns) : (unpack(b) as FileListColumns | { files: FileEntry[] } | { v: 3 });
  if ('files' in v) return v.files; // schema 1: one record per file
  const t = v.v === 3 ? splitColumns(v as unknown as Record<string, unknown>) : (v as FileListColumns);
  const out: FileEntry[] = new Array(t.path.length);
  for (let i = 0; i < t.path.length; i++) {
    const f: FileEntry = {
      path: t.path[i]!,
      type: t.type[i]!,
      mode: t.mode[i]!,
      user: t.user[i]!,
      group: t.group[i]!,
      size: t.size[i]!,
      mtime: t.mtime[i]!,
      digest: t.digest[i]!,
      digestAlgo: t.digestAlgo[i]!,
      target: t.target[i]!,
      flags: t.flags[i] ? t.flags[i]!.split(',') : [],
      caps: t.caps[i]!,
      object: t.object[i]!,
    };
    if (t.uid[i] !== null) f.uid = t.uid[i]!;
    if (t.gid[i] !== null) f.gid = t.gid[i]!;
    const pb = t.pathBytes?.[i];
    if (pb !== undefined) f.pathBytes = unb64(pb);
    const hl = t.hardlink?.[i];
    if (hl !== undefined) f.hardlink = hl;
    const rd = t.rdev?.[i];
    if (rd) {
      f.rdevMajor = rd[0];
      if (rd[1] !== undefined) f.rdevMinor = rd[1];
    }
    const xa = t.xattrs?.[i];
    if (xa) f.xattrs = Object.fromEntries(Object.entries(xa).map(([k, v]) => [k, unb64(v)]));
    out[i] = f;
  }
  return out;
}
