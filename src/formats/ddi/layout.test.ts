import { describe, expect, it } from 'vitest';
import { crc32, HDR, readGptFrom, SECTOR, encodeGpt, type GptSource } from '../gpt/index.js';
import { DPS_X86_64 } from './dps.js';
import { ddiLayout, findDdiPartitions, MIB } from './layout.js';

const ROOT_HASH = 'a'.repeat(32) + 'b'.repeat(32);
const TIB = 1024 * 1024 * MIB;

/** A disk that exists only as its head and tail, recording what is read. */
function virtualDisk(size: number, head: Uint8Array, tail: Uint8Array) {
  const reads: { offset: number; length: number }[] = [];
  const src: GptSource = {
    size,
    read(offset, length) {
      reads.push({ offset, length });
      const out = new Uint8Array(length);
      if (offset < head.length) out.set(head.subarray(offset, offset + length));
      const tailAt = size - tail.length;
      if (offset + length > tailAt) out.set(tail.subarray(Math.max(0, offset - tailAt), offset + length - tailAt), Math.max(0, tailAt - offset));
      return out;
    },
  };
  return { src, reads };
}

describe('DDI partitions from a GPT read at random access', () => {
  it('finds root and root-verity of a 4 TiB image reading only its tables', () => {
    const l = ddiLayout({ rootSize: 4 * TIB, veritySize: 33 * 1024 * MIB, rootHash: ROOT_HASH });
    const { src, reads } = virtualDisk(l.totalSize, l.headBytes, l.tailBytes);
    const found = findDdiPartitions(readGptFrom(src));
    expect(found).toEqual({ root: { start: l.partitions[0]!.start, size: 4 * TIB }, verity: { start: l.partitions[1]!.start, size: 33 * 1024 * MIB } });
    expect(reads.reduce((n, r) => n + r.length, 0)).toBeLessThanOrEqual(2 * (512 + 512 + 128 * 128));
    expect(reads.every((r) => r.offset < l.headBytes.length || r.offset >= l.totalSize - l.tailBytes.length)).toBe(true);
  });

  it('is null without both DPS types', () => {
    const g = encodeGpt({ diskGuid: '0de4e6c4-0991-8355-b687-2c43c5caf1f6', totalSectors: 16384, partitions: [{ type: DPS_X86_64.root, uuid: '1357e018-9cfb-8e4a-0cf0-1ba7adbb6f82', firstLba: 2048, lastLba: 6143, name: 'root-x86-64' }] });
    const { src } = virtualDisk(16384 * 512, g.head, g.tail);
    expect(findDdiPartitions(readGptFrom(src))).toBe(null);
  });

  it('refuses a header whose entry array is larger than the cap, before reading it', () => {
    const l = ddiLayout({ rootSize: MIB, veritySize: 4096, rootHash: ROOT_HASH });
    const head = l.headBytes.slice();
    const v = new DataView(head.buffer);
    v.setUint32(SECTOR + HDR.entryCount, 1 << 20, true);
    // with a correct header CRC, so the count itself is what is refused
    v.setUint32(SECTOR + HDR.headerCrc32, 0, true);
    v.setUint32(SECTOR + HDR.headerCrc32, crc32(head.subarray(SECTOR, SECTOR + 92)), true);
    const { src, reads } = virtualDisk(l.totalSize, head, l.tailBytes);
    expect(() => readGptFrom(src)).toThrow(/exceed limit/);
    expect(Math.max(...reads.map((r) => r.length))).toBeLessThanOrEqual(512);
  });
});
