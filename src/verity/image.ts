import fs from 'node:fs';
import { readGpt } from '../formats/gpt/index.js';
import { DPS_X86_64 } from '../linker/ddi.js';
import { verify, verifyExitCode, parseSuperblock, type BlockReader } from './index.js';
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

function fileReader(fd: number, base: number, limit: number): BlockReader {
  return {
    read(offset, length) {
      const b = Buffer.alloc(length);
      if (offset + length > limit) return b.subarray(0, Math.max(0, limit - offset));
      fs.readSync(fd, b, 0, length, base + offset);
      return b;
    },
  };
}

/**
 * The I/O shell around verity's verify(): finds the root and root-verity
 * partitions of a DDI through its GPT and checks every block.
 */
export async function verifyImage(file: string, rootHex: string): Promise<ImageVerdict> {
  let img: Buffer;
  try {
    img = fs.readFileSync(file);
  } catch (e) {
    throw new WeldError('io', 'E_IO', `Cannot read ${file}: ${(e as Error).message}`);
  }
  const gpt = readGpt(img);
  const root = gpt.partitions.find((p) => p.type === DPS_X86_64.root);
  const ver = gpt.partitions.find((p) => p.type === DPS_X86_64.rootVerity);
  if (!root || !ver) throw formatError('ddi', `Cannot verify ${file}: no root and root-verity partitions in its GPT`);
  const rs = root.firstLba * 512;
  const rl = (root.lastLba + 1) * 512 - rs;
  const vs = ver.firstLba * 512;
  const vl = (ver.lastLba + 1) * 512 - vs;
  const sb = parseSuperblock(img.subarray(vs, vs + 512));
  const fd = fs.openSync(file, 'r');
  try {
    const r = await verify(fileReader(fd, rs, rl), fileReader(fd, vs, vl), rootHex);
    const code = verifyExitCode(r);
    if (r.ok) return { ok: true, exitCode: 0, message: 'ok', dataBlocks: sb.dataBlocks };
    if (r.reason === 'root-hash') return { ok: false, exitCode: code, message: `root hash does not match (the tree is intact but belongs to another root)`, dataBlocks: sb.dataBlocks, reason: 'root-hash' };
    let owner: string | null = null;
    if (r.level === 0 && r.what === 'digest') {
      try {
        const readerModule = '../formats/erofs/reader.js';
        const { blockOwner } = (await import(readerModule)) as { blockOwner: (img: Uint8Array, block: number) => string | null };
        owner = blockOwner(img.subarray(rs, rs + rl), r.block);
      } catch {
        owner = null;
      }
    }
    const where = r.level === 0 && r.what === 'digest' ? `data block ${r.block}${owner ? ` (${owner})` : ''}` : `hash level ${r.level} block ${r.block}`;
    return { ok: false, exitCode: code, message: `corrupted ${where} at byte ${r.position}`, dataBlocks: sb.dataBlocks, badBlock: r.block, file: owner, reason: 'corrupt' };
  } finally {
    fs.closeSync(fd);
  }
}
