import { createHash, getHashes, type Hash } from 'node:crypto';
import { formatError, isWeldError, WeldError } from '../errors.js';
import type { Action, ContentSink, Dep, DepEntry, FileEntry, FileType, Limits, ObjectWriter, PackageMeta, Scriptlet, Signature } from '../model.js';
import { DEFAULT_LIMITS } from '../model.js';
import { readCpio } from '../formats/cpio/read.js';
import {
  HEADER_PREAMBLE_SIZE,
  LEAD_SIZE,
  parseHeader,
  parseHeaderPreamble,
  parseLead,
  RpmHeader,
  signaturePadding,
} from '../formats/rpm/header.js';
import { decodeOpenPgpText, parseSignaturePacket } from '../formats/rpm/openpgp.js';
import { fileFlagNames, HASH_ALGO_NAMES, RPMFILE_GHOST, SENSE, senseOp, SIGTAG, TAG } from '../formats/rpm/tags.js';
import { ByteStream } from '../util/bytestream.js';
import { safePath } from '../util/safepath.js';
import { displayText, isUtf8 } from '../util/text.js';
import { decompress, sniffCompressor, type Compressor } from './decompress.js';

export { parseRichDep } from '../formats/rpm/richdep.js';

export interface ReadRpmOptions {
  sink: ContentSink;
  /** file name for error messages */
  where: string;
  limits?: Limits;
  classify?: (s: { format: 'rpm'; phase: string; interpreter: string; body: string }) => Action[];
}

/**
 * Reads an rpm package from a byte stream: lead, signature header, main
 * header (held in memory), then streams the payload through decompression
 * and cpio into `sink`, checking each file's header digest and the payload
 * digest. Only the headers are buffered.
 */
export async function readRpm(input: AsyncIterable<Uint8Array>, opts: ReadRpmOptions): Promise<PackageMeta> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const reader = new PackageReader(input, opts.where);
  try {
    return await readPackage(reader, opts, limits);
  } catch (e) {
    throw withWhere(e, opts.where);
  } finally {
    await reader.close();
  }
}

/** every error names the package file */
function withWhere(e: unknown, where: string): unknown {
  if (!isWeldError(e) || e.message.includes(where)) return e;
  const err = new WeldError(e.kind, e.code, `${e.message} (in ${where})`, { ...e.data, where }, e.exitCode);
  err.stack = e.stack;
  return err;
}

async function readPackage(reader: PackageReader, opts: ReadRpmOptions, limits: Limits): Promise<PackageMeta> {
  const { where } = opts;
  const lead = parseLead(await reader.exact(LEAD_SIZE, 'lead'));
  const sig = await readHeader(reader, limits, 'signature header');
  // signature header is padded to 8 bytes
  await reader.exact(signaturePadding(sig.size), 'signature header padding');
  const h = await readHeader(reader, limits, 'header');

  const str = (tag: number): string => {
    const v = h.stringBytes(tag);
    return v && v.length ? displayText(v[0]!) : '';
  };
  const num = (hdr: RpmHeader, tag: number): number | null => {
    const v = hdr.numbers(tag);
    return v && v.length ? v[0]! : null;
  };

  const name = str(TAG.NAME);
  if (!name) throw formatError('rpm', `Cannot read rpm header of ${where}: no NAME tag`, { field: 'NAME' });
  const rpmFormat = num(h, TAG.RPMFORMAT);
  const files = buildFiles(h, where, limits);
  const payloadFormat = str(TAG.PAYLOADFORMAT) || 'cpio';
  // rpm opens a payload without PAYLOADCOMPRESSOR as "gzip" through zlib, which reads plain data
  // transparently: report what the bytes are
  const compressorDeclared = h.has(TAG.PAYLOADCOMPRESSOR);
  const compressorName = compressorDeclared ? str(TAG.PAYLOADCOMPRESSOR) : sniffCompressor(await reader.peek(8));
  const payloadDigest = h.stringBytes(TAG.PAYLOADDIGEST);
  const payloadDigestAlgo = payloadDigest?.length ? (HASH_ALGO_NAMES[num(h, TAG.PAYLOADDIGESTALGO) ?? 8] ?? '') : '';
  const declared = num(sig, SIGTAG.LONGARCHIVESIZE) ?? num(sig, SIGTAG.PAYLOADSIZE) ?? num(h, TAG.PAYLOADSIZE) ?? num(h, TAG.ARCHIVESIZE);

  const scriptlets = buildScriptlets(h, opts);
  const meta: PackageMeta = {
    format: 'rpm',
    name,
    epoch: num(h, TAG.EPOCH),
    version: str(TAG.VERSION),
    release: str(TAG.RELEASE),
    arch: str(TAG.ARCH),
    isSource: lead.type === 1 || h.has(TAG.SOURCEPACKAGE),
    summary: str(TAG.SUMMARY),
    description: str(TAG.DESCRIPTION),
    license: str(TAG.LICENSE),
    url: str(TAG.URL),
    vendor: str(TAG.VENDOR),
    packager: str(TAG.PACKAGER),
    group: str(TAG.GROUP),
    buildTime: num(h, TAG.BUILDTIME),
    buildHost: str(TAG.BUILDHOST),
    sourceRpm: str(TAG.SOURCERPM),
    installedSize: num(h, TAG.LONGSIZE) ?? num(h, TAG.SIZE) ?? 0,
    requires: deps(h, TAG.REQUIRENAME, TAG.REQUIREVERSION, TAG.REQUIREFLAGS, where),
    provides: deps(h, TAG.PROVIDENAME, TAG.PROVIDEVERSION, TAG.PROVIDEFLAGS, where),
    conflicts: deps(h, TAG.CONFLICTNAME, TAG.CONFLICTVERSION, TAG.CONFLICTFLAGS, where),
    obsoletes: deps(h, TAG.OBSOLETENAME, TAG.OBSOLETEVERSION, TAG.OBSOLETEFLAGS, where),
    recommends: deps(h, TAG.RECOMMENDNAME, TAG.RECOMMENDVERSION, TAG.RECOMMENDFLAGS, where),
    suggests: deps(h, TAG.SUGGESTNAME, TAG.SUGGESTVERSION, TAG.SUGGESTFLAGS, where),
    supplements: deps(h, TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTVERSION, TAG.SUPPLEMENTFLAGS, where),
    enhances: deps(h, TAG.ENHANCENAME, TAG.ENHANCEVERSION, TAG.ENHANCEFLAGS, where),
    preDepends: [],
    breaks: [],
    replaces: [],
    scriptlets,
    files: files.entries,
    signatures: signatures(sig, where),
    payload: {
      format: payloadFormat === 'tar' ? 'tar' : 'cpio',
      compressor: compressorName,
      digest: payloadDigest?.length ? displayText(payloadDigest[0]!) : '',
      digestAlgo: payloadDigestAlgo,
      size: declared,
    },
    formatVersion: rpmFormat !== null && rpmFormat >= 6 ? '6' : '4',
  };
  if (payloadFormat !== 'cpio') throw formatError('rpm', `Cannot read ${where} payload: format ${JSON.stringify(payloadFormat)} is not supported`, { field: 'PAYLOADFORMAT' });

  const payloadHash = meta.payload.digest ? hasher(payloadDigestAlgo, where, 'PAYLOADDIGESTALGO') : null;
  reader.startPayload(payloadHash);
  // declared archive size plus a margin, never past the global cap; the global cap holds even when a (possibly hostile) header declares more
  const maxBytes = Math.min(limits.maxPayloadBytes, declared !== null ? declared + Math.max(1 << 20, Math.ceil(declared / 100)) : Infinity);
  await importPayload(reader, files, compressorDeclared ? compressorFor(compressorName) : 'auto', maxBytes, opts, limits);
  await reader.drain();
  if (payloadHash) {
    const got = payloadHash.digest('hex');
    const want = meta.payload.digest.toLowerCase();
    if (got !== want) {
      throw formatError('rpm', `Cannot read ${where} payload: ${payloadDigestAlgo} digest ${got} does not match PAYLOADDIGEST ${want}`, {
        field: 'PAYLOADDIGEST',
        expected: want,
        actual: got,
      });
    }
  }
  // source packages name their files relative ("foo.spec"); weld's paths are always absolute
  for (const f of meta.files) {
    if (f.path.startsWith('/')) continue;
    f.path = '/' + f.path;
    if (f.pathBytes) f.pathBytes = Buffer.concat([Buffer.from('/'), f.pathBytes]);
  }
  return meta;
}

async function readHeader(reader: PackageReader, limits: Limits, name: string): Promise<RpmHeader> {
  const base = reader.offset;
  const pre = parseHeaderPreamble(await reader.exact(HEADER_PREAMBLE_SIZE, `${name} preamble`), limits, name, base);
  const body = await reader.exact(pre.bodySize, name);
  return parseHeader(pre, body, { name, base });
}

function compressorFor(name: string): Compressor | 'auto' {
  switch (name) {
    case 'gzip':
    case 'bzip2':
    case 'xz':
    case 'lzma':
    case 'zstd':
      return name;
    case 'identity':
    case 'none':
    case '':
      return 'none';
    default:
      return 'auto';
  }
}

const NODE_HASH: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'sha3-256': 'sha3-256', 'sha3-512': 'sha3-512', ripemd160: 'ripemd160' };
let available: Set<string> | null = null;

function hasher(algo: string, where: string, field: string): Hash {
  available ??= new Set(getHashes());
  const n = NODE_HASH[algo];
  if (!n || !available.has(n)) throw formatError('rpm', `Cannot check ${where}: digest algorithm ${JSON.stringify(algo)} (${field}) is not supported`, { field });
  return createHash(n);
}

// ---- dependencies -------------------------------------------------------

function deps(h: RpmHeader, nameTag: number, versionTag: number, flagsTag: number, where: string): DepEntry[] {
  const names = h.stringBytes(nameTag);
  if (!names) return [];
  const versions = h.stringBytes(versionTag) ?? [];
  const flags = h.numbers(flagsTag) ?? [];
  if ((versions.length && versions.length !== names.length) || (flags.length && flags.length !== names.length)) {
    throw formatError('rpm', `Cannot read ${where} dependencies (tag ${nameTag}): ${names.length} names, ${versions.length} versions, ${flags.length} flags`, {
      field: `tag ${nameTag}`,
    });
  }
  return names.map((n, i): Dep => {
    const f = flags[i] ?? 0;
    return { name: displayText(n), op: senseOp(f), evr: versions[i] ? displayText(versions[i]!) : '', sense: f };
  });
}

// ---- scriptlets ---------------------------------------------------------

const SCRIPT_PHASES: [string, number, number][] = [
  ['pretrans', TAG.PRETRANS, TAG.PRETRANSPROG],
  ['pre', TAG.PREIN, TAG.PREINPROG],
  ['post', TAG.POSTIN, TAG.POSTINPROG],
  ['preun', TAG.PREUN, TAG.PREUNPROG],
  ['postun', TAG.POSTUN, TAG.POSTUNPROG],
  ['posttrans', TAG.POSTTRANS, TAG.POSTTRANSPROG],
  ['preuntrans', TAG.PREUNTRANS, TAG.PREUNTRANSPROG],
  ['postuntrans', TAG.POSTUNTRANS, TAG.POSTUNTRANSPROG],
  ['verify', TAG.VERIFYSCRIPT, TAG.VERIFYSCRIPTPROG],
];

/** trigger scripts: [prefix, scripts, progs, names, versions, flags, index] */
const TRIGGER_SETS: [string, number, number, number, number, number, number][] = [
  ['', TAG.TRIGGERSCRIPTS, TAG.TRIGGERSCRIPTPROG, TAG.TRIGGERNAME, TAG.TRIGGERVERSION, TAG.TRIGGERFLAGS, TAG.TRIGGERINDEX],
  ['file', TAG.FILETRIGGERSCRIPTS, TAG.FILETRIGGERSCRIPTPROG, TAG.FILETRIGGERNAME, TAG.FILETRIGGERVERSION, TAG.FILETRIGGERFLAGS, TAG.FILETRIGGERINDEX],
  ['transfile', TAG.TRANSFILETRIGGERSCRIPTS, TAG.TRANSFILETRIGGERSCRIPTPROG, TAG.TRANSFILETRIGGERNAME, TAG.TRANSFILETRIGGERVERSION, TAG.TRANSFILETRIGGERFLAGS, TAG.TRANSFILETRIGGERINDEX],
];

function triggerKind(flags: number): string {
  if (flags & SENSE.TRIGGERPREIN) return 'triggerprein';
  if (flags & SENSE.TRIGGERIN) return 'triggerin';
  if (flags & SENSE.TRIGGERUN) return 'triggerun';
  if (flags & SENSE.TRIGGERPOSTUN) return 'triggerpostun';
  return 'trigger';
}

function buildScriptlets(h: RpmHeader, opts: ReadRpmOptions): Scriptlet[] {
  const out: Scriptlet[] = [];
  const make = (phase: string, interpreter: string, body: string, triggers?: Dep[]): Scriptlet => {
    const s: Scriptlet = { phase, interpreter, body, actions: [] };
    if (triggers) s.triggers = triggers;
    s.actions = opts.classify ? opts.classify({ format: 'rpm', phase, interpreter, body }) : [];
    return s;
  };
  for (const [phase, scriptTag, progTag] of SCRIPT_PHASES) {
    if (!h.has(scriptTag) && !h.has(progTag)) continue;
    const body = h.stringBytes(scriptTag)?.[0];
    const prog = h.stringBytes(progTag) ?? [];
    out.push(make(phase, prog.map(displayText).join(' '), body ? displayText(body) : ''));
  }
  for (const [prefix, scriptsTag, progTag, nameTag, verTag, flagsTag, indexTag] of TRIGGER_SETS) {
    const scripts = h.stringBytes(scriptsTag);
    if (!scripts) continue;
    const progs = h.stringBytes(progTag) ?? [];
    const names = h.stringBytes(nameTag) ?? [];
    const vers = h.stringBytes(verTag) ?? [];
    const flags = h.numbers(flagsTag) ?? [];
    const index = h.numbers(indexTag) ?? [];
    if (index.length !== names.length || (flags.length && flags.length !== names.length) || (vers.length && vers.length !== names.length)) {
      throw formatError('rpm', `Cannot read ${opts.where} ${prefix}triggers: ${names.length} names, ${index.length} indexes, ${flags.length} flags`, { field: `tag ${nameTag}` });
    }
    scripts.forEach((body, si) => {
      const conds: Dep[] = [];
      let kind = '';
      names.forEach((n, k) => {
        if (index[k] !== si) return;
        const f = flags[k] ?? 0;
        kind ||= triggerKind(f);
        conds.push({ name: displayText(n), op: senseOp(f), evr: vers[k] ? displayText(vers[k]!) : '', sense: f });
      });
      const kindName = prefix ? prefix + kind.replace(/^trigger/, 'trigger') : kind;
      out.push(make(kindName || `${prefix}trigger`, progs[si] ? displayText(progs[si]!) : '', displayText(body), conds));
    });
  }
  return out;
}

// ---- signatures ---------------------------------------------------------

const SIGNATURE_TAGS: [number, string][] = [
  [SIGTAG.RSA, 'RSAHEADER'],
  [SIGTAG.DSA, 'DSAHEADER'],
  [SIGTAG.PGP, 'PGP'],
  [SIGTAG.GPG, 'GPG'],
  [SIGTAG.PGP5, 'PGP5'],
];

function signatures(sig: RpmHeader, where: string): Signature[] {
  const out: Signature[] = [];
  const add = (tag: string, bytes: Uint8Array) => {
    try {
      const p = parseSignaturePacket(bytes);
      out.push({ tag, kind: p.kind, hashAlgo: p.hashAlgo, keyId: p.keyId });
    } catch (e) {
      if (!isWeldError(e)) throw e;
      throw formatError('rpm', `Cannot read ${where} ${tag} signature: ${e.message}`, { field: tag });
    }
  };
  for (const [tag, name] of SIGNATURE_TAGS) {
    const b = sig.bin(tag);
    if (b) add(name, b);
  }
  for (const s of sig.stringBytes(SIGTAG.OPENPGP) ?? []) add('OPENPGP', decodeOpenPgpText(displayText(s)));
  return out;
}

// ---- files --------------------------------------------------------------

interface FileTable {
  entries: FileEntry[];
  /** normalised path → index, for matching cpio names */
  byPath: Map<string, number>;
  /** hardlink group → member indexes */
  groups: Map<number, number[]>;
  ghost: boolean[];
}

const S_IFMT = 0o170000;
const FILE_TYPES: Record<number, FileType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o020000: 'char',
  0o060000: 'block',
  0o010000: 'fifo',
  0o140000: 'socket',
};

function buildFiles(h: RpmHeader, where: string, limits: Limits): FileTable {
  let pathBytes: Uint8Array[];
  const basenames = h.stringBytes(TAG.BASENAMES);
  if (basenames) {
    const dirnames = h.stringBytes(TAG.DIRNAMES) ?? [];
    const dirindexes = h.numbers(TAG.DIRINDEXES) ?? [];
    if (dirindexes.length !== basenames.length) throw formatError('rpm', `Cannot read ${where} file list: ${basenames.length} BASENAMES but ${dirindexes.length} DIRINDEXES`, { field: 'DIRINDEXES' });
    pathBytes = basenames.map((b, i) => {
      const d = dirnames[dirindexes[i]!];
      if (!d) throw formatError('rpm', `Cannot read ${where} file ${i}: DIRINDEXES ${dirindexes[i]} is past ${dirnames.length} DIRNAMES`, { field: 'DIRINDEXES' });
      return Buffer.concat([d, b]);
    });
  } else pathBytes = h.stringBytes(TAG.OLDFILENAMES) ?? [];
  const n = pathBytes.length;
  const col = <T>(values: T[] | undefined, tag: string, required: boolean): T[] | undefined => {
    if (!values) {
      if (required && n > 0) throw formatError('rpm', `Cannot read ${where} file list: ${tag} is missing`, { field: tag });
      return undefined;
    }
    if (values.length !== n) throw formatError('rpm', `Cannot read ${where} file list: ${tag} has ${values.length} values for ${n} files`, { field: tag });
    return values;
  };
  const modes = col(h.numbers(TAG.FILEMODES), 'FILEMODES', true)!;
  const sizes = col(h.numbers(TAG.LONGFILESIZES), 'LONGFILESIZES', false) ?? col(h.numbers(TAG.FILESIZES), 'FILESIZES', true)!;
  const users = col(h.stringBytes(TAG.FILEUSERNAME), 'FILEUSERNAME', false);
  const groupsCol = col(h.stringBytes(TAG.FILEGROUPNAME), 'FILEGROUPNAME', false);
  const mtimes = col(h.numbers(TAG.FILEMTIMES), 'FILEMTIMES', false);
  const digests = col(h.stringBytes(TAG.FILEDIGESTS), 'FILEDIGESTS', false);
  const links = col(h.stringBytes(TAG.FILELINKTOS), 'FILELINKTOS', false);
  const flagsCol = col(h.numbers(TAG.FILEFLAGS), 'FILEFLAGS', false);
  const caps = col(h.stringBytes(TAG.FILECAPS), 'FILECAPS', false);
  const inodes = col(h.numbers(TAG.FILEINODES), 'FILEINODES', false);
  const devices = col(h.numbers(TAG.FILEDEVICES), 'FILEDEVICES', false);
  const rdevs = col(h.numbers(TAG.FILERDEVS), 'FILERDEVS', false);
  const algoNum = h.numbers(TAG.FILEDIGESTALGO)?.[0] ?? 1;
  const digestAlgo = HASH_ALGO_NAMES[algoNum] ?? `algo-${algoNum}`;

  const entries: FileEntry[] = [];
  const byPath = new Map<string, number>();
  const ghost: boolean[] = [];
  const inodeKey = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const raw = pathBytes[i]!;
    const path = displayText(raw);
    const mode = modes[i]!;
    const type = FILE_TYPES[mode & S_IFMT];
    if (!type) throw formatError('rpm', `Cannot read ${where} file ${JSON.stringify(path)}: mode ${mode.toString(8)} has no known file type`, { field: 'FILEMODES', path });
    const flags = flagsCol?.[i] ?? 0;
    const e: FileEntry = {
      path,
      type,
      mode,
      user: users ? displayText(users[i]!) : 'root',
      group: groupsCol ? displayText(groupsCol[i]!) : 'root',
      size: sizes[i]!,
      mtime: mtimes?.[i] ?? 0,
      digest: digests ? displayText(digests[i]!).toLowerCase() : '',
      digestAlgo,
      target: links ? displayText(links[i]!) : '',
      flags: fileFlagNames(flags),
      caps: caps ? displayText(caps[i]!) : '',
      object: '',
    };
    if (!isUtf8(raw)) e.pathBytes = new Uint8Array(raw);
    if ((type === 'char' || type === 'block') && rdevs) {
      // FILERDEVS is the 16-bit old_encode_dev form: major << 8 | minor
      e.rdevMajor = (rdevs[i]! >> 8) & 0xff;
      e.rdevMinor = rdevs[i]! & 0xff;
    }
    entries.push(e);
    ghost.push((flags & RPMFILE_GHOST) !== 0);
    const key = safePath(path, { format: 'rpm', where, allowAbsolute: true, maxLength: limits.maxPathLength, maxDepth: limits.maxPathDepth });
    if (!byPath.has(key)) byPath.set(key, i);
    if (type === 'file' && inodes && devices) {
      const k = `${devices[i]}:${inodes[i]}`;
      const list = inodeKey.get(k);
      if (list) list.push(i);
      else inodeKey.set(k, [i]);
    }
  }
  const groups = new Map<number, number[]>();
  let next = 1;
  for (const list of inodeKey.values()) {
    if (list.length < 2) continue;
    const g = next++;
    groups.set(g, list);
    for (const i of list) entries[i]!.hardlink = g;
  }
  return { entries, byPath, groups, ghost };
}

// ---- payload ------------------------------------------------------------

async function importPayload(reader: PackageReader, table: FileTable, compressor: Compressor | 'auto', maxBytes: number, opts: ReadRpmOptions, limits: Limits): Promise<void> {
  const { where, sink } = opts;
  const { entries } = table;
  const seen = new Uint8Array(entries.length);
  let open: ObjectWriter | null = null;
  // stripped entries carry no size: only the last link of a hardlink set has content
  const strippedSize = (fx: number): number => {
    const e = entries[fx];
    if (!e) throw formatError('rpm', `Cannot read ${where} payload: stripped cpio entry names file ${fx} of ${entries.length}`, { field: 'cpio file index' });
    if (e.type !== 'file') return e.type === 'symlink' ? e.size : 0;
    if (e.hardlink) {
      const members = table.groups.get(e.hardlink)!.filter((m) => !table.ghost[m]);
      if (members[members.length - 1] !== fx) return 0;
    }
    return e.size;
  };
  const stream = decompress(reader.payloadChunks(), { compressor, maxBytes, where: `${where} payload` });
  try {
    for await (const entry of readCpio(stream, { maxNameLength: limits.maxPathLength, strippedSize, where: `${where} payload` })) {
      let fx: number;
      let label: string;
      if (entry.magic === '07070X') {
        fx = entry.fileIndex;
        label = entries[fx]?.path ?? `#${fx}`;
      } else {
        label = entry.name;
        const key = safePath(entry.name, { format: 'rpm', where: `${where} payload`, allowAbsolute: true, maxLength: limits.maxPathLength, maxDepth: limits.maxPathDepth });
        const found = table.byPath.get(key);
        if (found === undefined) throw formatError('rpm', `Cannot read ${where} payload: ${JSON.stringify(entry.name)} at offset ${entry.offset} is not in the header's file list`, { field: 'cpio name', offset: entry.offset, path: entry.name });
        fx = found;
      }
      const file = entries[fx]!;
      if (table.ghost[fx]) throw formatError('rpm', `Cannot read ${where} payload: %ghost file ${JSON.stringify(label)} has content in the payload`, { field: 'cpio name', path: file.path });
      if (seen[fx]) throw formatError('rpm', `Cannot read ${where} payload: ${JSON.stringify(label)} appears twice`, { field: 'cpio name', path: file.path });
      seen[fx] = 1;
      if (file.type !== 'file') continue; // body skipped by the reader
      const members = file.hardlink ? table.groups.get(file.hardlink)! : [fx];
      // a hardlink set's earlier links are empty placeholders
      if (file.hardlink && entry.size === 0 && file.size > 0) continue;
      if (entry.size !== file.size) {
        throw formatError('rpm', `Cannot read ${where} payload: ${JSON.stringify(label)} has ${entry.size} bytes, the header says ${file.size}`, { field: 'cpio size', path: file.path });
      }
      const check = file.digest ? hasher(file.digestAlgo, where, 'FILEDIGESTALGO') : null;
      open = sink.open();
      for await (const chunk of entry.body) {
        await open.write(chunk);
        check?.update(chunk);
      }
      if (check) {
        const got = check.digest('hex');
        if (got !== file.digest) {
          throw formatError('rpm', `Cannot read ${where}: ${file.path} has ${file.digestAlgo} digest ${got}, the header says ${file.digest}`, {
            field: 'FILEDIGESTS',
            path: file.path,
            expected: file.digest,
            actual: got,
          });
        }
      }
      const w = open;
      open = null;
      const object = await w.close();
      for (const m of members) {
        entries[m]!.object = object;
        seen[m] = 1;
      }
    }
  } catch (e) {
    if (open) await open.abort();
    throw e;
  }
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type === 'file' && !table.ghost[i] && !e.object) {
      throw formatError('rpm', `Cannot read ${where} payload: ${e.path} is in the header but missing from the payload`, { field: 'payload', path: e.path });
    }
  }
}

/**
 * The package bytes as one byte stream: exact reads for the headers, then the
 * rest as payload chunks, hashed in the order they are pulled.
 */
class PackageReader {
  private readonly bytes: ByteStream;
  private hash: Hash | null = null;

  constructor(input: AsyncIterable<Uint8Array>, readonly where: string) {
    this.bytes = new ByteStream(input, 'rpm', where, (field, offset, needed) =>
      formatError('rpm', `Cannot read rpm ${field} at offset ${offset}: unexpected end of file (needs ${needed} more bytes)`, { field, offset }),
    );
  }

  get offset(): number {
    return this.bytes.offset;
  }

  exact(n: number, field: string): Promise<Uint8Array> {
    return this.bytes.exact(n, field);
  }

  /** up to n bytes ahead without consuming them (fewer at end of input) */
  peek(n: number): Promise<Uint8Array> {
    return this.bytes.peek(n);
  }

  startPayload(hash: Hash | null): void {
    this.hash = hash;
  }

  private async nextChunk(): Promise<Uint8Array | null> {
    const chunk = await this.bytes.chunk();
    if (chunk) this.hash?.update(chunk);
    return chunk;
  }

  /** the payload as an iterable whose early return leaves the source open for drain() */
  payloadChunks(): AsyncIterable<Uint8Array> {
    const self = this;
    let stopped = false;
    return {
      [Symbol.asyncIterator]() {
        return {
          async next(): Promise<IteratorResult<Uint8Array>> {
            if (stopped) return { done: true, value: undefined };
            const c = await self.nextChunk();
            return c ? { done: false, value: c } : { done: true, value: undefined };
          },
          async return(): Promise<IteratorResult<Uint8Array>> {
            stopped = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  /** reads to the end so the payload digest covers every byte */
  async drain(): Promise<void> {
    while ((await this.nextChunk()) !== null);
  }

  close(): Promise<void> {
    return this.bytes.close();
  }
}
