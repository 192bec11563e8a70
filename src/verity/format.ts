/**
 * dm-verity on-disk format as cryptsetup 2.6 writes it (lib/verity/verity.c,
 * verity_hash.c): the 512-byte superblock and the hash-tree geometry.
 * Pure: no I/O.
 */
import { formatError, usageError } from '../errors.js';
import { Cursor } from '../util/cursor.js';
import { formatUuid, parseUuid } from '../util/uuid.js';

export type VerityAlgorithm = 'sha1' | 'sha256' | 'sha512';
/** 0 = Chrome OS original (digest = H(block ‖ salt), packed digests); 1 = default (H(salt ‖ block), power-of-two slots) */
export type VerityHashType = 0 | 1;

export const DIGEST_SIZE: Record<VerityAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export const SUPERBLOCK_SIZE = 512;
export const SUPERBLOCK_MAGIC = 'verity\0\0';
export const MAX_SALT_SIZE = 256;

/** superblock field offsets (struct verity_sb, little-endian) */
export const SB = {
  signature: 0,
  version: 8,
  hashType: 12,
  uuid: 16,
  algorithm: 32,
  dataBlockSize: 64,
  hashBlockSize: 68,
  dataBlocks: 72,
  saltSize: 80,
  pad1: 82,
  salt: 88,
  pad2: 344,
} as const;

export interface VerityParams {
  algorithm: VerityAlgorithm;
  hashType: VerityHashType;
  dataBlockSize: number;
  hashBlockSize: number;
  dataBlocks: number;
  /** 0..256 bytes; empty means no salt (`-` in the table) */
  salt: Uint8Array;
}

export interface SuperblockFields extends VerityParams {
  /** canonical 8-4-4-4-12 lowercase */
  uuid: string;
}

export const DEFAULT_BLOCK_SIZE = 4096;

export function checkParams(p: VerityParams): void {
  if (!(p.algorithm in DIGEST_SIZE)) throw usageError(`Cannot use verity hash algorithm ${String(p.algorithm)}: not sha1/sha256/sha512`);
  if (p.hashType !== 0 && p.hashType !== 1) throw usageError(`Cannot use verity hash type ${String(p.hashType)}: only 0 and 1 exist`);
  for (const [name, v] of [
    ['data block size', p.dataBlockSize],
    ['hash block size', p.hashBlockSize],
  ] as const) {
    // cryptsetup: power of two, 512 .. 512 KiB
    if (!Number.isInteger(v) || v < 512 || v > 512 * 1024 || (v & (v - 1)) !== 0) throw usageError(`Cannot use verity ${name} ${v}: must be a power of two from 512 to 524288`);
  }
  if (!Number.isSafeInteger(p.dataBlocks) || p.dataBlocks < 1) throw usageError(`Cannot build a verity tree over ${p.dataBlocks} data blocks: need at least one`);
  if (p.salt.length > MAX_SALT_SIZE) throw usageError(`Cannot use a verity salt of ${p.salt.length} bytes: at most ${MAX_SALT_SIZE}`);
}

export interface HashTreeGeometry {
  digestSize: number;
  /** bytes one digest occupies in a hash block: a power of two for type 1, packed for type 0 */
  digestSlot: number;
  hashPerBlock: number;
  /** number of hash levels; 0 when there is one data block */
  levels: number;
  /** per level (0 = the level hashing data blocks): block count and first block within the hash area */
  levelBlocks: number[];
  levelStart: number[];
  /** hash blocks in the hash area (superblock not counted) */
  hashBlocks: number;
  /** bytes of the hash area (superblock not counted) */
  hashAreaSize: number;
}

/** Level math from cryptsetup VERITY_create_or_verify_hash(). */
export function hashTreeGeometry(p: VerityParams): HashTreeGeometry {
  checkParams(p);
  const digestSize = DIGEST_SIZE[p.algorithm];
  const perBlockBits = Math.floor(Math.log2(p.hashBlockSize / digestSize));
  const hashPerBlock = 2 ** perBlockBits;
  const digestSlot = p.hashType === 1 ? 2 ** Math.ceil(Math.log2(digestSize)) : digestSize;
  let levels = 0;
  while (perBlockBits * levels < 64 && Math.floor((p.dataBlocks - 1) / 2 ** (perBlockBits * levels)) > 0) levels++;
  const levelBlocks: number[] = [];
  for (let i = 0; i < levels; i++) levelBlocks.push(Math.ceil(p.dataBlocks / 2 ** (perBlockBits * (i + 1))));
  // top level first on disk, the level hashing data blocks last
  const levelStart = new Array<number>(levels).fill(0);
  let pos = 0;
  for (let i = levels - 1; i >= 0; i--) {
    levelStart[i] = pos;
    pos += levelBlocks[i]!;
  }
  return { digestSize, digestSlot, hashPerBlock, levels, levelBlocks, levelStart, hashBlocks: pos, hashAreaSize: pos * p.hashBlockSize };
}

/** The 512-byte verity superblock (struct verity_sb). The hash area starts at the next hash-block boundary. */
export function superblock(f: SuperblockFields): Uint8Array {
  checkParams(f);
  const out = new Uint8Array(SUPERBLOCK_SIZE);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SUPERBLOCK_MAGIC), SB.signature);
  v.setUint32(SB.version, 1, true);
  v.setUint32(SB.hashType, f.hashType, true);
  out.set(parseUuid(f.uuid), SB.uuid);
  out.set(new TextEncoder().encode(f.algorithm), SB.algorithm);
  v.setUint32(SB.dataBlockSize, f.dataBlockSize, true);
  v.setUint32(SB.hashBlockSize, f.hashBlockSize, true);
  v.setBigUint64(SB.dataBlocks, BigInt(f.dataBlocks), true);
  v.setUint16(SB.saltSize, f.salt.length, true);
  out.set(f.salt, SB.salt);
  return out;
}

/**
 * Reads a superblock with cryptsetup's checks (VERITY_read_sb): magic, version 1,
 * hash type ≤ 1, block sizes, salt size, known algorithm. Like veritysetup it does
 * not look at the reserved or padding bytes.
 */
export function parseSuperblock(buf: Uint8Array): SuperblockFields {
  const c = new Cursor(buf, 'verity');
  const magic = c.bytes(8, 'signature');
  if (new TextDecoder().decode(magic) !== SUPERBLOCK_MAGIC) throw formatError('verity', 'Cannot read verity superblock: bad signature', { field: 'signature', offset: 0 });
  const version = c.u32le('version');
  if (version !== 1) throw formatError('verity', `Cannot read verity superblock: unsupported version ${version}`, { field: 'version', offset: SB.version });
  const hashType = c.u32le('hash_type');
  if (hashType > 1) throw formatError('verity', `Cannot read verity superblock: unsupported hash type ${hashType}`, { field: 'hash_type', offset: SB.hashType });
  const uuid = formatUuid(c.bytes(16, 'uuid'));
  const algBytes = c.bytes(32, 'algorithm');
  const nul = algBytes.indexOf(0);
  const algorithm = new TextDecoder().decode(algBytes.subarray(0, nul < 0 ? 32 : nul)).toLowerCase();
  if (!(algorithm in DIGEST_SIZE)) throw formatError('verity', `Cannot read verity superblock: unsupported algorithm ${JSON.stringify(algorithm)}`, { field: 'algorithm', offset: SB.algorithm });
  const dataBlockSize = c.u32le('data_block_size');
  const hashBlockSize = c.u32le('hash_block_size');
  const dataBlocksBig = c.u64le('data_blocks');
  const saltSize = c.u16le('salt_size');
  if (saltSize > MAX_SALT_SIZE) throw formatError('verity', `Cannot read verity superblock: salt size ${saltSize} exceeds ${MAX_SALT_SIZE}`, { field: 'salt_size', offset: SB.saltSize });
  c.seek(SB.salt, 'salt');
  const salt = c.bytes(saltSize, 'salt').slice();
  if (dataBlocksBig > BigInt(Number.MAX_SAFE_INTEGER) || dataBlocksBig === 0n) throw formatError('verity', `Cannot read verity superblock: data block count ${dataBlocksBig} is out of range`, { field: 'data_blocks', offset: SB.dataBlocks });
  const fields: SuperblockFields = { algorithm: algorithm as VerityAlgorithm, hashType: hashType as VerityHashType, dataBlockSize, hashBlockSize, dataBlocks: Number(dataBlocksBig), salt, uuid };
  try {
    checkParams(fields);
  } catch (e) {
    throw formatError('verity', `Cannot read verity superblock: ${(e as Error).message}`, { field: 'block_size' });
  }
  return fields;
}

/** Annotated text form of a superblock, for tests and bug reports. */
export function dumpSuperblock(f: SuperblockFields): string {
  const g = hashTreeGeometry(f);
  const hex = Buffer.from(f.salt).toString('hex');
  return [
    `verity superblock (version 1, hash type ${f.hashType})`,
    `  uuid              ${f.uuid}`,
    `  algorithm         ${f.algorithm} (digest ${g.digestSize} bytes, slot ${g.digestSlot}, ${g.hashPerBlock} per hash block)`,
    `  data blocks       ${f.dataBlocks} × ${f.dataBlockSize}`,
    `  hash block size   ${f.hashBlockSize}`,
    `  salt              ${hex || '-'} (${f.salt.length} bytes)`,
    `  levels            ${g.levels}${g.levelBlocks.map((n, i) => `\n    level ${i}: ${n} blocks at hash block ${g.levelStart[i]! + 1}`).join('')}`,
    `  hash device size  ${f.hashBlockSize + g.hashAreaSize}`,
  ].join('\n');
}
