import path from 'node:path';
import { args, io } from './util.js';
import { WeldError, usageError } from '../errors.js';
import { runTool, toolFailure } from '../util/exec.js';

export const help = `weld umount [--lazy] MOUNTPOINT
  Unmounts a view that weld mount serves; the server then exits. --lazy
  detaches it even while files on it are open.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, { lazy: { type: 'boolean', short: 'l' } });
  if (values.help) return io.out(help + '\n'), 0;
  if (positionals.length !== 1) throw usageError('umount needs one MOUNTPOINT');
  const mp = path.resolve(positionals[0]!);
  const { mountsAt } = await import('../views/mounts.js');
  const here = mountsAt(mp);
  if (!here.length) throw new WeldError('notfound', 'E_NOT_MOUNTED', `Nothing is mounted on ${mp}`, { mountPoint: mp });
  if (!here.some((m) => m.fsType === 'fuse.weld')) throw new WeldError('conflict', 'E_NOT_WELD', `${mp} is a ${here.at(-1)!.fsType} mount, not a weld view; not touching it`, { mountPoint: mp });
  const argvU = ['umount', ...(values.lazy ? ['-l'] : []), mp];
  const r = runTool(argvU, { check: false });
  if (r.error || r.status !== 0) throw toolFailure(r, `Cannot unmount ${mp}${/busy/i.test(r.stderr) ? ' (files are open; --lazy detaches it anyway)' : ''}`);
  return 0;
}
