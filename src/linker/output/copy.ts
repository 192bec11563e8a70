import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../../store/store.js';
import { WeldError } from '../../errors.js';
import { nativeTool } from '../../util/native.js';
import { runToolAsync } from '../../util/exec.js';
import { cacheRoot } from '../../util/cachedir.js';
import type { Copier } from './emit.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/linker/output/native/weld-copy.c');

/**
 * A copier that runs weld-copy (copy_file_range), or null where it cannot be
 * built (no C compiler): the image is then written through Node's buffers.
 */
export function objectCopier(store: Store): Copier | null {
  let bin: string;
  try {
    bin = nativeTool(SOURCE, 'weld-copy', cacheRoot());
  } catch {
    return null;
  }
  return {
    async copy(fd, ranges) {
      const plan = ranges.map((r) => `${store.objects.relPath(r.object)} ${r.offset} ${r.size}\n`).join('');
      const { status, error, stderr } = await runToolAsync([bin, store.objects.objectsDir], { input: plan, stdout: fd, check: false });
      if (error) throw new WeldError('io', 'E_IO_COPY', `Cannot run ${bin}: ${error.message}`, {});
      if (status === 0) return;
      // "weld-copy: RELPATH: ENOSPC: No space left on device"
      const m = /^weld-copy: (.*): (E[A-Z]+): (.*)$/m.exec(stderr);
      const code = m?.[2] ?? 'UNKNOWN';
      const what = code === 'ENOSPC' ? 'no space left on device' : (m?.[3] ?? (stderr.trim() || `exit ${status}`));
      throw new WeldError('io', `E_IO_${code}`, `Cannot write image: ${what}${m && code !== 'ENOSPC' ? ` (object ${m[1]})` : ''}`, { errno: code });
    },
  };
}
