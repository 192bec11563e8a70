import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Action, ContentSink, Limits, PackageMeta } from '../model.js';
import { DEFAULT_LIMITS } from '../model.js';
import { WeldError, formatError, isWeldError } from '../errors.js';
import type { Store } from '../store/store.js';
import { nevra } from '../store/store.js';
import type { WriteStats } from '../store/objects.js';
import { ioError } from '../util/io.js';

export type PackageKind = 'rpm' | 'srpm' | 'deb';

/** Sniffs a package file's kind from its first bytes. */
function sniffPackage(head: Uint8Array, where: string): PackageKind {
  if (head.length >= 8 && head[0] === 0xed && head[1] === 0xab && head[2] === 0xee && head[3] === 0xdb) {
    // lead: type (big-endian u16 at offset 6) 1 = source
    return head[6] === 0 && head[7] === 1 ? 'srpm' : 'rpm';
  }
  if (head.length >= 8 && Buffer.from(head.subarray(0, 8)).toString('latin1') === '!<arch>\n') return 'deb';
  throw formatError('package', `Cannot read ${where}: not an RPM or .deb package (bad magic)`, { where });
}

async function* readChunks(file: string): AsyncGenerator<Uint8Array> {
  const s = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const c of s) yield c as Buffer;
}

function head(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = fs.readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

async function sha256File(file: string): Promise<string> {
  const h = crypto.createHash('sha256');
  for await (const c of readChunks(file)) h.update(c);
  return h.digest('hex');
}

/** Parses a package without storing it (inspect); the sink only names content. */
export async function readPackage(file: string, sink: ContentSink, limits: Limits = DEFAULT_LIMITS): Promise<PackageMeta> {
  const where = path.basename(file);
  let kind: PackageKind;
  try {
    kind = sniffPackage(head(file, 96), where);
  } catch (e) {
    if (isWeldError(e)) throw e;
    throw ioError(`Cannot read ${file}`, e);
  }
  const { classifyScriptlet, CLASSIFIER_VERSION } = await import('./scriptlets/index.js');
  if (kind === 'deb') {
    const { readDeb } = await import('./deb.js');
    return normalise(await readDeb(readChunks(file), { sink, where, limits, classify: (s) => classifyScriptlet(s) }), CLASSIFIER_VERSION);
  }
  const { readRpm } = await import('./rpm.js');
  return normalise(await readRpm(readChunks(file), { sink, where, limits, classify: (s) => classifyScriptlet(s) }), CLASSIFIER_VERSION);
}

/** One rule for both formats: `object` names content, so an empty file has none. */
function normalise(meta: PackageMeta, classifier: number): PackageMeta {
  for (const f of meta.files) if (f.type === 'file' && f.size === 0) f.object = '';
  meta.classifier = classifier;
  return meta;
}

export interface ImportOutcome {
  file: string;
  status: 'added' | 'skipped' | 'failed';
  package?: string;
  format?: string;
  reason?: string;
  code?: string;
  bytesRead: number;
  payloadBytes: number;
  stats: WriteStats;
}

const SYSUSERS = /^\/(usr\/)?lib\/sysusers\.d\/[^/]+\.conf$/;
const TMPFILES = /^\/(usr\/)?lib\/tmpfiles\.d\/[^/]+\.conf$/;

/** Actions declared by files the package ships (sysusers.d, tmpfiles.d), not by scriptlets. */
async function fileActions(meta: PackageMeta, read: (id: string) => Buffer): Promise<{ source: string; actions: Action[] }[]> {
  const out: { source: string; actions: Action[] }[] = [];
  const wanted = meta.files.filter((f) => f.type === 'file' && f.object && (SYSUSERS.test(f.path) || TMPFILES.test(f.path)));
  if (!wanted.length) return out;
  const { parseSysusers, parseTmpfiles } = await import('./scriptlets/index.js');
  for (const f of wanted) {
    const text = read(f.object).toString('utf8');
    out.push({ source: f.path, actions: SYSUSERS.test(f.path) ? parseSysusers(text, f.path) : parseTmpfiles(text) });
  }
  return out;
}

interface Pending {
  meta: PackageMeta;
  source: { digest: string; name: string; size: number };
  fileActions: { source: string; actions: Action[] }[];
  wrote: boolean;
}

export interface Prepared {
  outcome: ImportOutcome;
  pending?: Pending;
}

function fail(out: ImportOutcome, where: string, e: unknown): ImportOutcome {
  out.status = 'failed';
  if (isWeldError(e)) {
    out.reason = e.message.includes(where) ? e.message : `${where}: ${e.message}`;
    out.code = e.code;
  } else if ((e as NodeJS.ErrnoException).code === 'ENOSPC') {
    out.reason = `${where}: no space left on device`;
    out.code = 'E_IO_ENOSPC';
  } else {
    out.reason = `${where}: internal error: ${(e as Error).stack ?? e}`;
    out.code = 'E_BUG';
  }
  return out;
}

/**
 * Reads a package and writes its objects, but does not make it visible yet:
 * `commitBatch` does, after one sync for the whole batch. Never throws for a
 * bad package: the outcome says what was wrong.
 */
export async function prepareFile(store: Store, file: string, limits: Limits = DEFAULT_LIMITS): Promise<Prepared> {
  const stats = store.newStats();
  const where = path.basename(file);
  const out: ImportOutcome = { file, status: 'failed', bytesRead: 0, payloadBytes: 0, stats };
  try {
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch (e) {
      throw ioError(`Cannot read ${file}`, e);
    }
    out.bytesRead = size;
    const kind = sniffPackage(head(file, 96), where);
    if (kind === 'srpm') {
      out.status = 'skipped';
      out.reason = `${where}: source RPM, not imported (use weld inspect to read it)`;
      return { outcome: out };
    }
    const digest = await sha256File(file);
    const existing = store.catalog.findBySourceDigest(digest);
    if (existing) {
      out.status = 'skipped';
      out.package = nevra(existing);
      out.format = existing.format;
      out.reason = `${where}: already imported as ${nevra(existing)}`;
      // the scriptlet bodies are in the catalog: a newer classifier reads them again, no payload needed
      const { classifyScriptlet, CLASSIFIER_VERSION } = await import('./scriptlets/index.js');
      if (store.reclassify(existing.id, CLASSIFIER_VERSION, (s) => classifyScriptlet({ format: existing.format, ...s }))) out.reason += '; its scriptlets were classified again (this weld knows more commands)';
      return { outcome: out };
    }
    const sink = store.objects.sink(stats);
    const meta = await readPackage(file, sink, limits);
    out.package = nevra(meta);
    out.format = meta.format;
    if (meta.isSource) {
      out.status = 'skipped';
      out.reason = `${where}: source package, not imported`;
      return { outcome: out };
    }
    out.payloadBytes = meta.files.reduce((n, f) => n + (f.type === 'file' ? f.size : 0), 0);
    const fa = await fileActions(meta, (id) => store.readObject(id));
    return { outcome: out, pending: { meta, source: { digest, name: where, size }, fileActions: fa, wrote: sink.written.length > 0 } };
  } catch (e) {
    return { outcome: fail(out, where, e) };
  }
}

/** One sync for the batch's objects, then one catalog transaction per package. */
export function commitBatch(store: Store, batch: Prepared[]): ImportOutcome[] {
  if (batch.some((p) => p.pending?.wrote)) {
    try {
      store.objects.syncAll();
    } catch (e) {
      for (const p of batch) if (p.pending) fail(p.outcome, p.pending.source.name, e), delete p.pending;
    }
  }
  for (const p of batch) {
    if (!p.pending) continue;
    const { meta, source, fileActions } = p.pending;
    try {
      const r = store.commit(meta, source, fileActions, false);
      p.outcome.status = r.added ? 'added' : 'skipped';
      if (!r.added) p.outcome.reason = `${source.name}: already imported`;
    } catch (e) {
      fail(p.outcome, source.name, e);
    }
  }
  return batch.map((p) => p.outcome);
}

export function expandInputs(inputs: string[]): string[] {
  const files: string[] = [];
  for (const inp of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(inp);
    } catch {
      throw new WeldError('usage', 'E_NO_INPUT', `No such file or directory: ${inp}`, { path: inp }, 2);
    }
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(inp).sort()) if (/\.(rpm|deb)$/.test(n)) files.push(path.join(inp, n));
    } else files.push(inp);
  }
  return files;
}
