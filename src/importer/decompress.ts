import { PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { formatError } from '../errors.js';

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
      return zlib.createGunzip();
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
  const head = Buffer.concat(first);
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
  const t = transformFor(kind);
  let src: AsyncIterable<Uint8Array> = rest();
  if (t) {
    // unbzip2-stream is a classic stream: bridge errors and iteration through a PassThrough
    const out = new PassThrough();
    const inp = Readable.from(rest(), { objectMode: false });
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
