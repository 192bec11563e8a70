import { PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { formatError, isWeldError } from '../errors.js';
import { hasTool, pipeTool } from '../util/exec.js';

const require = createRequire(import.meta.url);

export type Compressor = 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'none';

/** Detects compression by magic; the one place that does. */
export function sniffCompressor(head: Uint8Array): Compressor {
  const b = head;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return 'xz';
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'zstd';
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return 'bzip2';
  // lzma "alone": properties byte < 225, then dict size LE, commonly 5d 00 00
  if (b.length >= 3 && b[0] === 0x5d && b[1] === 0x00 && b[2] === 0x00) return 'lzma';
  return 'none';
}

function transformFor(c: Compressor): Transform | null {
  switch (c) {
    case 'gzip':
      // big output chunks: the default 16 KiB costs a main-thread round trip per chunk
      return zlib.createGunzip({ chunkSize: 256 * 1024 });
    case 'xz': {
      const lzma = require('lzma-native');
      return lzma.createDecompressor({ synchronous: false });
    }
    case 'lzma': {
      const lzma = require('lzma-native');
      return lzma.createStream('aloneDecoder', { synchronous: false });
    }
    case 'zstd': {
      const { DecompressStream } = require('zstd-napi');
      return new DecompressStream();
    }
    case 'bzip2': {
      const unbzip2 = require('unbzip2-stream');
      return unbzip2();
    }
    case 'none':
      return null;
  }
}

/**
 * Debian's own decompressors run as a child process: measured here on
 * libc6's data.tar.xz, `xz -dc` took ~0.2–0.5 s where lzma-native took
 * ~0.9–2.3 s, and the work moves to another core. Libraries remain the fallback.
 */
const TOOLS: Partial<Record<Compressor, string[]>> = {
  xz: ['xz', '-dc'],
  lzma: ['xz', '--format=lzma', '-dc'],
  zstd: ['zstd', '-dcq', '--no-progress'],
  bzip2: ['bzip2', '-dc'],
};
const SPAWN_THRESHOLD = 256 * 1024;

/** A tool that fails on the data is corrupt input, not a broken tool. */
async function* viaTool(argv: string[], input: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<Uint8Array> {
  try {
    yield* pipeTool(argv, input);
  } catch (e) {
    if (!isWeldError(e) || e.kind !== 'tool') throw e;
    const status = e.data.status as number | null;
    throw formatError('compression', `Cannot decompress ${where} (${argv[0]}): ${String(e.data.stderr).split(' | ').pop() || `exit ${status}`}`, { where });
  }
}

async function* sliced(src: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  for await (const c of src) for (let i = 0; i < c.length; i += n) yield c.subarray(i, i + n);
}

export interface DecompressOptions {
  /** what the caller thinks it is ('auto' sniffs the first bytes) */
  compressor: Compressor | 'auto';
  /** hard cap on output bytes: a decompression bomb stops here */
  maxBytes: number;
  /** names the thing in errors, e.g. "foo.rpm payload" */
  where: string;
}

/**
 * Streams decompressed chunks, capping the output. Sniffs the real magic even
 * when the caller names a compressor, since packages lie (rpm writes "lzma" for xz).
 */
export async function* decompress(input: AsyncIterable<Uint8Array>, opts: DecompressOptions): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let have = 0;
  while (have < 8) {
    const r = await it.next();
    if (r.done) break;
    first.push(r.value);
    have += r.value.length;
  }
  let head = Buffer.concat(first);
  const sniffed = sniffCompressor(head);
  const kind: Compressor = sniffed !== 'none' ? sniffed : opts.compressor === 'auto' ? 'none' : opts.compressor === 'none' ? 'none' : opts.compressor;
  if (kind !== 'none' && sniffed === 'none' && head.length > 0) {
    throw formatError('compression', `Cannot decompress ${opts.where}: declared ${kind} but the data has no ${kind} magic`, { where: opts.where });
  }
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  // Small members (control.tar, small packages) stay in-process: spawning a tool costs ~10 ms.
  const tool = TOOLS[kind];
  let useTool = false;
  if (tool && hasTool(tool[0]!)) {
    while (head.length < SPAWN_THRESHOLD) {
      const r = await it.next();
      if (r.done) break;
      head = Buffer.concat([head, r.value]);
    }
    useTool = head.length >= SPAWN_THRESHOLD;
  }
  const t = useTool ? null : transformFor(kind);
  let src: AsyncIterable<Uint8Array> = useTool ? viaTool(tool!, rest(), opts.where) : rest();
  if (t) {
    // unbzip2-stream is a classic stream: bridge errors and iteration through a PassThrough
    const out = new PassThrough();
    // fed in small slices with backpressure: a library transform emits a whole
    // input chunk's output at once, and a 64 KiB zstd chunk can expand to gigabytes
    // deflate expands at most ~1032:1, so 64 KiB gzip slices stay under ~66 MiB
    const inp = Readable.from(sliced(rest(), kind === 'gzip' ? 64 * 1024 : 1024), { objectMode: false, highWaterMark: 1 });
    inp.on('error', (e) => out.destroy(e));
    t.on('error', (e: Error) => out.destroy(e));
    inp.pipe(t).pipe(out);
    src = out;
  }
  let out = 0;
  try {
    for await (const chunk of src) {
      const c = chunk as Uint8Array;
      out += c.length;
      if (out > opts.maxBytes) {
        throw formatError('compression', `Cannot decompress ${opts.where}: output exceeds ${opts.maxBytes} bytes (decompression bomb?)`, {
          where: opts.where,
          limit: opts.maxBytes,
        });
      }
      yield c;
    }
  } catch (e) {
    if (e && typeof e === 'object' && 'kind' in e) throw e;
    throw formatError('compression', `Cannot decompress ${opts.where} (${kind}): ${(e as Error).message}`, { where: opts.where, compressor: kind });
  } finally {
    t?.destroy();
  }
}
