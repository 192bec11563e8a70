/**
 * One generator run in a kernel-composed view of the tree being linked:
 * the tree's nodes as a metadata-only EROFS image over the store's objects
 * (as `weld run` mounts it), files that link-time actions made kept inline in
 * that image (they have no object, and writing them to the store would leave
 * garbage for GC), and only the output directory writable.
 * The native part is weld-generate.c beside this file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TreeNode } from '../../model.js';
import { usageError, WeldError } from '../../errors.js';
import { encodeErofs } from '../../formats/erofs/writer.js';
import { objectRelPath } from '../../store/location.js';
import { cacheRoot } from '../../util/cachedir.js';
import { nativeTool } from '../../util/native.js';
import { runToolAsync } from '../../util/exec.js';
import { metacopyNodes, withMountPoints } from '../output/viewnodes.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/linker/generators/native/weld-generate.c');

/** nobody:nogroup, as Debian's base-passwd numbers them */
export const NOBODY = { uid: 65534, gid: 65534 };

export interface OutputEntry {
  /** path relative to the output directory */
  rel: string;
  kind: 'f' | 'd' | 'l' | 'x';
  /** permission bits (f, d), the full st_mode (x) */
  mode: number;
  /** file content (f), link target (l) */
  data?: Buffer;
  target?: string;
}

/** The metadata-only image of a view, built once for both runs of a generator. */
export function viewImage(nodes: readonly TreeNode[], epoch: number): Uint8Array {
  const all = metacopyNodes(withMountPoints(nodes, [{ path: '/tmp', type: 'dir' }, { path: '/dev', type: 'dir' }]), objectRelPath);
  const img = encodeErofs(all, { buildTime: epoch, metadataOnly: true });
  const out = new Uint8Array(img.size);
  for (const e of img.extents) {
    if (e.kind === 'bytes') out.set(e.data, e.offset);
    else if (e.kind === 'object') throw new WeldError('bug', 'E_BUG', `internal error: generator view has data for object ${e.object}`);
  }
  return out;
}

export interface SandboxRun {
  image: string;
  objectsDir: string;
  /** the output directory inside the view (symlinks resolved) */
  outDir: string;
  argv: string[];
  env: Record<string, string>;
  what: string;
  /** seconds before the tool and all it started are killed */
  timeout: number;
}

/** Runs argv once in the view; returns what it wrote into outDir. */
export async function runInView(r: SandboxRun): Promise<OutputEntry[]> {
  if (/[:,\\]/.test(r.objectsDir)) throw usageError(`The store path ${r.objectsDir} contains ':', ',' or '\\', which overlayfs mount options cannot carry`);
  if (/[:,\\]/.test(r.outDir)) throw usageError(`${r.what}: its output directory ${r.outDir} contains ':', ',' or '\\', which overlayfs mount options cannot carry`);
  const helper = nativeTool(SOURCE, 'weld-generate', cacheRoot());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-generate-'));
  try {
    const scratch = path.join(tmp, 'scratch');
    const collect = path.join(tmp, 'collect');
    fs.mkdirSync(scratch);
    fs.mkdirSync(collect);
    const argv = [helper, '--meta', r.image, '--objects', r.objectsDir, '--scratch', scratch, '--collect', collect, '--out', r.outDir, '--user', `${NOBODY.uid}:${NOBODY.gid}`, '--timeout', String(r.timeout)];
    for (const [k, v] of Object.entries(r.env)) argv.push('--env', `${k}=${v}`);
    argv.push('--', ...r.argv);
    const res = await runToolAsync(argv, { check: false });
    if (res.error || res.status !== 0) {
      // name the image's tool, not the sandbox helper; 125-127 are the helper's own (see weld-generate.c)
      const tail = res.stderr.trim().split('\n').filter((l) => l && !(res.status === 124 && l.startsWith('weld-generate:'))).slice(-3).join(' | ');
      const how = res.error ? res.error.message : res.signal ? `was killed by ${res.signal}` : res.status === 125 ? 'could not start its sandbox' : res.status === 124 ? `ran longer than ${r.timeout} s` : `exited ${res.status}`;
      throw new WeldError('tool', 'E_GENERATOR', `${r.what}: ${r.argv.join(' ')} ${how}${tail ? `: ${tail}` : ''}`, { argv: r.argv, status: res.status, stderr: tail });
    }
    const fields = res.stdout.toString('utf8').split('\0');
    const out: OutputEntry[] = [];
    for (let i = 0; i + 2 < fields.length; i += 3) {
      const kind = fields[i] as OutputEntry['kind'];
      const a = fields[i + 1]!;
      const rel = fields[i + 2]!.replace(/^\/+/, '');
      if (kind === 'f') out.push({ rel, kind, mode: parseInt(a, 8), data: fs.readFileSync(path.join(collect, rel)) });
      else if (kind === 'l') out.push({ rel, kind, mode: 0o777, target: a });
      else out.push({ rel, kind, mode: parseInt(a, 8) });
    }
    return out.sort((x, y) => (x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : 0));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
