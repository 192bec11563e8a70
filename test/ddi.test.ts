/**
 * A DDI built from a random 3 MiB "filesystem" and its verity tree, checked
 * with sfdisk (--json, --verify) and veritysetup verify on the partitions.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGpt } from '../src/formats/gpt/index.js';
import { ddiLayout, ddiPieces, dumpDdi, DPS_X86_64, MIB } from '../src/formats/ddi/index.js';
import { bufferReader, deriveUuid, hashData, hashDevice, verify } from '../src/verity/index.js';
import { has, run } from './helpers/tools.js';

const HAVE = has('sfdisk') && has('veritysetup');
const dir = mkdtempSync(path.join(tmpdir(), 'weld-ddi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pseudoRandom(n: number, seed: string): Uint8Array {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Uint8Array.from(Buffer.concat([c.update(Buffer.alloc(n)), c.final()]));
}

interface SfdiskPart {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid: string;
  name: string;
  attrs?: string;
}

describe.skipIf(!HAVE)('DDI layout', async () => {
  const rootFs = pseudoRandom(3 * MIB, 'ddi-root');
  const salt = createHash('sha256').update('weld test store salt').digest();
  const tree = await hashData(rootFs, { salt });
  const uuid = deriveUuid('verity', salt, tree.rootHash);
  const verityBytes = hashDevice(tree, uuid);
  const layout = ddiLayout({ rootSize: rootFs.length, veritySize: verityBytes.length, rootHash: tree.rootHash });
  const img = path.join(dir, 'root.img');

  // stream the pieces in order, as `weld link > root.img` would
  const fd = openSync(img, 'w');
  let written = 0;
  for (const p of ddiPieces(layout)) {
    expect(p.offset).toBe(written);
    const data = p.kind === 'bytes' ? p.data : p.kind === 'zero' ? new Uint8Array(p.size) : p.role === 'root' ? rootFs : verityBytes;
    writeSync(fd, data);
    written += data.length;
  }
  closeSync(fd);

  it('is streamed to exactly totalSize bytes', () => {
    expect(written).toBe(layout.totalSize);
    expect(readFileSync(img).length).toBe(layout.totalSize);
  });

  it('sfdisk --json sees the DPS types, root-hash UUIDs, labels, 1 MiB aligned starts, read-only flags', () => {
    const json = JSON.parse(run('sfdisk', ['--json', img]).stdout.toString()) as { partitiontable: { label: string; id: string; sectorsize: number; partitions: SfdiskPart[] } };
    const t = json.partitiontable;
    expect(t.label).toBe('gpt');
    expect(t.id.toLowerCase()).toBe(layout.diskGuid);
    expect(t.sectorsize).toBe(512);
    const [root, ver] = t.partitions;
    expect(t.partitions.length).toBe(2);
    expect(root!.type.toLowerCase()).toBe(DPS_X86_64.root);
    expect(ver!.type.toLowerCase()).toBe(DPS_X86_64.rootVerity);
    // sfdisk prints the UUIDs; without dashes they are the root hash's halves
    expect(root!.uuid.replace(/-/g, '').toLowerCase()).toBe(tree.rootHex.slice(0, 32));
    expect(ver!.uuid.replace(/-/g, '').toLowerCase()).toBe(tree.rootHex.slice(32, 64));
    expect(root!.name).toBe('root-x86-64');
    expect(ver!.name).toBe('root-x86-64-verity');
    expect(root!.attrs).toBe('GUID:60');
    expect(ver!.attrs).toBe('GUID:60');
    for (const [p, want] of [
      [root!, rootFs.length],
      [ver!, verityBytes.length],
    ] as const) {
      expect((p.start * 512) % MIB).toBe(0);
      expect(p.size * 512).toBe(want);
    }
    expect(root!.start * 512).toBe(layout.partitions[0]!.start);
    expect(ver!.start * 512).toBe(layout.partitions[1]!.start);
  });

  it('sfdisk --verify finds no errors', () => {
    const r = run('sfdisk', ['--verify', img], { allowFail: true });
    expect(r.status, r.stdout.toString() + r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain('No errors detected');
  });

  it('our reader reads back what sfdisk reads', () => {
    const g = readGpt(readFileSync(img));
    expect(g.partitions.map((p) => [p.type, p.uuid, p.firstLba, p.lastLba, p.name, p.attributes])).toEqual(layout.gpt.partitions.map((p) => [p.type, p.uuid, p.firstLba, p.lastLba, p.name, p.attributes]));
  });

  it('veritysetup verify accepts the partitions with the root hash, and rejects a flipped byte', () => {
    const data = path.join(dir, 'root.part');
    run('dd', [`if=${img}`, `of=${data}`, 'bs=4096', `skip=${layout.partitions[0]!.start / 4096}`, `count=${rootFs.length / 4096}`, 'status=none']);
    const hashOffset = String(layout.partitions[1]!.start);
    expect(run('veritysetup', ['verify', '--hash-offset', hashOffset, data, img, tree.rootHex], { allowFail: true }).status).toBe(0);
    const bad = readFileSync(data);
    bad[123456] ^= 1;
    const badFile = path.join(dir, 'root.bad');
    writeFileSync(badFile, bad);
    expect(run('veritysetup', ['verify', '--hash-offset', hashOffset, badFile, img, tree.rootHex], { allowFail: true }).status).toBe(2);
  });

  it('our verify() reads the verity partition in place (superblock at its offset 0)', async () => {
    const disk = readFileSync(img);
    const rootPart = disk.subarray(layout.partitions[0]!.start, layout.partitions[0]!.start + rootFs.length);
    expect(await verify(bufferReader(rootPart), bufferReader(disk), tree.rootHex, { hashOffset: layout.partitions[1]!.start })).toEqual({ ok: true });
  });

  it('dump() names every region', () => {
    const d = dumpDdi(layout);
    expect(d).toContain('root-x86-64-verity');
    expect(d).toContain(tree.rootHex);
    expect(d).toContain('backup GPT');
  });
  // systemd-dissect needs a real filesystem in the root partition (it reads os-release):
  // test/link.test.ts dissects a weld-linked image with its root hash.
});

describe('DDI layout inputs', () => {
  it('rejects sizes that are not whole 4096-byte blocks and short root hashes', () => {
    expect(() => ddiLayout({ rootSize: 4097, veritySize: 8192, rootHash: 'ab'.repeat(32) })).toThrow(/multiple of 4096/);
    expect(() => ddiLayout({ rootSize: 4096, veritySize: 8192, rootHash: 'ab'.repeat(16) })).toThrow(/256 bits/);
  });
  it('is deterministic: the same root hash gives the same head and tail bytes', () => {
    const a = ddiLayout({ rootSize: 8 * MIB, veritySize: 20480, rootHash: 'cd'.repeat(32) });
    const b = ddiLayout({ rootSize: 8 * MIB, veritySize: 20480, rootHash: 'cd'.repeat(32) });
    expect(Buffer.from(a.headBytes).equals(Buffer.from(b.headBytes))).toBe(true);
    expect(Buffer.from(a.tailBytes).equals(Buffer.from(b.tailBytes))).toBe(true);
    expect(a.totalSize % MIB).toBe(0);
  });
});
