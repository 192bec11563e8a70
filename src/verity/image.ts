/**
 * The I/O shell around verity's verify() for a whole DDI: finds the root and
 * root-verity partitions through the GPT and checks every block, reading the
 * file in bounded pieces (GPT sectors, the superblock, 1 MiB data batches),
 * so an image of any size verifies in constant memory.
 */
import fs from 'node:fs';
import { readGptFrom } from '../formats/gpt/index.js';
import { findDdiPartitions, type DdiExtent } from '../formats/ddi/index.js';
import { verify, verifyExitCode, parseSuperblock, SUPERBLOCK_SIZE, type BlockReader } from './index.js';
import { WeldError, formatError } from '../errors.js';

export interface ImageVerdict {
  ok: boolean;
  exitCode: 0 | 1 | 2;
  message: string;
  dataBlocks: number;
  badBlock?: number;
  file?: string | null;
  reason?: string;
}

/** Reads [offset, offset+length) of a partition; short at the partition's or the file's end. */
function readPart(fd: number, part: DdiExtent, offset: number, length: number): Uint8Array {
  const n = Math.max(0, Math.min(length, part.size - offset));
  const b = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const k = fs.readSync(fd, b, got, n - got, part.start + offset + got);
    if (k === 0) break;
    got += k;
  }
  return b.subarray(0, got);
}

const partReader = (fd: number, part: DdiExtent): BlockReader => ({ read: (offset, length) => readPart(fd, part, offset, length) });

/**
 * weld's EROFS writer puts every inode and directory block before file data,
 * so a prefix of the root partition is enough to name a block's file. The
 * prefix grows until the walk succeeds, up to a cap that keeps memory bounded
 * on images whose metadata sits elsewhere (their bad block then has no name).
 */
const OWNER_PREFIX_FIRST = 4 << 20;
const OWNER_PREFIX_MAX = 128 << 20;

async function blockOwnerOf(fd: number, root: DdiExtent, block: number): Promise<string | null> {
  const { blockOwner } = await import('../formats/erofs/reader.js');
  for (let n = Math.min(root.size, OWNER_PREFIX_FIRST); ; n = Math.min(root.size, n * 4)) {
    try {
      return blockOwner(readPart(fd, root, 0, n), block);
    } catch {
      if (n >= root.size || n >= OWNER_PREFIX_MAX) return null;
    }
  }
}

export async function verifyImage(file: string, rootHex: string): Promise<ImageVerdict> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new WeldError('io', 'E_IO', `Cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const disk: DdiExtent = { start: 0, size: fs.fstatSync(fd).size };
    const parts = findDdiPartitions(readGptFrom({ size: disk.size, read: (offset, length) => readPart(fd, disk, offset, length) }));
    if (!parts) throw formatError('ddi', `Cannot verify ${file}: no root and root-verity partitions in its GPT`);
    const sb = parseSuperblock(readPart(fd, parts.verity, 0, SUPERBLOCK_SIZE));
    const r = await verify(partReader(fd, parts.root), partReader(fd, parts.verity), rootHex);
    const code = verifyExitCode(r);
    if (r.ok) return { ok: true, exitCode: 0, message: 'ok', dataBlocks: sb.dataBlocks };
    if (r.reason === 'root-hash') return { ok: false, exitCode: code, message: `root hash does not match (the tree is intact but belongs to another root)`, dataBlocks: sb.dataBlocks, reason: 'root-hash' };
    const owner = r.level === 0 && r.what === 'digest' ? await blockOwnerOf(fd, parts.root, r.block) : null;
    const where = r.level === 0 && r.what === 'digest' ? `data block ${r.block}${owner ? ` (${owner})` : ''}` : `hash level ${r.level} block ${r.block}`;
    return { ok: false, exitCode: code, message: `corrupted ${where} at byte ${r.position}`, dataBlocks: sb.dataBlocks, badBlock: r.block, file: owner, reason: 'corrupt' };
  } finally {
    fs.closeSync(fd);
  }
}
