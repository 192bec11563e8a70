import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWeldError } from '../errors.js';
import { ddiLayout } from '../formats/ddi/index.js';
import { writeNewc } from './newc.js';
import { moduleSoftdeps, readModinfo } from './modinfo.js';
import { planModules, type ModuleSources } from './modules.js';
import { initScript, probeFunctions } from './init.js';
import { has, ROOT, run } from '../../test/helpers/tools.js';

let work = '';
beforeAll(() => void (work = mkdtempSync(path.join(tmpdir(), 'weld-initramfs-'))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(!has('cpio'))('newc writer (GNU cpio as oracle)', () => {
  it('writes dirs, files, symlinks and device nodes that cpio extracts as written', () => {
    const data = randomBytes(5003);
    const img = writeNewc(
      [
        { type: 'dir', path: '/bin', mode: 0o755 },
        { type: 'file', path: '/bin/tool', mode: 0o750, data },
        { type: 'file', path: '/empty', mode: 0o644, data: new Uint8Array(0) },
        { type: 'symlink', path: '/bin/sh', target: 'tool' },
        { type: 'dir', path: '/dev', mode: 0o755 },
        { type: 'char', path: '/dev/console', mode: 0o600, major: 5, minor: 1 },
      ],
      { mtime: 1700000000 },
    );
    const list = run('cpio', ['-tv', '--quiet'], { input: img }).stdout.toString();
    expect(list).toMatch(/^crw------- .* 5, +1 .* dev\/console$/m);
    expect(list).toMatch(/^lrwxrwxrwx .* bin\/sh -> tool$/m);
    const out = path.join(work, 'x');
    run('sh', ['-c', `mkdir -p '${out}' && cd '${out}' && cpio -idm --quiet --no-absolute-filenames`], { input: img });
    expect(readFileSync(path.join(out, 'bin/tool')).equals(data)).toBe(true);
    expect(statSync(path.join(out, 'bin/tool')).mode & 0o7777).toBe(0o750);
    expect(statSync(path.join(out, 'bin/tool')).mtimeMs).toBe(1700000000 * 1000);
    expect(readlinkSync(path.join(out, 'bin/sh'))).toBe('tool');
    expect(readFileSync(path.join(out, 'empty')).length).toBe(0);
    expect(img.length % 4).toBe(0);
  });
  it('refuses children before parents, duplicates and escaping names', () => {
    expect(() => writeNewc([{ type: 'dir', path: '/a/b', mode: 0o755 }], { mtime: 0 })).toThrow(/before its directory/);
    expect(() => writeNewc([{ type: 'dir', path: '/a', mode: 0o755 }, { type: 'dir', path: '/a', mode: 0o755 }], { mtime: 0 })).toThrow(/twice/);
    expect(() => writeNewc([{ type: 'symlink', path: '/../x', target: 'y' }], { mtime: 0 })).toThrow(/\.\./);
  });
});

const KO_DIR = path.join(ROOT, 'fixtures/.cache/deb');
const kernelDeb = existsSync(KO_DIR) ? readdirSync(KO_DIR).find((f) => /^linux-image-\d.*\.deb$/.test(f)) : undefined;

describe.skipIf(!kernelDeb || !has('objcopy'))('modinfo reader (objcopy as oracle)', () => {
  const mods: Record<string, Uint8Array> = {};
  beforeAll(() => {
    const x = path.join(work, 'k');
    run('sh', ['-c', `mkdir -p '${x}' && dpkg-deb --fsys-tarfile '${path.join(KO_DIR, kernelDeb!)}' | tar -x -C '${x}' --wildcards './lib/modules/*/kernel/drivers/md/dm-verity.ko' './lib/modules/*/kernel/lib/libcrc32c.ko' './lib/modules/*/kernel/fs/erofs/erofs.ko'`]);
    for (const f of run('find', [x, '-name', '*.ko']).stdout.toString().trim().split('\n')) mods[path.basename(f)] = readFileSync(f);
  });
  it('reads the same key=value strings objcopy extracts from .modinfo', () => {
    for (const [name, buf] of Object.entries(mods)) {
      const ko = path.join(work, name);
      writeFileSync(ko, buf);
      run('objcopy', ['-O', 'binary', '--only-section=.modinfo', ko, ko + '.modinfo']);
      const want = readFileSync(ko + '.modinfo', 'latin1').split('\0').filter((s) => s.includes('='));
      const info = readModinfo(buf);
      const got = [...info].flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`));
      expect(got.sort(), name).toEqual(want.sort());
    }
    expect(readModinfo(mods['dm-verity.ko']!).get('depends')![0]!.split(',').sort()).toEqual(['dm-bufio', 'dm-mod', 'reed_solomon']);
    expect(moduleSoftdeps(readModinfo(mods['libcrc32c.ko']!)).pre).toEqual(['crc32c']);
  });
  it('turns truncation anywhere into a format error, never a crash', () => {
    const buf = mods['erofs.ko']!;
    for (let n = 0; n < buf.length; n += Math.max(1, Math.floor(buf.length / 300))) {
      try {
        readModinfo(buf.subarray(0, n));
      } catch (e) {
        expect(isWeldError(e) && e.kind === 'format', String(e)).toBe(true);
      }
    }
  });
});

describe('module planning', () => {
  const table: Record<string, { depends?: string; softdep?: string; alias?: string[] }> = {
    dm_mod: {},
    dm_bufio: { depends: 'dm-mod' },
    reed_solomon: {},
    dm_verity: { depends: 'reed_solomon,dm-mod,dm-bufio' },
    libcrc32c: { softdep: 'pre: crc32c' },
    crc32c_generic: { alias: ['crc32c', 'crypto-crc32c'] },
    crc32c_intel: { alias: ['crc32c'] },
    erofs: { depends: 'libcrc32c' },
    needs_gone: { depends: 'gone' },
  };
  const src = (builtin: string[] = []): ModuleSources => ({
    builtin: new Set(builtin),
    byName: (n) => {
      const t = table[n];
      if (!t) return null;
      const info = new Map<string, string[]>([['depends', [t.depends ?? '']]]);
      if (t.softdep) info.set('softdep', [t.softdep]);
      if (t.alias) info.set('alias', t.alias);
      return { name: n, path: `/lib/modules/V/kernel/${n}.ko`, info };
    },
    byAlias: (a) => Object.keys(table).filter((n) => table[n]!.alias?.includes(a)),
  });
  const order = async (wanted: string[], builtin?: string[]) => (await planModules(wanted, src(builtin), 'test')).load.map((m) => `${m.name}${m.optional ? '?' : ''}`);
  it.each([
    [['dm_verity'], [], ['reed_solomon', 'dm_mod', 'dm_bufio', 'dm_verity']],
    [['dm-verity', 'dm_mod'], [], ['reed_solomon', 'dm_mod', 'dm_bufio', 'dm_verity']],
    [['dm_verity'], ['dm_mod'], ['reed_solomon', 'dm_bufio', 'dm_verity']],
    // softdeps may name an alias; the portable implementation wins
    [['erofs'], [], ['crc32c_generic?', 'libcrc32c', 'erofs']],
  ])('%j (built in: %j) loads %j', async (wanted, builtin, want) => expect(await order(wanted, builtin)).toEqual(want));
  it('names the chain when a hard dependency is missing', async () => {
    await expect(order(['needs_gone'])).rejects.toThrow(/Kernel test has no module gone \(needed by needs_gone\)/);
    await expect(order(['dm_verity', 'virtio_blk'])).rejects.toThrow(/no module virtio_blk:/);
  });
});

describe.skipIf(!has('busybox') || !has('veritysetup') || !has('sfdisk'))('/init disk probing (busybox sh on a DDI; sfdisk and veritysetup as oracles)', () => {
  const cases = [
    { name: 'sha256, salted, 4096', args: [] as string[], blocks: 37 },
    { name: 'sha512, no salt', args: ['--hash=sha512', '--salt=-'], blocks: 300 },
  ];
  it.each(cases)('$name: finds both partitions and rebuilds the table veritysetup describes', ({ args, blocks }) => {
    const data = path.join(work, `data-${blocks}`);
    const hash = path.join(work, `hash-${blocks}`);
    writeFileSync(data, randomBytes(blocks * 4096));
    const fmt = run('veritysetup', ['format', data, hash, ...args]).stdout.toString();
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(fmt)![1]!.trim();
    const rootHash = field('Root hash');
    const hashBytes = readFileSync(hash);
    const veritySize = Math.ceil(hashBytes.length / 4096) * 4096;
    const l = ddiLayout({ rootSize: blocks * 4096, veritySize, rootHash });
    const disk = Buffer.alloc(l.totalSize);
    Buffer.from(l.headBytes).copy(disk, 0);
    Buffer.from(l.tailBytes).copy(disk, l.totalSize - l.tailBytes.length);
    readFileSync(data).copy(disk, l.partitions[0]!.start);
    hashBytes.copy(disk, l.partitions[1]!.start);
    const img = path.join(work, `disk-${blocks}.img`);
    writeFileSync(img, disk);
    const sf = JSON.parse(run('sfdisk', ['-J', img]).stdout.toString()).partitiontable.partitions as { start: number; size: number }[];
    const sh = (body: string) => run('busybox', ['sh', '-c', `${probeFunctions()}\n${body}`]).stdout.toString().trim();
    expect(sh(`probe_ddi '${img}' ${rootHash}`)).toBe(`1 ${sf[0]!.start} ${sf[0]!.size} 2 ${sf[1]!.start} ${sf[1]!.size}`);
    const hashType = field('Hash type');
    const salt = field('Salt');
    const alg = field('Hash algorithm');
    expect(sh(`VERITY_OPTS=' 1 restart_on_corruption'; verity_table DATA '${hash}' ${rootHash}`)).toBe(
      `0 ${blocks * 8} verity ${hashType} DATA ${hash} 4096 4096 ${field('Data blocks')} 1 ${alg} ${rootHash} ${salt} 1 restart_on_corruption`,
    );
    // a disk with another root hash still finds its single pair, so dm-verity decides
    expect(sh(`probe_ddi '${img}' ${'0'.repeat(64)}`)).toBe(`1 ${sf[0]!.start} ${sf[0]!.size} 2 ${sf[1]!.start} ${sf[1]!.size}`);
    // not a verity superblock: no table
    expect(run('busybox', ['sh', '-c', `${probeFunctions()}\nverity_table DATA '${data}' ${rootHash}`], { allowFail: true }).status).not.toBe(0);
  });
  it('the whole /init parses (sh -n) and carries the variant options', () => {
    const s = initScript({ modules: [{ file: 'dm_mod.ko', optional: false }], verityOptions: ['restart_on_corruption'], writable: ['/var', '/etc'], defaultInit: '/sbin/init', libraryPath: '/lib/weld' });
    expect(run('busybox', ['sh', '-n', '-c', s], { allowFail: true }).status).toBe(0);
    expect(s).toContain('VERITY_OPTS=" 1 restart_on_corruption"');
    expect(s).toContain('WRITABLE="/etc /var"');
    expect(s).not.toContain('ignore_zero_blocks');
    expect(() => initScript({ modules: [], verityOptions: [], writable: ['/e tc; rm -rf /'], defaultInit: '/sbin/init', libraryPath: '/lib' })).toThrow();
  });
});
