import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WeldError, toolError } from '../errors.js';
import { cacheRoot } from './cache.js';
import { quickHash } from './hash.js';

const SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/views/native/weld-helper.c');

/**
 * Path of the native helper, compiled on first use with the system C compiler
 * into the cache (named by the source digest, so an edit rebuilds it).
 */
export function helperPath(): string {
  let src: Buffer;
  try {
    src = fs.readFileSync(SOURCE);
  } catch {
    throw new WeldError('notfound', 'E_HELPER', `Cannot find the helper source ${SOURCE}`, {}, 125);
  }
  const digest = quickHash(src);
  const dir = path.join(cacheRoot(), 'native');
  const bin = path.join(dir, `weld-helper-${digest}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.tmp.${process.pid}`;
  const cc = process.env.CC || 'cc';
  const argv = [cc, '-O2', '-Wall', '-Werror', '-o', tmp, SOURCE];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const e = toolError(argv, r.stderr || String(r.error), `Cannot build the native helper with ${cc}: ${(r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' | ')}`);
    e.exitCode = 125;
    throw e;
  }
  fs.renameSync(tmp, bin);
  return bin;
}
