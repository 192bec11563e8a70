import type { Extent, TreeNode } from '../../model.js';
import { encodeTar, type TarWriteEntry } from '../../formats/tar/write.js';

const TYPEFLAG: Record<TreeNode['type'], string> = { file: '0', dir: '5', symlink: '2', char: '3', block: '4', fifo: '6', socket: '0' };

/**
 * A pax tar of the tree, as extents: headers are bytes, file data comes
 * straight from store objects. Sockets cannot be archived and are skipped.
 */
export function tarExtents(nodes: readonly TreeNode[]): { size: number; extents: Extent[]; skipped: string[] } {
  const extents: Extent[] = [];
  const skipped: string[] = [];
  let off = 0;
  const firstOfGroup = new Map<number, string>();
  const push = (e: Extent, len: number) => {
    extents.push(e);
    off += len;
  };
  for (const n of nodes) {
    if (n.path === '/') continue;
    if (n.type === 'socket') {
      skipped.push(n.path);
      continue;
    }
    const rel = '.' + n.path + (n.type === 'dir' ? '/' : '');
    const entry: TarWriteEntry = {
      path: n.pathBytes ? Buffer.concat([Buffer.from('.'), Buffer.from(n.pathBytes)]) : rel,
      typeflag: TYPEFLAG[n.type],
      mode: n.mode & 0o7777,
      uid: n.uid,
      gid: n.gid,
      mtime: n.mtime,
      size: 0,
    };
    const pax: Record<string, string | Uint8Array> = {};
    if (Buffer.byteLength(rel) > 99 || n.pathBytes || /[^\x20-\x7e]/.test(rel)) pax.path = n.pathBytes ? Buffer.concat([Buffer.from('.'), Buffer.from(n.pathBytes)]) : rel;
    for (const [k, v] of Object.entries(n.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) pax[`SCHILY.xattr.${k}`] = v;
    let dataLen = 0;
    if (n.type === 'file' && n.hardlink) {
      const first = firstOfGroup.get(n.hardlink);
      if (first) {
        entry.typeflag = '1';
        entry.linkpath = '.' + first;
        if (Buffer.byteLength(entry.linkpath as string) > 99) pax.linkpath = entry.linkpath as string;
      } else firstOfGroup.set(n.hardlink, n.path);
    }
    if (entry.typeflag === '0') dataLen = n.size;
    if (n.type === 'symlink') {
      entry.linkpath = n.target!;
      if (Buffer.byteLength(n.target!) > 99 || /[^\x20-\x7e]/.test(n.target!)) pax.linkpath = n.target!;
    }
    if (n.type === 'char' || n.type === 'block') (entry.devmajor = n.rdevMajor ?? 0), (entry.devminor = n.rdevMinor ?? 0);
    if (Object.keys(pax).length) entry.pax = pax;
    entry.size = dataLen;
    const head = encodeTar([entry], { end: false });
    push({ kind: 'bytes', offset: off, data: head }, head.length);
    if (dataLen) {
      if (n.object) push({ kind: 'object', offset: off, object: n.object, size: dataLen }, dataLen);
      else push({ kind: 'bytes', offset: off, data: n.data ?? new Uint8Array(dataLen) }, dataLen);
      const pad = (512 - (dataLen % 512)) % 512;
      if (pad) push({ kind: 'zero', offset: off, size: pad }, pad);
    }
  }
  push({ kind: 'zero', offset: off, size: 1024 }, 1024);
  return { size: off, extents, skipped };
}
