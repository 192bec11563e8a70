import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { WeldError, toolError } from '../errors.js';
import { quickHash } from '../views/hash.js';

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
  const tmp = `${bin}.tmp.${process.pid}`;
  const cc = process.env.CC || 'cc';
  const argv = [cc, '-O2', '-Wall', '-Werror', '-o', tmp, source];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const e = toolError(argv, r.stderr || String(r.error), `Cannot build ${name} with ${cc}: ${(r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' | ')}`);
    e.exitCode = 125;
    throw e;
  }
  fs.renameSync(tmp, bin);
  return bin;
}
