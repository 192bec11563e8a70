import os from 'node:os';
import path from 'node:path';

/** `--store DIR`, else `$WELD_STORE`, else the XDG data directory. */
export function storeDir(flag?: string): string {
  if (flag) return path.resolve(flag);
  if (process.env.WELD_STORE) return path.resolve(process.env.WELD_STORE);
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'weld');
}
