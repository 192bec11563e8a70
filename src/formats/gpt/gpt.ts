/**
 * GUID Partition Table (UEFI 2.10 §5.3): protective MBR at LBA 0, primary
 * header at LBA 1, entry array from LBA 2, backup entries and header at the
 * end of the disk. Pure: returns the head and tail bytes; the caller streams
 * the partitions in between.
 */
import { formatError, usageError } from '../../errors.js';
import { Cursor, safeNumber } from '../../util/cursor.js';
import { crc32 } from './crc32.js';
import { guidFromBytes, guidToBytes } from './guid.js';

export const SECTOR = 512;
export const ENTRY_COUNT = 128;
export const ENTRY_SIZE = 128;
export const HEADER_SIZE = 92;
const ENTRY_SECTORS = (ENTRY_COUNT * ENTRY_SIZE) / SECTOR;
const SIGNATURE = 'EFI PART';
const REVISION = 0x00010000;
const NAME_UNITS = 36;

/** header field offsets (UEFI table 5-5) */
export const HDR = {
  signature: 0,
  revision: 8,
  headerSize: 12,
  headerCrc32: 16,
  reserved: 20,
  myLba: 24,
  alternateLba: 32,
  firstUsableLba: 40,
  lastUsableLba: 48,
  diskGuid: 56,
  entriesLba: 72,
  entryCount: 80,
  entrySize: 84,
  entriesCrc32: 88,
} as const;
/** entry field offsets (UEFI table 5-6) */
export const ENT = { type: 0, uuid: 16, firstLba: 32, lastLba: 40, attributes: 48, name: 56 } as const;

/** attribute bits (UEFI + Discoverable Partitions Specification) */
export const ATTR = {
  requiredPartition: 1n << 0n,
  noBlockIoProtocol: 1n << 1n,
  legacyBiosBootable: 1n << 2n,
  growFs: 1n << 59n,
  readOnly: 1n << 60n,
  noAuto: 1n << 63n,
} as const;

export interface GptPartition {
  /** type GUID, 8-4-4-4-12 */
  type: string;
  uuid: string;
  firstLba: number;
  /** inclusive */
  lastLba: number;
  name: string;
  attributes?: bigint;
}

export interface GptDisk {
  diskGuid: string;
  totalSectors: number;
  partitions: GptPartition[];
}

export interface GptImage {
  /** LBA 0 .. firstUsableLba-1: protective MBR, primary header, primary entries */
  head: Uint8Array;
  /** the last 33 sectors: backup entries, then backup header */
  tail: Uint8Array;
  firstUsableLba: number;
  lastUsableLba: number;
}

export function firstUsableLba(): number {
  return 2 + ENTRY_SECTORS;
}
export function lastUsableLba(totalSectors: number): number {
  return totalSectors - 2 - ENTRY_SECTORS;
}
/** bytes the backup GPT takes at the end of the disk */
export const TAIL_BYTES = (ENTRY_SECTORS + 1) * SECTOR;

function entryArray(parts: GptPartition[]): Uint8Array {
  const out = new Uint8Array(ENTRY_COUNT * ENTRY_SIZE);
  const v = new DataView(out.buffer);
  parts.forEach((p, i) => {
    const at = i * ENTRY_SIZE;
    out.set(guidToBytes(p.type), at + ENT.type);
    out.set(guidToBytes(p.uuid), at + ENT.uuid);
    v.setBigUint64(at + ENT.firstLba, BigInt(p.firstLba), true);
    v.setBigUint64(at + ENT.lastLba, BigInt(p.lastLba), true);
    v.setBigUint64(at + ENT.attributes, p.attributes ?? 0n, true);
    for (let k = 0; k < p.name.length; k++) v.setUint16(at + ENT.name + 2 * k, p.name.charCodeAt(k), true);
  });
  return out;
}

function header(disk: GptDisk, myLba: number, alternateLba: number, entriesLba: number, entriesCrc: number): Uint8Array {
  const out = new Uint8Array(SECTOR);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SIGNATURE), HDR.signature);
  v.setUint32(HDR.revision, REVISION, true);
  v.setUint32(HDR.headerSize, HEADER_SIZE, true);
  v.setBigUint64(HDR.myLba, BigInt(myLba), true);
  v.setBigUint64(HDR.alternateLba, BigInt(alternateLba), true);
  v.setBigUint64(HDR.firstUsableLba, BigInt(firstUsableLba()), true);
  v.setBigUint64(HDR.lastUsableLba, BigInt(lastUsableLba(disk.totalSectors)), true);
  out.set(guidToBytes(disk.diskGuid), HDR.diskGuid);
  v.setBigUint64(HDR.entriesLba, BigInt(entriesLba), true);
  v.setUint32(HDR.entryCount, ENTRY_COUNT, true);
  v.setUint32(HDR.entrySize, ENTRY_SIZE, true);
  v.setUint32(HDR.entriesCrc32, entriesCrc, true);
  // header CRC covers headerSize bytes with the CRC field zero
  v.setUint32(HDR.headerCrc32, crc32(out.subarray(0, HEADER_SIZE)), true);
  return out;
}

/** Protective MBR: one 0xEE partition covering the disk (UEFI §5.2.3). */
function protectiveMbr(totalSectors: number): Uint8Array {
  const out = new Uint8Array(SECTOR);
  const v = new DataView(out.buffer);
  out.set([0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff], 446);
  v.setUint32(446 + 8, 1, true);
  v.setUint32(446 + 12, Math.min(totalSectors - 1, 0xffffffff), true);
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}

function check(disk: GptDisk): void {
  if (!Number.isSafeInteger(disk.totalSectors) || disk.totalSectors < 2 * (ENTRY_SECTORS + 2)) throw usageError(`Cannot write a GPT on ${disk.totalSectors} sectors: too small`);
  if (disk.partitions.length > ENTRY_COUNT) throw usageError(`Cannot write ${disk.partitions.length} GPT partitions: at most ${ENTRY_COUNT}`);
  const sorted = [...disk.partitions].sort((a, b) => a.firstLba - b.firstLba);
  let prevEnd = firstUsableLba() - 1;
  for (const p of sorted) {
    if (p.name.length > NAME_UNITS) throw usageError(`Cannot name a GPT partition ${JSON.stringify(p.name)}: more than ${NAME_UNITS} UTF-16 units`);
    if (!Number.isSafeInteger(p.firstLba) || !Number.isSafeInteger(p.lastLba) || p.lastLba < p.firstLba) throw usageError(`Cannot place GPT partition ${p.name} at ${p.firstLba}..${p.lastLba}`);
    if (p.firstLba <= prevEnd || p.lastLba > lastUsableLba(disk.totalSectors)) throw usageError(`Cannot place GPT partition ${p.name} at ${p.firstLba}..${p.lastLba}: overlaps or outside ${firstUsableLba()}..${lastUsableLba(disk.totalSectors)}`);
    prevEnd = p.lastLba;
  }
}

/** Both copies of the table; entries keep the given order. */
export function encodeGpt(disk: GptDisk): GptImage {
  check(disk);
  const entries = entryArray(disk.partitions);
  const ecrc = crc32(entries);
  const last = disk.totalSectors - 1;
  const head = new Uint8Array(firstUsableLba() * SECTOR);
  head.set(protectiveMbr(disk.totalSectors), 0);
  head.set(header(disk, 1, last, 2, ecrc), SECTOR);
  head.set(entries, 2 * SECTOR);
  const tail = new Uint8Array(TAIL_BYTES);
  tail.set(entries, 0);
  tail.set(header(disk, last, 1, last - ENTRY_SECTORS, ecrc), ENTRY_SECTORS * SECTOR);
  return { head, tail, firstUsableLba: firstUsableLba(), lastUsableLba: lastUsableLba(disk.totalSectors) };
}

export interface GptRead extends GptDisk {
  firstUsableLba: number;
  lastUsableLba: number;
  partitions: (GptPartition & { index: number })[];
}

/** Reads one header and its entries; checks signature, sizes and both CRCs. */
function readHeader(src: GptSource, lba: number, which: string): { h: Omit<GptRead, 'partitions' | 'totalSectors'>; entriesLba: number; entryCount: number; entrySize: number; entriesCrc: number; alternateLba: number } {
  const start = lba * SECTOR;
  const sector = sourceBytes(src, start, SECTOR, `${which} header`);
  const c = new Cursor(sector, 'gpt', 0, start);
  const sig = new TextDecoder().decode(c.bytes(8, 'signature'));
  if (sig !== SIGNATURE) throw formatError('gpt', `Cannot read GPT ${which} header: bad signature`, { field: 'signature', offset: start });
  c.skip(4, 'revision');
  const size = c.u32le('header_size');
  if (size < HEADER_SIZE || size > SECTOR) throw formatError('gpt', `Cannot read GPT ${which} header: size ${size}`, { field: 'header_size', offset: start + HDR.headerSize });
  const crc = c.u32le('header_crc32');
  const copy = sector.slice(0, size);
  copy.fill(0, HDR.headerCrc32, HDR.headerCrc32 + 4);
  if (crc32(copy) !== crc) throw formatError('gpt', `Cannot read GPT ${which} header: CRC mismatch`, { field: 'header_crc32', offset: start + HDR.headerCrc32 });
  c.skip(4, 'reserved');
  const myLba = safeNumber(c.u64le('my_lba'), 'gpt', 'my_lba');
  if (myLba !== lba) throw formatError('gpt', `Cannot read GPT ${which} header: my_lba ${myLba} is not ${lba}`, { field: 'my_lba', offset: start + HDR.myLba });
  const alternateLba = safeNumber(c.u64le('alternate_lba'), 'gpt', 'alternate_lba');
  const first = safeNumber(c.u64le('first_usable_lba'), 'gpt', 'first_usable_lba');
  const last = safeNumber(c.u64le('last_usable_lba'), 'gpt', 'last_usable_lba');
  const diskGuid = guidFromBytes(c.bytes(16, 'disk_guid'));
  const entriesLba = safeNumber(c.u64le('partition_entry_lba'), 'gpt', 'partition_entry_lba');
  const entryCount = c.u32le('num_partition_entries');
  const entrySize = c.u32le('partition_entry_size');
  const entriesCrc = c.u32le('partition_entry_array_crc32');
  if (entrySize < ENTRY_SIZE || entrySize % 8 !== 0) throw formatError('gpt', `Cannot read GPT ${which} header: entry size ${entrySize}`, { field: 'partition_entry_size', offset: start + HDR.entrySize });
  return { h: { diskGuid, firstUsableLba: first, lastUsableLba: last }, entriesLba, entryCount, entrySize, entriesCrc, alternateLba };
}

/** Minimal reader for tests and `verify`: the primary table, with the backup checked to agree. */
export function readGpt(img: Uint8Array): GptRead {
  return readGptFrom({ size: img.length, read: (offset, length) => img.subarray(offset, offset + length) });
}

/**
 * Random access to a disk for `readGptFrom`: `read` may return fewer bytes
 * at the end. Only the MBR, both headers and both entry arrays are read, so
 * a disk of any size can be checked without holding it in memory.
 */
export interface GptSource {
  size: number;
  read(offset: number, length: number): Uint8Array;
}

/** Caps what a header may make us read: 128 entries of 128 bytes is the norm, 1 MiB is generous. */
const MAX_ENTRY_ARRAY = 1 << 20;

function sourceBytes(src: GptSource, offset: number, length: number, field: string): Uint8Array {
  const b = offset + length <= src.size ? src.read(offset, length) : new Uint8Array(0);
  if (b.length !== length) throw formatError('gpt', `Cannot read GPT ${field}: ${length} bytes at offset ${offset} are past the end of the ${src.size}-byte disk`, { field, offset });
  return b;
}

function entryArrayBytes(src: GptSource, h: { entriesLba: number; entryCount: number; entrySize: number }, field: string): Uint8Array {
  const length = h.entryCount * h.entrySize;
  if (length > MAX_ENTRY_ARRAY) throw formatError('gpt', `Cannot read GPT ${field}: ${h.entryCount} entries of ${h.entrySize} bytes exceed limit ${MAX_ENTRY_ARRAY}`, { field, offset: h.entriesLba * SECTOR });
  return sourceBytes(src, h.entriesLba * SECTOR, length, field);
}

export function readGptFrom(src: GptSource): GptRead {
  if (src.size % SECTOR !== 0) throw formatError('gpt', `Cannot read GPT: image size ${src.size} is not a multiple of ${SECTOR}`, { offset: src.size });
  const totalSectors = src.size / SECTOR;
  const mbr = new Cursor(sourceBytes(src, 0, SECTOR, 'protective MBR'), 'gpt');
  mbr.seek(446 + 4, 'protective MBR type');
  if (mbr.u8('protective MBR type') !== 0xee) throw formatError('gpt', 'Cannot read GPT: no protective MBR partition', { field: 'mbr', offset: 450 });
  const primary = readHeader(src, 1, 'primary');
  const array = entryArrayBytes(src, primary, 'partition entries');
  if (crc32(array) !== primary.entriesCrc) throw formatError('gpt', 'Cannot read GPT partition entries: CRC mismatch', { field: 'partition_entry_array_crc32', offset: primary.entriesLba * SECTOR });
  const backup = readHeader(src, primary.alternateLba, 'backup');
  if (backup.entriesCrc !== primary.entriesCrc || backup.h.diskGuid !== primary.h.diskGuid) throw formatError('gpt', 'Cannot read GPT: backup header disagrees with primary', { offset: primary.alternateLba * SECTOR });
  if (crc32(entryArrayBytes(src, backup, 'backup entries')) !== backup.entriesCrc) throw formatError('gpt', 'Cannot read GPT backup entries: CRC mismatch', { offset: backup.entriesLba * SECTOR });
  const partitions: GptRead['partitions'] = [];
  const e = new Cursor(array, 'gpt');
  for (let i = 0; i < primary.entryCount; i++) {
    e.seek(i * primary.entrySize, 'partition entry');
    const typeBytes = e.bytes(16, 'partition_type_guid');
    if (typeBytes.every((b) => b === 0)) continue;
    const uuid = guidFromBytes(e.bytes(16, 'unique_partition_guid'));
    const firstLba = safeNumber(e.u64le('starting_lba'), 'gpt', 'starting_lba');
    const lastLba = safeNumber(e.u64le('ending_lba'), 'gpt', 'ending_lba');
    const attributes = e.u64le('attributes');
    let name = '';
    for (let k = 0; k < NAME_UNITS; k++) {
      const u = e.u16le('partition_name');
      if (u === 0) break;
      name += String.fromCharCode(u);
    }
    partitions.push({ index: i, type: guidFromBytes(typeBytes), uuid, firstLba, lastLba, name, attributes });
  }
  return { diskGuid: primary.h.diskGuid, totalSectors, firstUsableLba: primary.h.firstUsableLba, lastUsableLba: primary.h.lastUsableLba, partitions };
}

/** Annotated text form, for tests and bug reports. */
export function dumpGpt(disk: GptDisk): string {
  const lines = [
    `GPT disk ${disk.diskGuid}, ${disk.totalSectors} sectors of ${SECTOR} (${disk.totalSectors * SECTOR} bytes)`,
    `  LBA 0            protective MBR (0xEE, 1..${Math.min(disk.totalSectors - 1, 0xffffffff)})`,
    `  LBA 1            primary header, entries at LBA 2..${1 + ENTRY_SECTORS} (${ENTRY_COUNT} × ${ENTRY_SIZE})`,
    `  usable           LBA ${firstUsableLba()}..${lastUsableLba(disk.totalSectors)}`,
  ];
  disk.partitions.forEach((p, i) => {
    const attrs = p.attributes ? ` attrs 0x${p.attributes.toString(16)}` : '';
    lines.push(`  #${i + 1} LBA ${p.firstLba}..${p.lastLba} (${(p.lastLba - p.firstLba + 1) * SECTOR} bytes) ${JSON.stringify(p.name)} type ${p.type} uuid ${p.uuid}${attrs}`);
  });
  lines.push(`  LBA ${disk.totalSectors - 1 - ENTRY_SECTORS}..${disk.totalSectors - 2}  backup entries`);
  lines.push(`  LBA ${disk.totalSectors - 1}  backup header`);
  return lines.join('\n');
}
