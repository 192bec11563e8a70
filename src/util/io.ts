import { WeldError } from '../errors.js';

/** An io error naming what failed, with ENOSPC in words. */
export function ioError(message: string, e: unknown): WeldError {
  const err = e as NodeJS.ErrnoException;
  return new WeldError('io', `E_IO_${err.code ?? 'UNKNOWN'}`, `${message}: ${err.code === 'ENOSPC' ? 'no space left on device' : err.message}`, {
    errno: err.code,
  });
}

/** Whether a process lives (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
