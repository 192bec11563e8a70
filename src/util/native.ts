import fs from 'node:fs';
import path from 'node:path';
import { WeldError } from '../errors.js';
import { quickHash } from './quickhash.js';
import { runTool } from './exec.js';
import { placeAtomic } from './atomic.js';

/**
 * Path of a small native program, compiled on first use with the system C
 * compiler into `cacheDir` (named by the source digest, so an edit rebuilds it).
 */
export function nativeTool(source: string, name: string, cacheDir: string): string {
  let src: Buffer;
  try {
    src = fs.readFileSync(source);
  } catch {
    throw new WeldError('notfound', 'E_HELPER', `Cannot find the ${name} source ${source}`, {}, 125);
  }
  const dir = path.join(cacheDir, 'native');
  const bin = path.join(dir, `${name}-${quickHash(src)}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const cc = process.env.CC || 'cc';
  try {
    placeAtomic(bin, (tmp) => runTool([cc, '-O2', '-Wall', '-Werror', '-o', tmp, source], { what: `Cannot build ${name} with ${cc}` }));
  } catch (e) {
    // exit 125, as the helper itself would on a failed start
    if (e instanceof WeldError) e.exitCode = 125;
    throw e;
  }
  return bin;
}
