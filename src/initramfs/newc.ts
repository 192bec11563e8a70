/**
 * A newc ("070701") cpio writer for initramfs images, as the kernel's
 * init/initramfs.c unpacks them: 110-byte ASCII-hex header, NUL-terminated
 * name padded to 4 bytes, data padded to 4 bytes, then "TRAILER!!!".
 * Pure: entries in, bytes out.
 */
import { bug } from '../errors.js';
import { safePath } from '../util/safepath.js';

export type NewcEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Uint8Array }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char' | 'block'; path: string; mode: number; major: number; minor: number };

export interface NewcOptions {
  /** one mtime for every entry, so output is reproducible */
  mtime: number;
}

const MAGIC = '070701';
const TRAILER = 'TRAILER!!!';
const S_IF = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000 } as const;
const enc = new TextEncoder();

const hex8 = (n: number, field: string): string => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw bug(`newc ${field} ${n} does not fit 32 bits`);
  return n.toString(16).padStart(8, '0');
};
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** Entries are written in the given order; the kernel needs parents before children. */
export function writeNewc(entries: NewcEntry[], opts: NewcOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    off += b.length;
  };
  const pad = () => {
    const n = pad4(off);
    if (n) push(new Uint8Array(n));
  };
  const seen = new Set<string>();
  const record = (name: string, mode: number, ino: number, nlink: number, data: Uint8Array, rmaj = 0, rmin = 0) => {
    const nameBytes = enc.encode(name + '\0');
    const fields = [ino, mode, 0, 0, nlink, opts.mtime, data.length, 0, 0, rmaj, rmin, nameBytes.length, 0];
    const names = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];
    push(enc.encode(MAGIC + fields.map((v, i) => hex8(v, names[i]!)).join('')));
    push(nameBytes);
    pad();
    if (data.length) push(data);
    pad();
  };
  let ino = 1;
  for (const e of entries) {
    const abs = safePath(e.path, { format: 'initramfs', where: 'initramfs entry', allowAbsolute: true });
    if (abs === '/') throw bug('newc entries name paths below /');
    if (seen.has(abs)) throw bug(`newc entry ${abs} appears twice`);
    const parent = abs.slice(0, abs.lastIndexOf('/')) || '/';
    if (parent !== '/' && !seen.has(parent)) throw bug(`newc entry ${abs} comes before its directory ${parent}`);
    seen.add(abs);
    const name = abs.slice(1);
    if (e.type === 'dir') record(name, S_IF.dir | (e.mode & 0o7777), ino++, 2, new Uint8Array(0));
    else if (e.type === 'file') record(name, S_IF.file | (e.mode & 0o7777), ino++, 1, e.data);
    else if (e.type === 'symlink') record(name, S_IF.symlink | 0o777, ino++, 1, enc.encode(e.target));
    else record(name, S_IF[e.type] | (e.mode & 0o7777), ino++, 1, new Uint8Array(0), e.major, e.minor);
  }
  record(TRAILER, 0, 0, 1, new Uint8Array(0));
  const out = new Uint8Array(off);
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}
