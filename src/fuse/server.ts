/**
 * The I/O shell around ViewFs: reads requests from an open /dev/fuse fd on
 * libuv's thread pool and answers them on the main thread. Object files stay
 * open (the tree is immutable), so a read is one pread on the object.
 */
import fs from 'node:fs';
import type { TreeNode } from '../model.js';
import { objectPath } from '../store/location.js';
import { isWeldError } from '../errors.js';
import { parseRequest } from './protocol.js';
import { ViewFs } from './viewfs.js';

/** room for the largest request: header + write_in + max_write (4 KiB), and LOOKUP names */
const REQUEST_BUFFER = 128 * 1024;
const READERS = 2;

export interface FuseServer {
  fs: ViewFs;
  /** requests answered, by opcode (for diagnosing round trips) */
  counts: Map<number, number>;
  /** resolves when the kernel answers INIT */
  ready: Promise<void>;
  /** resolves when the connection ends (unmounted, or the daemon was asked to stop) */
  done: Promise<void>;
  close(): void;
}

export function objectReader(objectsDir: string) {
  const fds = new Map<string, number>();
  return {
    read(object: string, buf: Uint8Array, at: number, length: number, position: number): number {
      let fd = fds.get(object);
      if (fd === undefined) {
        fd = fs.openSync(objectPath(objectsDir, object), 'r');
        fds.set(object, fd);
      }
      let n = 0;
      while (n < length) {
        const got = fs.readSync(fd, buf, at + n, length - n, position + n);
        if (got === 0) break;
        n += got;
      }
      return n;
    },
    close() {
      for (const fd of fds.values()) fs.closeSync(fd);
      fds.clear();
    },
  };
}

/** Parses and answers one request; errors become an errno reply, never an exception. */
function answer(view: ViewFs, buf: Buffer, n: number, counts: Map<number, number>, log: (s: string) => void): { out: Buffer | null; opcode: number } | null {
  let req;
  try {
    req = parseRequest(buf.subarray(0, n));
  } catch (e) {
    log(`weld: bad FUSE request: ${(e as Error).message}\n`);
    return null;
  }
  counts.set(req.opcode, (counts.get(req.opcode) ?? 0) + 1);
  try {
    return { out: view.handle(req), opcode: req.opcode };
  } catch (e) {
    if (!isWeldError(e)) log(`weld: FUSE ${req.opcode}: ${(e as Error).message}\n`);
    const out = Buffer.alloc(16);
    out.writeUInt32LE(16, 0);
    out.writeInt32LE(-(isWeldError(e) ? 22 : 5), 4);
    out.writeBigUInt64LE(req.unique, 8);
    return { out, opcode: req.opcode };
  }
}

function sendReply(fd: number, b: Buffer, log: (s: string) => void): void {
  try {
    fs.writeSync(fd, b);
  } catch (e) {
    // ENOENT: the request was interrupted and is gone; nothing to answer
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`weld: FUSE reply failed: ${(e as Error).message}\n`);
  }
}

/** read() errors that mean "try again"; ENODEV means unmounted */
const RETRY = new Set(['EINTR', 'EAGAIN', 'ENOENT']);

export function serveFuse(fd: number, nodes: readonly TreeNode[], objectsDir: string, log: (s: string) => void = () => {}): FuseServer {
  const reader = objectReader(objectsDir);
  const view = new ViewFs(nodes, {
    read: (o, b, at, len, pos) => reader.read(o, b, at, len, pos),
  });
  let closed = false;
  const counts = new Map<number, number>();
  let live = READERS;
  let onReady!: () => void;
  let onDone!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<void>((r) => (onDone = r));
  const end = () => {
    if (--live > 0) return;
    closed = true;
    reader.close();
    onReady();
    onDone();
  };
  const loop = (buf: Buffer) => {
    if (closed) return end();
    fs.read(fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        if (RETRY.has(err.code ?? '')) return loop(buf);
        if (err.code !== 'ENODEV' && !closed) log(`weld: FUSE read failed: ${err.message}\n`);
        return end();
      }
      if (n === 0) return end(); // not /dev/fuse: end of file
      const r = answer(view, buf, n, counts, log);
      if (r?.out) sendReply(fd, r.out, log);
      if (r?.opcode === 26) onReady();
      loop(buf);
    });
  };
  for (let i = 0; i < READERS; i++) loop(Buffer.alloc(REQUEST_BUFFER));
  return {
    fs: view,
    counts,
    ready,
    done,
    close() {
      closed = true;
    },
  };
}

/**
 * The same server as one blocking read-answer loop, for a process that does
 * nothing else (the server `weld run --fuse` starts): no thread-pool hand-off
 * per request. Returns when the connection ends.
 */
export function serveFuseBlocking(fd: number, nodes: readonly TreeNode[], objectsDir: string, log: (s: string) => void = () => {}): Map<number, number> {
  const reader = objectReader(objectsDir);
  const view = new ViewFs(nodes, { read: (o, b, at, len, pos) => reader.read(o, b, at, len, pos) });
  const counts = new Map<number, number>();
  const buf = Buffer.alloc(REQUEST_BUFFER);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (RETRY.has(code)) continue;
      if (code !== 'ENODEV') log(`weld: FUSE read failed: ${(e as Error).message}\n`);
      break;
    }
    if (n === 0) break; // not /dev/fuse: end of file
    const r = answer(view, buf, n, counts, log);
    if (r?.out) sendReply(fd, r.out, log);
  }
  reader.close();
  return counts;
}
