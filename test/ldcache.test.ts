import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { ObjectSource } from '../src/store/source.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { has, ROOT, run } from './helpers/tools.js';
import { dlCacheLibcmp, encodeLdCache, readLdCacheGenerator } from '../src/formats/ldcache/cache.js';
import { scanForLdCache, type LdTree } from '../src/linker/ldcache.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const LIBS = [
  'libc6', 'libssl3', 'zlib1g', 'zlib1g-dev', 'libzstd1', 'libstdc++6', 'libgcc-s1', 'libsystemd0', 'libcap2', 'libacl1',
  'libselinux1', 'libpcre2-8-0', 'liblzma5', 'libbz2-1.0', 'libgcrypt20', 'libgpg-error0', 'liblz4-1', 'libcrypt1', 'libattr1',
];
const canRun = has('ldconfig') && has('dpkg-deb') && has('apt-get');

/** LdTree over a real directory, never leaving it; `sources` gets ranged readers (what weld link uses) */
function fsTree(root: string, sources?: ObjectSource[]): LdTree {
  const at = (p: string): string => path.join(root, p);
  const ranged = sources ? { source: (p: string) => (sources.push(new ObjectSource(at(p), statSync(at(p)).size)), sources.at(-1)!) } : {};
  return {
    ...ranged,
    lstat(p) {
      try {
        const s = lstatSync(at(p));
        return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
      } catch {
        return null;
      }
    },
    readlink: (p) => readlinkSync(at(p)),
    readdir: (p) => readdirSync(at(p)),
    readFile: (p) => readFileSync(at(p)),
  };
}

/** A minimal ELF64 x86-64 shared object: one PT_LOAD, a PT_DYNAMIC with DT_STRTAB and DT_SONAME. */
function tinySharedObject(soname: string): Uint8Array {
  const str = Buffer.concat([Buffer.from([0]), Buffer.from(soname, 'utf8'), Buffer.from([0])]);
  const dynOff = 64 + 2 * 56;
  const strOff = dynOff + 3 * 16;
  const size = strOff + str.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(62, 18); // EM_X86_64
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(64, 52);
  b.writeUInt16LE(56, 54);
  b.writeUInt16LE(2, 56);
  const ph = (at: number, type: number, off: number, sz: number): void => {
    b.writeUInt32LE(type, at);
    b.writeUInt32LE(4, at + 4);
    b.writeBigUInt64LE(BigInt(off), at + 8);
    b.writeBigUInt64LE(BigInt(off), at + 16);
    b.writeBigUInt64LE(BigInt(off), at + 24);
    b.writeBigUInt64LE(BigInt(sz), at + 32);
    b.writeBigUInt64LE(BigInt(sz), at + 40);
    b.writeBigUInt64LE(8n, at + 48);
  };
  ph(64, 1, 0, size);
  ph(120, 2, dynOff, 48);
  b.writeBigUInt64LE(5n, dynOff); // DT_STRTAB
  b.writeBigUInt64LE(BigInt(strOff), dynOff + 8);
  b.writeBigUInt64LE(14n, dynOff + 16); // DT_SONAME
  b.writeBigUInt64LE(1n, dynOff + 24);
  b.set(str, strOff);
  return b;
}

/** Extracts packages the way a merged-usr bookworm has them: /lib, /lib64, /bin are links into /usr. */
function makeRoot(dir: string, pkgs: string[], merged = true): void {
  mkdirSync(path.join(dir, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(dir, 'usr/lib64'), { recursive: true });
  mkdirSync(path.join(dir, 'usr/bin'), { recursive: true });
  mkdirSync(path.join(dir, 'etc/ld.so.conf.d'), { recursive: true });
  if (merged) for (const l of ['lib', 'lib64', 'bin', 'sbin']) symlinkSync(`usr/${l === 'sbin' ? 'sbin' : l}`, path.join(dir, l));
  for (const p of pkgs) {
    const deb = readdirSync(DEBS).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'))!;
    run('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"`, 'sh', path.join(DEBS, deb), dir]);
  }
  writeFileSync(path.join(dir, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n\n');
  writeFileSync(path.join(dir, 'etc/ld.so.conf.d/libc.conf'), '# libc default configuration\n/usr/local/lib\n');
  writeFileSync(path.join(dir, 'etc/ld.so.conf.d/x86_64-linux-gnu.conf'), '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n');
}

function ldconfig(root: string): Uint8Array {
  run('ldconfig', ['-X', '-r', root, '-C', '/etc/ld.so.cache.test']);
  return readFileSync(path.join(root, 'etc/ld.so.cache.test'));
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return k;
  return a.length === b.length ? -1 : n;
}

async function expectSameAsLdconfig(root: string): Promise<number> {
  const real = ldconfig(root);
  const generator = readLdCacheGenerator(real)!;
  expect(generator).toMatch(/^ldconfig /);
  const sources: ObjectSource[] = [];
  const libs = await scanForLdCache(fsTree(root));
  // the same scan reading only ELF headers by range must find exactly the same libraries
  expect(await scanForLdCache(fsTree(root, sources))).toEqual(libs);
  expect(sources.length).toBeGreaterThan(0);
  for (const s of sources) s.close();
  const ours = encodeLdCache(libs, { generator });
  const at = firstDiff(ours, real);
  if (process.env.WELD_KEEP) writeFileSync(path.join(root, 'ours.cache'), ours), writeFileSync(path.join(root, 'real.cache'), real);
  if (at >= 0) {
    const list = run('ldconfig', ['-p', '-C', path.join(root, 'etc/ld.so.cache.test')]).stdout.toString();
    expect({ at, ours: ours.length, real: real.length, libs: libs.map((l) => `${l.dir}/${l.name} ${l.soname}`) }).toEqual({ at: -1, list });
  }
  expect(Buffer.from(ours).equals(Buffer.from(real))).toBe(true);
  return libs.length;
}

describe.skipIf(!canRun)('ld.so.cache against ldconfig -X -r ROOT (glibc 2.36)', () => {
  let work: string;
  beforeAll(() => {
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, ...LIBS]);
    work = mkdtempSync(path.join(tmpdir(), 'weld-ldcache-'));
  }, 120_000);
  afterAll(() => (process.env.WELD_KEEP ? console.error(work) : rmSync(work, { recursive: true, force: true })));

  it('is byte-equal for a merged-usr bookworm library set', async () => {
    const root = path.join(work, 'merged');
    makeRoot(root, LIBS);
    const n = await expectSameAsLdconfig(root);
    expect(n).toBeGreaterThan(30);
  }, 60_000);

  it('is byte-equal with digit-heavy sonames, dev links, odd links and linker scripts', async () => {
    const root = path.join(work, 'synthetic');
    makeRoot(root, ['libc6', 'zlib1g', 'zlib1g-dev', 'libssl3']);
    const local = path.join(root, 'usr/local/lib');
    mkdirSync(local, { recursive: true });
    const sonames = ['libfoo.so.9', 'libfoo.so.10', 'libfoo.so.1.2', 'libfoo.so.1.10', 'libfoo2.so', 'libfoo10.so.1', 'libFoo.so.1', 'libfoo.so', 'libfoo-1.so.0', 'libfoo_1.so.0', 'libbar.so.007', 'libbar.so.7x', 'libbar.so.4294967297', 'libcé.so.1', 'libcz.so.1'];
    sonames.forEach((s, k) => writeFileSync(path.join(local, `libsyn${k}.so.${k}.0`), tinySharedObject(s)));
    // same soname twice in one dir: the newer file name wins
    writeFileSync(path.join(local, 'libdup.so.1.9'), tinySharedObject('libdup.so.1'));
    writeFileSync(path.join(local, 'libdup.so.1.10'), tinySharedObject('libdup.so.1'));
    // a soname link, a dev link, a link that is neither, and a dangling one
    symlinkSync('libsyn0.so.0.0', path.join(local, 'libfoo.so.9'));
    symlinkSync('libsyn1.so.1.0', path.join(local, 'libfoo10.so'));
    symlinkSync('libsyn2.so.2.0', path.join(local, 'libother.so.5'));
    symlinkSync('nowhere.so.1', path.join(local, 'libgone.so.1'));
    // the same soname as a system library: both directories keep their entry, in search order
    copyFileSync(path.join(root, 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13'), path.join(local, 'libz.so.1.2.13'));
    writeFileSync(path.join(local, 'libscript.so'), 'GROUP ( /usr/lib/libfoo.so.9 )\n');
    writeFileSync(path.join(local, 'notalib.so.1'), tinySharedObject('notalib.so.1'));
    await expectSameAsLdconfig(root);
  }, 60_000);

  it('is byte-equal for an unmerged tree (/lib and /usr/lib distinct)', async () => {
    const root = path.join(work, 'unmerged');
    makeRoot(root, ['libc6', 'zlib1g', 'libzstd1', 'libssl3', 'libacl1', 'libattr1'], false);
    // the same library in both multiarch dirs
    copyFileSync(path.join(root, 'usr/lib/x86_64-linux-gnu/libzstd.so.1.5.4'), path.join(root, 'lib/x86_64-linux-gnu/libzstd.so.1.5.4'));
    await expectSameAsLdconfig(root);
  }, 60_000);
});

describe('_dl_cache_libcmp order', () => {
  const sorted = (names: string[]): string[] => [...names].sort(dlCacheLibcmp);
  it('compares digit runs numerically, not bytewise', () => {
    expect(sorted(['libfoo.so.10', 'libfoo.so.9', 'libfoo.so.1'])).toEqual(['libfoo.so.1', 'libfoo.so.9', 'libfoo.so.10']);
    expect(dlCacheLibcmp('libm.so.6', 'libmvec.so.1')).toBeLessThan(0);
    expect(dlCacheLibcmp('libcrypto.so.3', 'libssl.so.3')).toBeLessThan(0);
    expect(dlCacheLibcmp('libfoo.so.007', 'libfoo.so.7')).toBe(0);
    // a digit sorts after any non-digit
    expect(dlCacheLibcmp('libfoo2.so', 'libfoo.so')).toBeGreaterThan(0);
    expect(dlCacheLibcmp('libfoo.so', 'libfoo.so.1')).toBeLessThan(0);
  });
});
