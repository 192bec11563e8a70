import os from 'node:os';
import path from 'node:path';

/**
 * weld's cache of derived data (views, native helpers): $WELD_CACHE, else
 * $XDG_CACHE_HOME/weld, else ~/.cache/weld. Not the store: safe to delete.
 */
export function cacheRoot(): string {
  if (process.env.WELD_CACHE) return path.resolve(process.env.WELD_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'weld');
}
