import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';
import { ATTR, dumpGpt, readGpt, SECTOR, encodeGpt, type GptDisk } from './gpt.js';
import { guidFromBytes, guidToBytes } from './guid.js';

const hasSfdisk = spawnSync('sh', ['-c', 'command -v sfdisk'], { stdio: 'ignore' }).status === 0;

describe('crc32', () => {
  it('gives the CRC-32/ISO-HDLC check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  it.skipIf(!zcrc)('agrees with zlib.crc32', () => {
    const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7919) & 0xff);
    expect(crc32(data)).toBe(zcrc!(data));
  });
});

describe('GPT GUIDs', () => {
  it('are mixed-endian on disk (UEFI: the ESP type GUID)', () => {
    const b = guidToBytes('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
    expect(Buffer.from(b).toString('hex')).toBe('28732ac11ff8d211ba4b00a0c93ec93b');
    expect(guidFromBytes(b)).toBe('c12a7328-f81f-11d2-ba4b-00a0c93ec93b');
  });
});

// the same table sfdisk writes from a script, so bytes can be compared
const disk: GptDisk = {
  diskGuid: '0de4e6c4-0991-8355-b687-2c43c5caf1f6',
  totalSectors: 16384,
  partitions: [
    { type: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709', uuid: '1357e018-9cfb-8e4a-0cf0-1ba7adbb6f82', firstLba: 2048, lastLba: 6143, name: 'root-x86-64', attributes: ATTR.readOnly },
    { type: '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5', uuid: 'e31b917a-b914-52c7-6af0-7114ca680d9b', firstLba: 8192, lastLba: 8255, name: 'vérité ✓', attributes: ATTR.requiredPartition | ATTR.readOnly | ATTR.noAuto },
  ],
};
const script = `label: gpt
label-id: 0DE4E6C4-0991-8355-B687-2C43C5CAF1F6
first-lba: 34
start=2048, size=4096, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=1357E018-9CFB-8E4A-0CF0-1BA7ADBB6F82, name="root-x86-64", attrs="GUID:60"
start=8192, size=64, type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, uuid=E31B917A-B914-52C7-6AF0-7114CA680D9B, name="vérité ✓", attrs="RequiredPartition GUID:60,63"
`;

function image(): Uint8Array {
  const g = encodeGpt(disk);
  const img = new Uint8Array(disk.totalSectors * SECTOR);
  img.set(g.head, 0);
  img.set(g.tail, img.length - g.tail.length);
  return img;
}

describe.skipIf(!hasSfdisk)('GPT against sfdisk', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'weld-gpt-'));
  const file = path.join(dir, 'sfdisk.img');
  spawnSync('truncate', ['-s', String(disk.totalSectors * SECTOR), file]);
  const r = spawnSync('sfdisk', ['-q', file], { input: script });
  const theirs = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });

  it('sfdisk wrote its table', () => expect(r.status, r.stderr?.toString()).toBe(0));
  it('writes the same bytes as sfdisk: MBR, headers, both entry arrays', () => {
    expect(Buffer.from(image()).equals(theirs)).toBe(true);
  });
  it('reads what sfdisk wrote', () => {
    const g = readGpt(theirs);
    expect(g.diskGuid).toBe(disk.diskGuid);
    expect(g.partitions.map(({ index: _i, ...p }) => p)).toEqual(disk.partitions);
    expect(g.lastUsableLba).toBe(16384 - 34);
  });
});

describe('GPT reader and writer checks', () => {
  it('detects a corrupt header and entry array', () => {
    const a = image();
    a[SECTOR + 60] ^= 1;
    expect(() => readGpt(a)).toThrow(/header: CRC mismatch/);
    const b = image();
    b[2 * SECTOR + 200] ^= 1;
    expect(() => readGpt(b)).toThrow(/entries: CRC mismatch/);
    const c = image();
    c[c.length - SECTOR + 60] ^= 1;
    expect(() => readGpt(c)).toThrow(/backup/);
  });
  it('refuses overlapping partitions, long names and partitions past the usable area', () => {
    const p = disk.partitions[0]!;
    expect(() => encodeGpt({ ...disk, partitions: [p, { ...p, uuid: disk.partitions[1]!.uuid }] })).toThrow(/overlaps/);
    expect(() => encodeGpt({ ...disk, partitions: [{ ...p, name: 'x'.repeat(37) }] })).toThrow(/36/);
    expect(() => encodeGpt({ ...disk, partitions: [{ ...p, lastLba: 16384 - 34 + 1 }] })).toThrow(/outside/);
  });
  it('dumps every region', () => {
    expect(dumpGpt(disk)).toContain('LBA 16383  backup header');
  });
});

describe('hostile GPTs', () => {
  it('any mutation of the head reads or throws a WeldError, never anything else', async () => {
    const { isWeldError } = await import('../../errors.js');
    let seed = 99;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const img = image();
    const pristine = img.slice(SECTOR, 2 * SECTOR);
    for (let i = 0; i < 300; i++) {
      img.set(pristine, SECTOR);
      // mutate header fields past the CRC, then re-seal it so the field checks run
      for (let k = 0; k < 3; k++) img[SECTOR + 24 + Math.floor(rnd() * (92 - 24))] = Math.floor(rnd() * 256);
      const v = new DataView(img.buffer, SECTOR, 92);
      v.setUint32(16, 0, true);
      v.setUint32(16, crc32(img.subarray(SECTOR, SECTOR + 92)), true);
      try {
        readGpt(img);
      } catch (e) {
        expect(isWeldError(e), String(e)).toBe(true);
      }
    }
  });
});
