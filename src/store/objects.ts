import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import type { ContentSink, ObjectWriter } from '../model.js';
import { WeldError, bug } from '../errors.js';
import { ioError, processAlive } from '../util/io.js';
import { runTool } from '../util/exec.js';
import { blake3 } from './hash.js';
import { objectPath, objectRelPath, storePaths } from './location.js';

/** Content below this size is buffered and written in one go. */
const SMALL = 256 * 1024;
const ID_RE = /^[0-9a-f]{64}$/;

export interface WriteStats {
  objectsNew: number;
  objectsReused: number;
  bytesNew: number;
  bytesReused: number;
}

/**
 * BLAKE3-named, immutable, uncompressed objects in fan-out directories
 * (objects/ab/cdef…). Writes go to tmp/ and are renamed into place, so a
 * partial object is never visible. Durability comes from one syncfs per batch.
 */
export class ObjectStore {
  readonly root: string;
  readonly objectsDir: string;
  readonly tmpDir: string;
  private tmpSeq = 0;
  private fans = new Set<string>();

  constructor(root: string) {
    this.root = root;
    const p = storePaths(root);
    this.objectsDir = p.objects;
    this.tmpDir = p.tmp;
  }

  init(): void {
    fs.mkdirSync(this.objectsDir, { recursive: true });
    fs.mkdirSync(this.tmpDir, { recursive: true });
  }

  pathOf(id: string): string {
    if (!ID_RE.test(id)) throw bug(`bad object id ${JSON.stringify(id)}`);
    return objectPath(this.objectsDir, id);
  }

  /** path relative to the objects dir, as overlay redirects name it */
  relPath(id: string): string {
    return objectRelPath(id);
  }

  has(id: string): boolean {
    return fs.existsSync(this.pathOf(id));
  }

  /**
   * Each writer gets its own temp directory, named pid first (cleanTmp reads
   * it) plus a nonce that keeps worker threads of one process apart. A shared
   * one made two import workers queue on its lock: measured here, open(2)
   * went from ~34 µs to ~660 µs per object with two workers in one directory.
   */
  private ownTmp: string | null = null;
  private tmpName(): string {
    if (!this.ownTmp) {
      this.ownTmp = path.join(this.tmpDir, `${process.pid}.${threadId}.${randomBytes(4).toString('hex')}`);
      fs.mkdirSync(this.ownTmp, { recursive: true });
    }
    return path.join(this.ownTmp, (this.tmpSeq++).toString(36));
  }

  /** Removes this writer's (empty) temp directory. */
  close(): void {
    if (!this.ownTmp) return;
    try {
      fs.rmdirSync(this.ownTmp);
    } catch {
      // not empty (an aborted write) or gone: cleanTmp handles it once this process exits
    }
    this.ownTmp = null;
  }

  /**
   * Moves a finished temp file into place; returns false when the object
   * existed. `checked` says the caller just looked, so the lookup is not repeated
   * (a concurrent writer of the same id renames identical bytes: harmless).
   */
  private publish(tmp: string, id: string, checked = false): boolean {
    const dest = this.pathOf(id);
    if (!checked && fs.existsSync(dest)) {
      fs.rmSync(tmp, { force: true });
      return false;
    }
    const fan = id.slice(0, 2);
    if (!this.fans.has(fan)) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      this.fans.add(fan);
    }
    fs.renameSync(tmp, dest);
    return true;
  }

  /** Stores a small buffer in one go; returns its id. */
  putSync(data: Uint8Array): string {
    const h = blake3();
    h.update(data);
    const id = h.hex();
    if (this.has(id)) return id;
    const tmp = this.tmpName();
    fs.writeFileSync(tmp, data, { mode: 0o444, flag: 'wx' });
    this.publish(tmp, id, true);
    return id;
  }

  /** A content sink that records what this batch wrote, for stats and sync. */
  sink(stats: WriteStats): ContentSink & { written: string[] } {
    const written: string[] = [];
    const self = this;
    return {
      written,
      open(): ObjectWriter {
        const h = blake3();
        let parts: Uint8Array[] | null = [];
        let buffered = 0;
        let fd: number | null = null;
        let tmp: string | null = null;
        let size = 0;
        const spill = () => {
          tmp = self.tmpName();
          fd = fs.openSync(tmp, 'wx', 0o444);
          for (const p of parts!) fs.writeSync(fd, p);
          parts = null;
        };
        return {
          write(chunk: Uint8Array) {
            h.update(chunk);
            size += chunk.length;
            if (parts) {
              // producers hand out fresh chunks (or views of them): keep, don't copy
              parts.push(chunk);
              buffered += chunk.length;
              if (buffered > SMALL) spill();
            } else {
              let off = 0;
              while (off < chunk.length) off += fs.writeSync(fd!, chunk, off);
            }
          },
          async close() {
            const id = h.hex();
            const buffered = parts !== null;
            if (parts) {
              if (self.has(id)) {
                stats.objectsReused++;
                stats.bytesReused += size;
                return id;
              }
              tmp = self.tmpName();
              fs.writeFileSync(tmp, parts.length === 1 ? parts[0]! : Buffer.concat(parts), { mode: 0o444, flag: 'wx' });
              parts = null;
            } else {
              fs.closeSync(fd!);
              fd = null;
            }
            if (self.publish(tmp!, id, buffered)) {
              stats.objectsNew++;
              stats.bytesNew += size;
              written.push(id);
            } else {
              stats.objectsReused++;
              stats.bytesReused += size;
            }
            return id;
          },
          async abort() {
            if (fd !== null) fs.closeSync(fd);
            if (tmp) fs.rmSync(tmp, { force: true });
            parts = null;
          },
        };
      },
    };
  }

  /** One syncfs for the whole store filesystem: objects are durable before the catalog names them. */
  syncAll(): void {
    if (runTool(['sync', '-f', this.objectsDir], { stdout: 'ignore', stderr: 'ignore', check: false }).status !== 0) {
      // no sync(1) -f: fsync the objects dir alone. That is weaker, not slower:
      // it makes neither the objects' data nor their fan-out entries durable,
      // so a crash right after can lose objects the catalog names (fsck finds them)
      const fd = fs.openSync(this.objectsDir, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
  }

  /** Removes temp files whose writer process is gone (killed imports). */
  cleanTmp(): string[] {
    const removed: string[] = [];
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.tmpDir);
    } catch {
      return removed;
    }
    for (const n of names) {
      const pid = Number(n.split('.')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) continue;
      if (pid === process.pid) continue;
      fs.rmSync(path.join(this.tmpDir, n), { force: true, recursive: true });
      removed.push(n);
    }
    return removed;
  }

  *list(): Generator<string> {
    let fans: string[];
    try {
      fans = fs.readdirSync(this.objectsDir).sort();
    } catch {
      return;
    }
    for (const f of fans) {
      if (!/^[0-9a-f]{2}$/.test(f)) continue;
      for (const rest of fs.readdirSync(path.join(this.objectsDir, f)).sort()) yield f + rest;
    }
  }

  /** Re-hashes an object; returns its real id (or null when unreadable). */
  rehash(id: string): { actual: string; size: number } | null {
    let fd: number;
    try {
      fd = fs.openSync(this.pathOf(id), 'r');
    } catch {
      return null;
    }
    const h = blake3();
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        size += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return { actual: h.hex(), size };
  }
}
