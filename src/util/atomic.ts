/**
 * The one way weld replaces a file: write a temp file beside it, then
 * rename(2) over it, so readers see the old file or the new one, never half.
 * Temp names are `.NAME.weld-PID[.N]`; a later write removes those of dead processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WeldError } from '../errors.js';
import { ioError, processAlive } from './io.js';

export interface AtomicOptions {
  /** fsync the data before the rename (durable across a crash, slower) */
  fsync?: boolean;
  mode?: number;
}

let seq = 0;
const prefixOf = (file: string) => `.${path.basename(file)}.weld-`;

/** A fresh temp path beside `file`, unique within this process. */
function tempBeside(file: string): string {
  const abs = path.resolve(file);
  const n = seq++;
  return path.join(path.dirname(abs), `${prefixOf(abs)}${process.pid}${n ? `.${n}` : ''}`);
}

/** Removes temps beside `file` left by processes that died mid-write. */
export function removeStaleTemps(file: string): void {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const prefix = prefixOf(abs);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) fs.rmSync(path.join(dir, n), { force: true });
  }
}

/** Writes `data` to `file` atomically. */
export function writeFileAtomic(file: string, data: Uint8Array | string, o: AtomicOptions = {}): void {
  withAtomicFileSync(file, (fd) => void fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data), o);
}

/** Opens a fresh temp file beside `file`. */
function openTemp(file: string, o: AtomicOptions): { fd: number; tmp: string } {
  const tmp = tempBeside(file);
  try {
    return { fd: fs.openSync(tmp, 'w', o.mode ?? 0o644), tmp };
  } catch (e) {
    throw ioError(`Cannot write ${file}`, e);
  }
}

/** Runs `body` on the temp file's descriptor, then puts the file in place; on any failure the temp goes. */
function withAtomicFileSync<T>(file: string, body: (fd: number, tmp: string) => T, o: AtomicOptions = {}): T {
  const { fd, tmp } = openTemp(file, o);
  try {
    const r = body(fd, tmp);
    finish(fd, tmp, file, o);
    return r;
  } catch (e) {
    abandon(fd, tmp);
    throw wrap(file, e);
  }
}

/** withAtomicFileSync for a body that streams (awaits) its writes. */
export async function withAtomicFile<T>(file: string, body: (fd: number, tmp: string) => Promise<T> | T, o: AtomicOptions = {}): Promise<T> {
  const { fd, tmp } = openTemp(file, o);
  try {
    const r = await body(fd, tmp);
    finish(fd, tmp, file, o);
    return r;
  } catch (e) {
    abandon(fd, tmp);
    throw wrap(file, e);
  }
}

/**
 * Puts a file that `produce` creates at the path it is given (a compiler's
 * `-o`) in place atomically; on failure the temp goes.
 */
export function placeAtomic<T>(file: string, produce: (tmp: string) => T): T {
  const tmp = tempBeside(file);
  try {
    const r = produce(tmp);
    fs.renameSync(tmp, file);
    return r;
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw wrap(file, e);
  }
}

function finish(fd: number, tmp: string, file: string, o: AtomicOptions): void {
  if (o.fsync) fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

function abandon(fd: number, tmp: string): void {
  try {
    fs.closeSync(fd);
  } catch {}
  fs.rmSync(tmp, { force: true });
}

/** Errors the body raised itself pass through; a raw errno becomes an io error naming the file. */
const wrap = (file: string, e: unknown) => (e instanceof WeldError || !(e as NodeJS.ErrnoException)?.code ? e : ioError(`Cannot write ${file}`, e));
