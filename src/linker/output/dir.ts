import fs from 'node:fs';
import path from 'node:path';
import type { TreeNode } from '../../model.js';
import { WeldError } from '../../errors.js';
import { ioError } from '../../util/io.js';
import { runTool } from '../../util/exec.js';
import { safePath } from '../../util/safepath.js';

/**
 * Materialises the tree into a directory (which must be empty or absent).
 * Paths were checked at import; they are checked again here, where the tree
 * meets a real filesystem, and nothing is followed through a symlink.
 */
export function writeDir(dir: string, nodes: readonly TreeNode[], objectPath: (id: string) => string): { skipped: string[] } {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new WeldError('usage', 'E_USAGE', `Output directory ${dir} is not empty`, { dir }, 2);
  fs.mkdirSync(dir, { recursive: true });
  const skipped: string[] = [];
  const firstOfGroup = new Map<number, string>();
  const dirs: { p: string; n: TreeNode }[] = [];
  const xattrCmds: string[][] = [];
  try {
    for (const n of nodes) {
      const rel = n.path === '/' ? '/' : safePath(n.path, { format: 'tree', where: 'link output', allowAbsolute: true });
      const p = path.join(dir, rel);
      if (n.path !== '/') {
        const parent = fs.lstatSync(path.dirname(p));
        if (!parent.isDirectory()) throw new WeldError('conflict', 'E_PARENT', `Cannot write ${n.path}: its parent is not a directory`);
      }
      switch (n.type) {
        case 'dir':
          if (n.path !== '/') fs.mkdirSync(p);
          dirs.push({ p, n });
          continue;
        case 'file':
          if (n.hardlink && firstOfGroup.has(n.hardlink)) {
            fs.linkSync(firstOfGroup.get(n.hardlink)!, p);
            continue;
          }
          if (n.object) fs.copyFileSync(objectPath(n.object), p);
          else fs.writeFileSync(p, n.data ?? new Uint8Array(0));
          if (n.hardlink) firstOfGroup.set(n.hardlink, p);
          break;
        case 'symlink':
          fs.symlinkSync(n.target!, p);
          fs.lchownSync(p, n.uid, n.gid);
          fs.lutimesSync(p, n.mtime, n.mtime);
          continue;
        case 'char':
        case 'block':
        case 'fifo': {
          const args = n.type === 'fifo' ? [p, 'p'] : [p, n.type === 'char' ? 'c' : 'b', String(n.rdevMajor ?? 0), String(n.rdevMinor ?? 0)];
          if (runTool(['mknod', ...args], { stderr: 'ignore', check: false }).status !== 0) {
            skipped.push(n.path);
            continue;
          }
          break;
        }
        case 'socket':
          skipped.push(n.path);
          continue;
      }
      fs.chownSync(p, n.uid, n.gid);
      fs.chmodSync(p, n.mode & 0o7777);
      for (const [k, v] of Object.entries(n.xattrs ?? {})) xattrCmds.push(['-n', k, '-v', '0x' + Buffer.from(v).toString('hex'), p]);
      fs.utimesSync(p, n.mtime, n.mtime);
    }
    for (const a of xattrCmds) {
      if (runTool(['setfattr', ...a], { stderr: 'ignore', check: false }).status !== 0) skipped.push(`xattr ${a[1]} on ${a[4]}`);
    }
    // directories last, deepest first, so adding children does not reset their mtime
    for (const { p, n } of dirs.reverse()) {
      fs.chownSync(p, n.uid, n.gid);
      fs.chmodSync(p, n.mode & 0o7777);
      fs.utimesSync(p, n.mtime, n.mtime);
    }
  } catch (e) {
    if (e instanceof WeldError) throw e;
    throw ioError(`Cannot write directory ${dir}`, e);
  }
  return { skipped };
}
