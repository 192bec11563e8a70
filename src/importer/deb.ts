import { createHash } from 'node:crypto';
import { formatError } from '../errors.js';
import { DEFAULT_LIMITS, type Action, type ContentSink, type FileEntry, type FileType, type Limits, type PackageMeta, type Scriptlet } from '../model.js';
import { readAr } from '../formats/ar/read.js';
import { decodeCaps } from '../formats/caps/caps.js';
import { parseConffiles, parseControl, parseMd5sums } from '../formats/deb/control.js';
import { parseDepends } from '../formats/deb/depends.js';
import { parseControlVersion } from '../formats/deb/version.js';
import { readTar, type TarEntry } from '../formats/tar/read.js';
import { safePath } from '../util/safepath.js';
import { displayText, isUtf8 } from '../util/text.js';
import { debconfDefaults } from './scriptlets/debconf.js';
import { debconfSetsOf } from './scriptlets/index.js';
import { decompress, type Compressor } from './decompress.js';

export interface DebOptions {
  sink: ContentSink;
  /** names the package in every error, e.g. "coreutils_9.1-1_amd64.deb" */
  where: string;
  limits?: Partial<Limits>;
  classify?: (s: { format: 'deb'; phase: string; interpreter: string; body: string; debconf?: Record<string, string> }) => Action[];
}

const EXT: Record<string, Compressor> = { '': 'none', '.gz': 'gzip', '.xz': 'xz', '.zst': 'zstd', '.bz2': 'bzip2', '.lzma': 'lzma' };
/** deb(5): control.tar takes gz/xz/zst (or none); data.tar also bz2 and lzma */
const CONTROL_MEMBER = /^control\.tar(|\.gz|\.xz|\.zst)$/;
const DATA_MEMBER = /^data\.tar(|\.gz|\.xz|\.zst|\.bz2|\.lzma)$/;
const SCRIPT_PHASES = ['preinst', 'postinst', 'prerm', 'postrm', 'triggers'] as const;
// templates and config: the debconf answers a fresh install gets (scriptlets/debconf.ts)
const CONTROL_FILES = new Set<string>(['control', 'md5sums', 'conffiles', 'templates', 'config', ...SCRIPT_PHASES]);
const MAX_META_RECORD = 1024 * 1024;

const S_IF: Record<FileType, number> = { file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000, socket: 0o140000 };

/**
 * Reads a .deb (ar of debian-binary, control.tar.*, data.tar.*): control
 * metadata, maintainer scripts, and every file of data.tar streamed into
 * `opts.sink`, md5-checked against the package's md5sums as it goes.
 */
export async function readDeb(input: AsyncIterable<Uint8Array>, opts: DebOptions): Promise<PackageMeta> {
  const { where } = opts;
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const fail = (msg: string, data: Record<string, unknown> = {}) => formatError('deb', `Cannot read ${where}: ${msg}`, { where, ...data });
  let formatVersion: string | null = null;
  let control: Map<string, Uint8Array> | null = null;
  let meta: PackageMeta | null = null;
  let haveData = false;
  for await (const m of readAr(input, { where, maxNameBytes: 4096 })) {
    if (formatVersion === null) {
      if (m.name !== 'debian-binary') throw fail(`first member is ${JSON.stringify(m.name)}, not debian-binary`, { offset: m.offset });
      const text = new TextDecoder().decode(await collect(m.body, 64, () => fail('debian-binary is larger than 64 bytes', { offset: m.offset })));
      if (!/^2\.[0-9]+\n/.test(text)) throw fail(`unsupported deb format version ${JSON.stringify(text.trim())}`, { offset: m.offset });
      formatVersion = text.trim();
    } else if (m.name.startsWith('_')) {
      continue; // deb(5): members starting with '_' are reserved and skipped
    } else if (control === null) {
      const cm = CONTROL_MEMBER.exec(m.name);
      if (!cm) throw fail(`expected control.tar, found member ${JSON.stringify(m.name)}`, { offset: m.offset });
      control = await readControlTar(m.body, EXT[cm[1]!]!, `${where} ${m.name}`, limits);
      meta = buildMeta(control, formatVersion, where, opts, fail);
    } else if (!haveData) {
      const dm = DATA_MEMBER.exec(m.name);
      if (!dm) throw fail(`expected data.tar, found member ${JSON.stringify(m.name)}`, { offset: m.offset });
      const compressor = EXT[dm[1]!]!;
      const cap = Math.min(limits.maxPayloadBytes, Math.max(m.size * limits.maxRatio, 1024 * 1024));
      const { files, size } = await readDataTar(m.body, compressor, cap, `${where} ${m.name}`, control, opts.sink, limits);
      meta!.files = files;
      meta!.payload = { format: 'tar', compressor, digest: '', digestAlgo: '', size };
      haveData = true;
    }
    // later members are ignored, as dpkg does
  }
  if (formatVersion === null) throw fail('empty archive');
  if (!meta) throw fail('no control.tar member');
  if (!haveData) throw fail('no data.tar member');
  return meta;
}

async function collect(body: AsyncIterable<Uint8Array>, max: number, tooBig: () => Error): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw tooBig();
    parts.push(c.slice());
  }
  return Buffer.concat(parts);
}

/**
 * Decompresses a member and hands the result to a tar reader; the reader
 * stops at the end-of-archive blocks, so the rest (padding) is drained here
 * to leave the ar stream at the member's end before the next member is read.
 */
async function withTar<T>(body: AsyncIterable<Uint8Array>, compressor: Compressor, maxBytes: number, where: string, use: (tar: AsyncIterable<TarEntry>) => Promise<T>): Promise<{ result: T; size: number }> {
  const dec = decompress(body, { compressor, maxBytes, where })[Symbol.asyncIterator]();
  let total = 0;
  const view: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await dec.next();
        if (!r.done) total += r.value.length;
        return r;
      },
      // the tar reader's return() must not close the decompressor: it is drained below
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  try {
    const result = await use(readTar(view, { where, maxMetaBytes: MAX_META_RECORD }));
    for (let r = await dec.next(); !r.done; r = await dec.next()) total += r.value.length;
    return { result, size: total };
  } catch (e) {
    await dec.return?.(undefined).catch(() => {}); // stop the decompressor; the first error is the one to report
    throw e;
  }
}

async function readControlTar(body: AsyncIterable<Uint8Array>, compressor: Compressor, where: string, limits: Limits): Promise<Map<string, Uint8Array>> {
  const { result } = await withTar(body, compressor, limits.maxHeaderBytes, where, async (tar) => {
    const files = new Map<string, Uint8Array>();
    for await (const e of tar) {
      const name = new TextDecoder().decode(e.path).replace(/^\.?\//, '');
      if (e.type !== 'file' || !CONTROL_FILES.has(name)) continue;
      files.set(name, await collect(e.body, limits.maxHeaderBytes, () => formatError('deb', `Cannot read ${where}: ${name} exceeds ${limits.maxHeaderBytes} bytes`, { where })));
    }
    if (!files.has('control')) throw formatError('deb', `Cannot read ${where}: no control file`, { where });
    return files;
  });
  return result;
}

async function readDataTar(
  body: AsyncIterable<Uint8Array>,
  compressor: Compressor,
  maxBytes: number,
  where: string,
  control: Map<string, Uint8Array>,
  sink: ContentSink,
  limits: Limits,
): Promise<{ files: FileEntry[]; size: number }> {
  const fail = (msg: string, data: Record<string, unknown> = {}) => formatError('deb', `Cannot read ${where}: ${msg}`, { where, ...data });
  const md5sums = parseMd5sums(control.get('md5sums'));
  const conffiles = parseConffiles(control.get('conffiles'));
  const { result, size } = await withTar(body, compressor, maxBytes, where, async (tar) => {
    const files: FileEntry[] = [];
    const byPath = new Map<string, { entry: FileEntry; md5: string }>();
    let groups = 0;
    for await (const e of tar) {
      const raw = displayText(e.path);
      const path = safePath(raw, { format: 'deb', where, maxLength: limits.maxPathLength, maxDepth: limits.maxPathDepth });
      if (path === '/') continue; // the root directory belongs to nobody
      const type: FileType = e.type === 'hardlink' ? 'file' : e.type;
      const f: FileEntry = {
        path,
        type,
        mode: S_IF[type] | e.mode,
        user: e.uname || (e.uid === 0 ? 'root' : String(e.uid)),
        group: e.gname || (e.gid === 0 ? 'root' : String(e.gid)),
        uid: e.uid,
        gid: e.gid,
        size: 0,
        mtime: e.mtime,
        digest: '',
        digestAlgo: 'md5',
        target: '',
        flags: conffiles.has(path) ? ['config'] : [],
        caps: '',
        object: '',
      };
      if (!isUtf8(e.path)) f.pathBytes = absoluteBytes(e.path);
      for (const [name, value] of Object.entries(e.xattrs)) {
        const caps = name === 'security.capability' ? decodeCaps(value) : null;
        if (caps !== null) f.caps = caps;
        else (f.xattrs ??= {})[name] = value;
      }
      let md5 = '';
      if (e.type === 'file') {
        const w = sink.open();
        const h = createHash('md5');
        try {
          for await (const c of e.body) {
            h.update(c);
            await w.write(c);
          }
        } catch (err) {
          await w.abort();
          throw err;
        }
        md5 = h.digest('hex');
        const want = md5sums.get(path);
        if (want !== undefined && want !== md5) {
          await w.abort();
          throw fail(`md5 mismatch for ${JSON.stringify(path)}: md5sums says ${want}, content has ${md5}`, { path });
        }
        f.object = await w.close();
        f.size = e.size;
      } else if (e.type === 'hardlink') {
        const to = safePath(displayText(e.linkpath), { format: 'deb', where, maxLength: limits.maxPathLength, maxDepth: limits.maxPathDepth });
        const t = byPath.get(to);
        if (!t || t.entry.type !== 'file') throw fail(`hardlink ${JSON.stringify(path)} points to ${JSON.stringify(to)}, which is not an earlier regular file`, { path });
        t.entry.hardlink ??= ++groups;
        f.hardlink = t.entry.hardlink;
        f.object = t.entry.object;
        f.size = t.entry.size;
        md5 = t.md5;
        const want = md5sums.get(path);
        if (want !== undefined && want !== md5) throw fail(`md5 mismatch for hardlink ${JSON.stringify(path)}: md5sums says ${want}, content has ${md5}`, { path });
      } else if (e.type === 'symlink') {
        f.target = displayText(e.linkpath);
        f.size = e.linkpath.length;
      } else if (e.type === 'char' || e.type === 'block') {
        f.rdevMajor = e.devmajor;
        f.rdevMinor = e.devminor;
      }
      if (type === 'file') f.digest = md5sums.get(path) ?? '';
      else f.digestAlgo = '';
      const dup = byPath.get(path);
      if (dup) {
        if (dup.entry.type !== 'dir' || f.type !== 'dir') throw fail(`member ${JSON.stringify(path)} appears twice`, { path });
        Object.assign(dup.entry, f); // a repeated directory only restates metadata
        continue;
      }
      byPath.set(path, { entry: f, md5 });
      files.push(f);
    }
    return files;
  });
  return { files: result, size };
}

/** "/" + the member name's components, as bytes (for non-UTF-8 names) */
function absoluteBytes(name: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i === name.length || name[i] === 0x2f) {
      const p = name.subarray(start, i);
      if (p.length && !(p.length === 1 && p[0] === 0x2e)) parts.push(p);
      start = i + 1;
    }
  }
  const out: number[] = [];
  for (const p of parts) out.push(0x2f, ...p);
  return new Uint8Array(out);
}

function buildMeta(control: Map<string, Uint8Array>, formatVersion: string, where: string, opts: DebOptions, fail: (m: string, d?: Record<string, unknown>) => Error): PackageMeta {
  const fields = parseControl(displayText(control.get('control')!), fail);
  const one = (k: string) => (fields.get(k) ?? '').replace(/\s*\n\s*/g, ' ').trim();
  const name = one('package');
  const fullVersion = one('version');
  if (!name) throw fail('control has no Package field');
  if (!fullVersion) throw fail('control has no Version field');
  const { epoch, version, release } = parseControlVersion(fullVersion, fail);
  const [summary, ...rest] = (fields.get('description') ?? '').split('\n');
  const installed = one('installed-size');
  if (installed && !/^[0-9]+$/.test(installed)) throw fail(`Installed-Size ${JSON.stringify(installed)} is not a number`);
  const deps = (k: string) => parseDepends(one(k), k, fail);
  const scriptlets: Scriptlet[] = [];
  const text = (k: string) => (control.has(k) ? displayText(control.get(k)!) : undefined);
  const shipped = new Set([...parseMd5sums(control.get('md5sums')).keys(), ...parseConffiles(control.get('conffiles'))]);
  const config = text('config');
  const debconf = debconfDefaults(text('templates'), config === undefined ? [] : debconfSetsOf(config), (p) => shipped.has(p));
  for (const phase of SCRIPT_PHASES) {
    const b = control.get(phase);
    if (!b) continue;
    const body = displayText(b);
    const interpreter = phase === 'triggers' ? '' : body.startsWith('#!') ? (body.slice(2).split('\n')[0]!.trim().split(/\s+/)[0] ?? '') : '';
    scriptlets.push({ phase, interpreter, body, actions: opts.classify?.({ format: 'deb', phase, interpreter, body, ...(debconf ? { debconf } : {}) }) ?? [] });
  }
  return {
    ...(debconf ? { debconf } : {}),
    format: 'deb',
    name,
    epoch,
    version,
    release,
    arch: one('architecture'),
    isSource: false,
    summary: summary!.trim(),
    // policy 5.6.13: continuation lines start with one space; " ." is an empty line
    description: rest.map((l) => (/^[ \t]\.[ \t]*$/.test(l) ? '' : l.replace(/^[ \t]/, ''))).join('\n'),
    license: '',
    url: one('homepage'),
    vendor: '',
    packager: one('maintainer'),
    group: one('section'),
    buildTime: null,
    buildHost: '',
    sourceRpm: one('source'),
    installedSize: installed ? Number(installed) * 1024 : 0,
    requires: deps('depends'),
    provides: deps('provides'),
    conflicts: deps('conflicts'),
    obsoletes: [],
    recommends: deps('recommends'),
    suggests: deps('suggests'),
    supplements: [],
    enhances: deps('enhances'),
    preDepends: deps('pre-depends'),
    breaks: deps('breaks'),
    replaces: deps('replaces'),
    scriptlets,
    files: [],
    signatures: [],
    payload: { format: 'tar', compressor: '', digest: '', digestAlgo: '', size: null },
    formatVersion,
  };
}

