/**
 * Discoverable Disk Image layout (UAPI Discoverable Partitions Specification):
 * GPT, the root filesystem partition, then its dm-verity partition (superblock
 * at offset 0, hash tree after it). Partition UUIDs come from the root hash
 * (first and last 128 bits), as systemd-dissect and `roothash=` expect, so the
 * root hash must be known before the first byte goes out: the caller computes
 * it from leaf digests first, then streams `ddiPieces()` in order.
 */
import { ATTR, dumpGpt, SECTOR, TAIL_BYTES, encodeGpt, type GptDisk, type GptRead } from '../gpt/index.js';
import { hexToGuid } from '../gpt/guid.js';
import { usageError } from '../../errors.js';
import { deriveUuid } from '../../util/uuid.js';
import { DPS_X86_64 } from './dps.js';

export const MIB = 1024 * 1024;
const BLOCK = 4096;

export interface DdiInput {
  /** root filesystem image bytes (dataBlocks × 4096) */
  rootSize: number;
  /** verity partition content bytes: superblock block + hash area */
  veritySize: number;
  /** hex or bytes; its first 128 bits name the root partition, its last 128 bits the verity partition */
  rootHash: string | Uint8Array;
  /** default: deriveUuid('disk', rootHash), so the same root always gives the same disk */
  diskGuid?: string;
  /** partition start alignment; default 1 MiB */
  align?: number;
}

export interface DdiPartition {
  role: 'root' | 'root-verity';
  type: string;
  uuid: string;
  /** byte offset on the disk */
  start: number;
  size: number;
  name: string;
  attributes: bigint;
}

export interface DdiLayout {
  totalSize: number;
  rootHash: string;
  diskGuid: string;
  partitions: DdiPartition[];
  /** protective MBR + primary GPT, zero-filled up to the first partition */
  headBytes: Uint8Array;
  /** backup entries + backup header: the disk's last bytes */
  tailBytes: Uint8Array;
  gpt: GptDisk;
}

export type DdiPiece =
  | { kind: 'bytes'; offset: number; data: Uint8Array; what: 'head' | 'tail' }
  | { kind: 'partition'; offset: number; size: number; role: DdiPartition['role'] }
  | { kind: 'zero'; offset: number; size: number };

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Where the root partition starts with the default 1 MiB alignment */
export const DDI_ROOT_START = MIB;

export function ddiLayout(input: DdiInput): DdiLayout {
  const align = input.align ?? MIB;
  if (align % BLOCK !== 0) throw usageError(`Cannot align DDI partitions to ${align} bytes: not a multiple of ${BLOCK}`);
  for (const [what, n] of [
    ['root filesystem', input.rootSize],
    ['verity partition', input.veritySize],
  ] as const) {
    if (!Number.isSafeInteger(n) || n <= 0 || n % BLOCK !== 0) throw usageError(`Cannot lay out a ${what} of ${n} bytes: must be a positive multiple of ${BLOCK}`);
  }
  const rootHash = typeof input.rootHash === 'string' ? input.rootHash.toLowerCase() : Buffer.from(input.rootHash).toString('hex');
  if (!/^[0-9a-f]{64,}$/.test(rootHash)) throw usageError(`Cannot name DDI partitions from root hash ${JSON.stringify(rootHash)}: need at least 256 bits of hex`);
  const diskGuid = input.diskGuid ?? deriveUuid('disk', Uint8Array.from(Buffer.from(rootHash, 'hex')));

  const rootStart = align;
  const verityStart = alignUp(rootStart + input.rootSize, align);
  const totalSize = alignUp(verityStart + input.veritySize + TAIL_BYTES, align);
  const partitions: DdiPartition[] = [
    { role: 'root', type: DPS_X86_64.root, uuid: hexToGuid(rootHash.slice(0, 32)), start: rootStart, size: input.rootSize, name: 'root-x86-64', attributes: ATTR.readOnly },
    { role: 'root-verity', type: DPS_X86_64.rootVerity, uuid: hexToGuid(rootHash.slice(-32)), start: verityStart, size: input.veritySize, name: 'root-x86-64-verity', attributes: ATTR.readOnly },
  ];
  const gpt: GptDisk = {
    diskGuid,
    totalSectors: totalSize / SECTOR,
    partitions: partitions.map((p) => ({ type: p.type, uuid: p.uuid, firstLba: p.start / SECTOR, lastLba: (p.start + p.size) / SECTOR - 1, name: p.name, attributes: p.attributes })),
  };
  const g = encodeGpt(gpt);
  const headBytes = new Uint8Array(rootStart);
  headBytes.set(g.head);
  return { totalSize, rootHash, diskGuid, partitions, headBytes, tailBytes: g.tail, gpt };
}

/** The disk in streaming order: head, root, zeros, verity, zeros, tail. Sizes sum to totalSize. */
export function ddiPieces(l: DdiLayout): DdiPiece[] {
  const out: DdiPiece[] = [{ kind: 'bytes', offset: 0, data: l.headBytes, what: 'head' }];
  let at = l.headBytes.length;
  for (const p of l.partitions) {
    if (p.start > at) out.push({ kind: 'zero', offset: at, size: p.start - at });
    out.push({ kind: 'partition', offset: p.start, size: p.size, role: p.role });
    at = p.start + p.size;
  }
  const tailAt = l.totalSize - l.tailBytes.length;
  if (tailAt > at) out.push({ kind: 'zero', offset: at, size: tailAt - at });
  out.push({ kind: 'bytes', offset: tailAt, data: l.tailBytes, what: 'tail' });
  return out;
}

/** Annotated text form of the layout. */
export function dumpDdi(l: DdiLayout): string {
  const lines = [`DDI ${l.totalSize} bytes, root hash ${l.rootHash}`];
  for (const piece of ddiPieces(l)) {
    const end = piece.offset + (piece.kind === 'bytes' ? piece.data.length : piece.size);
    const range = `${piece.offset.toString().padStart(12)}..${end.toString().padEnd(12)}`;
    if (piece.kind === 'bytes') lines.push(`  ${range} ${piece.what === 'head' ? 'protective MBR + primary GPT (+ zero to first partition)' : 'backup GPT entries + header'}`);
    else if (piece.kind === 'zero') lines.push(`  ${range} zero padding`);
    else {
      const p = l.partitions.find((q) => q.role === piece.role)!;
      lines.push(`  ${range} ${p.name} type ${p.type} uuid ${p.uuid}${piece.role === 'root-verity' ? ' (verity superblock at +0)' : ''}`);
    }
  }
  lines.push(dumpGpt(l.gpt));
  return lines.join('\n');
}

/** A partition's byte range on the disk. */
export interface DdiExtent {
  start: number;
  size: number;
}

/**
 * The root and root-verity partitions of a read GPT, found by DPS type as
 * systemd-dissect finds them; null when either is missing.
 */
export function findDdiPartitions(gpt: GptRead): { root: DdiExtent; verity: DdiExtent } | null {
  const extent = (type: string): DdiExtent | null => {
    const p = gpt.partitions.find((q) => q.type === type);
    return p ? { start: p.firstLba * SECTOR, size: (p.lastLba + 1 - p.firstLba) * SECTOR } : null;
  };
  const root = extent(DPS_X86_64.root);
  const verity = extent(DPS_X86_64.rootVerity);
  return root && verity ? { root, verity } : null;
}
