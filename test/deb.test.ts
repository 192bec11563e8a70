import { beforeAll, describe, expect, it } from 'vitest';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, linkSync, symlinkSync, chmodSync, utimesSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, has, run } from './helpers/tools.js';
import { readDeb } from '../src/importer/deb.js';
import { decodeCaps } from '../src/formats/caps/caps.js';
import { parseControl } from '../src/formats/deb/control.js';
import { parseDepends } from '../src/formats/deb/depends.js';
import { parseControlVersion } from '../src/formats/deb/version.js';
import { memorySink, hashOnlySink } from '../src/store/sink.js';
import { blake3Hex } from '../src/store/hash.js';
import { encodeAr } from '../src/formats/ar/write.js';
import { encodeTar, type TarWriteEntry } from '../src/formats/tar/write.js';
import { isWeldError } from '../src/errors.js';
import type { ContentSink, DepEntry, FileEntry, Limits, PackageMeta } from '../src/model.js';

const CACHE = path.join(ROOT, 'fixtures/.cache/deb');
const BUILT = path.join(ROOT, 'fixtures/.cache/deb-built');
const DEBIAN = ['base-files', 'coreutils', 'bash', 'libc6', 'dpkg', 'passwd', 'systemd', 'iputils-ping', 'tzdata'];
const ok = has('dpkg-deb');

function debFor(pkg: string): string {
  const f = readdirSync(CACHE).find((n) => n.startsWith(pkg + '_') && n.endsWith('.deb'));
  if (!f) throw new Error(`no ${pkg} in ${CACHE}`);
  return path.join(CACHE, f);
}

/** Builds small .debs with dpkg-deb itself: hardlinks, symlinks, conffiles, devices, a non-UTF-8 name. */
function buildOwnDebs(): string[] {
  const out: string[] = [];
  mkdirSync(BUILT, { recursive: true });
  for (const z of ['xz', 'gzip', 'zstd', 'none']) {
    const deb = path.join(BUILT, `weld-test-${z}.deb`);
    out.push(deb);
    if (existsSync(deb)) continue;
    const root = mkdtempSync(path.join(tmpdir(), 'weld-debsrc-'));
    mkdirSync(path.join(root, 'DEBIAN'));
    mkdirSync(path.join(root, 'etc/weld'), { recursive: true });
    mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    mkdirSync(path.join(root, 'usr/share/weld'), { recursive: true });
    writeFileSync(path.join(root, 'etc/weld/weld.conf'), 'key = value\n');
    writeFileSync(path.join(root, 'usr/bin/weld-tool'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(root, 'usr/bin/weld-tool'), 0o4755);
    linkSync(path.join(root, 'usr/bin/weld-tool'), path.join(root, 'usr/bin/weld-tool2'));
    symlinkSync('weld-tool', path.join(root, 'usr/bin/weld-link'));
    writeFileSync(path.join(root, 'usr/share/weld/empty'), '');
    writeFileSync(path.join(root, 'usr/share/weld/big'), Buffer.alloc(300000, 'abc'));
    writeFileSync(Buffer.from(path.join(root, 'usr/share/weld/caf\xe9-latin1'), 'latin1'), 'latin1 name\n');
    writeFileSync(path.join(root, 'usr/share/weld/with space'), 'space\n');
    run('mknod', [path.join(root, 'usr/share/weld/null'), 'c', '1', '3']);
    run('mkfifo', [path.join(root, 'usr/share/weld/fifo')]);
    chmodSync(path.join(root, 'usr/share/weld'), 0o2775);
    writeFileSync(
      path.join(root, 'DEBIAN/control'),
      [
        'Package: weld-test',
        'Version: 2:1.0~rc1-3+b1',
        'Architecture: amd64',
        'Maintainer: Weld Tester <weld@example.org>',
        'Installed-Size: 300',
        'Section: utils',
        'Homepage: https://example.org/weld',
        'Source: weld-src (1.0~rc1-3)',
        'Pre-Depends: libc6 (>= 2.34)',
        'Depends: foo (<< 2), bar:any | baz (= 1.0-1),',
        ' qux (> 3), old (< 2)',
        'Provides: weld-virtual (= 1)',
        'Breaks: weld-old (<< 1)',
        'Replaces: weld-old (<< 1)',
        'Recommends: r1',
        'Suggests: s1 | s2',
        'Enhances: e1',
        'Conflicts: c1',
        'Description: a test package for weld',
        ' First line of the long description.',
        ' .',
        '  indented line',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(root, 'DEBIAN/conffiles'), '/etc/weld/weld.conf\n');
    writeFileSync(path.join(root, 'DEBIAN/postinst'), '#!/bin/sh -e\nldconfig\n');
    writeFileSync(path.join(root, 'DEBIAN/prerm'), '#! /usr/bin/perl\nprint 1;\n');
    writeFileSync(path.join(root, 'DEBIAN/triggers'), 'activate-noawait ldconfig\n');
    chmodSync(path.join(root, 'DEBIAN/postinst'), 0o755);
    chmodSync(path.join(root, 'DEBIAN/prerm'), 0o755);
    const sums = run('sh', ['-c', "find . -path ./DEBIAN -prune -o -type f -printf '%P\\0' | sort -z | xargs -0 md5sum"], { cwd: root }).stdout;
    writeFileSync(path.join(root, 'DEBIAN/md5sums'), sums);
    for (const p of ['etc', 'etc/weld', 'etc/weld/weld.conf', 'usr/bin/weld-tool', 'usr/share/weld/big']) utimesSync(path.join(root, p), 1600000000, 1600000000);
    run('dpkg-deb', ['--root-owner-group', `-Z${z}`, '--build', root, deb]);
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

async function read(file: string, sink: ContentSink = memorySink(), limits?: Partial<Limits>): Promise<PackageMeta> {
  return readDeb(createReadStream(file), { sink, where: path.basename(file), limits });
}

/** what `ls -l` / tar -tv print for a mode */
function modeString(f: FileEntry, tarHardlink: boolean): string {
  const t = { file: tarHardlink ? 'h' : '-', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' }[f.type];
  const m = f.mode;
  const rwx = (r: number, w: number, x: number, special: number, ch: string) =>
    (m & r ? 'r' : '-') + (m & w ? 'w' : '-') + (m & special ? (m & x ? ch : ch.toUpperCase()) : m & x ? 'x' : '-');
  return t + rwx(0o400, 0o200, 0o100, 0o4000, 's') + rwx(0o40, 0o20, 0o10, 0o2000, 's') + rwx(0o4, 0o2, 0o1, 0o1000, 't');
}

function utcMinute(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

/** Parses `dpkg-deb -c` (GNU tar -tv) lines; names are kept as latin1 so any byte survives. */
function dpkgList(deb: string) {
  const out = run('dpkg-deb', ['-c', deb], { env: { ...process.env, TZ: 'UTC' } }).stdout.toString('latin1');
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S{10}) (\S+)\/(\S+)\s+(\S+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/.exec(line);
      if (!m) throw new Error(`cannot parse dpkg-deb -c line ${line}`);
      // dpkg-deb -c C-escapes names: "\\" for a backslash, "\ooo" for other bytes
      let name = m[6]!.replace(/\\(\\|[0-7]{3})/g, (_, e: string) => (e === '\\' ? '\\' : String.fromCharCode(parseInt(e, 8))));
      let link = '';
      if (m[1]![0] === 'l') [name, link] = name.split(' -> ') as [string, string];
      if (m[1]![0] === 'h') [name, link] = name.split(' link to ') as [string, string];
      return { perms: m[1]!, user: m[2]!, group: m[3]!, size: m[4]!, mtime: m[5]!, name, link };
    });
}

function renderDeps(deps: DepEntry[]): string {
  const one = (d: { name: string; op: string; evr: string }) => (d.op ? `${d.name} (${d.op} ${d.evr})` : d.name);
  return deps.map((d) => ('anyOf' in d ? d.anyOf.map(one).join(' | ') : one(d))).join(', ');
}

function latin1Path(f: FileEntry): string {
  return '.' + (f.pathBytes ? Buffer.from(f.pathBytes).toString('latin1') : Buffer.from(f.path).toString('latin1'));
}

describe.skipIf(!ok)('readDeb against dpkg-deb', () => {
  const debs: string[] = [];
  beforeAll(() => {
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), CACHE, ...DEBIAN]);
    debs.push(...DEBIAN.map(debFor), ...buildOwnDebs());
  });

  it.each([...DEBIAN, 'weld-test-xz', 'weld-test-gzip', 'weld-test-zstd', 'weld-test-none'])('%s matches dpkg-deb -c, -f, -e and -x', async (pkg) => {
    const deb = pkg.startsWith('weld-test') ? path.join(BUILT, `${pkg}.deb`) : debFor(pkg);
    const sink = memorySink();
    const meta = await read(deb, sink);

    // file list: dpkg-deb -c
    const listed = dpkgList(deb).filter((l) => l.name !== './');
    expect(meta.files.map(latin1Path)).toEqual(listed.map((l) => l.name.replace(/\/$/, '')));
    const hardlinkNames = new Set(listed.filter((l) => l.perms[0] === 'h').map((l) => l.name));
    meta.files.forEach((f, i) => {
      const l = listed[i]!;
      const isLink = hardlinkNames.has(latin1Path(f));
      expect(modeString(f, isLink), l.name).toBe(l.perms);
      expect(`${f.user}/${f.group}`, l.name).toBe(`${l.user}/${l.group}`);
      expect(utcMinute(f.mtime), l.name).toBe(l.mtime);
      if (f.type === 'char' || f.type === 'block') expect(`${f.rdevMajor},${f.rdevMinor}`).toBe(l.size);
      else if (f.type === 'file' && !isLink) expect(String(f.size), l.name).toBe(l.size);
      if (f.type === 'symlink') expect(f.target).toBe(l.link);
      if (isLink) {
        const target = meta.files.find((g) => latin1Path(g) === l.link)!;
        expect(f.hardlink).toBeGreaterThan(0);
        expect(target.hardlink).toBe(f.hardlink);
        expect(f.object).toBe(target.object);
      }
    });

    // control fields: dpkg-deb -f
    // one dpkg-deb -f call for every field: "Field: value" with continuation lines
    const ctlFields = new Map<string, string>();
    for (const para of run('dpkg-deb', ['-f', deb]).stdout.toString().replace(/\n$/, '').split(/\n(?=\S)/)) {
      const c = para.indexOf(':');
      ctlFields.set(para.slice(0, c).toLowerCase(), para.slice(c + 1).replace(/^ /, ''));
    }
    const field = (k: string) => ctlFields.get(k.toLowerCase()) ?? '';
    expect(meta.name).toBe(field('Package'));
    const v = field('Version');
    expect((meta.epoch !== null ? `${meta.epoch}:` : '') + meta.version + (meta.release ? `-${meta.release}` : '')).toBe(v);
    expect(meta.arch).toBe(field('Architecture'));
    expect(meta.packager).toBe(field('Maintainer'));
    expect(meta.group).toBe(field('Section'));
    expect(meta.url).toBe(field('Homepage'));
    expect(meta.sourceRpm).toBe(field('Source'));
    expect(meta.installedSize).toBe(Number(field('Installed-Size')) * 1024);
    const desc = field('Description').split('\n');
    expect(meta.summary).toBe(desc[0]);
    expect(meta.description.split('\n').length).toBe(desc.length - 1);
    const deps: [string, DepEntry[]][] = [
      ['Depends', meta.requires], ['Pre-Depends', meta.preDepends], ['Provides', meta.provides], ['Conflicts', meta.conflicts],
      ['Breaks', meta.breaks], ['Replaces', meta.replaces], ['Recommends', meta.recommends], ['Suggests', meta.suggests], ['Enhances', meta.enhances],
    ];
    for (const [k, got] of deps) {
      const want = field(k).replace(/\s*\n\s*/g, ' ').replace(/\s*\[[^\]]*\]/g, '').replace(/\s*<[!a-z][^>]*>/g, '').replace(/\(\s*([<>=]+)\s*/g, '($1 ').replace(/\(< /g, '(<= ').replace(/\(> /g, '(>= ').replace(/,\s*$/, '').trim();
      expect(renderDeps(got), k).toBe(want);
    }

    // maintainer scripts and conffiles: dpkg-deb -e
    const ctl = mkdtempSync(path.join(tmpdir(), 'weld-ctl-'));
    run('dpkg-deb', ['-e', deb, ctl]);
    for (const phase of ['preinst', 'postinst', 'prerm', 'postrm', 'triggers']) {
      const s = meta.scriptlets.find((x) => x.phase === phase);
      if (!existsSync(path.join(ctl, phase))) {
        expect(s, phase).toBeUndefined();
        continue;
      }
      expect(s!.body).toBe(readFileSync(path.join(ctl, phase), 'utf8'));
      const shebang = /^#!\s*(\S+)/.exec(s!.body);
      expect(s!.interpreter).toBe(phase === 'triggers' ? '' : shebang?.[1] ?? '');
    }
    const conffiles = existsSync(path.join(ctl, 'conffiles')) ? readFileSync(path.join(ctl, 'conffiles'), 'utf8').split('\n').filter(Boolean) : [];
    expect(meta.files.filter((f) => f.flags.includes('config')).map((f) => f.path)).toEqual(conffiles.filter((c) => meta.files.some((f) => f.path === c)));
    const md5sums = existsSync(path.join(ctl, 'md5sums')) ? readFileSync(path.join(ctl, 'md5sums'), 'latin1') : '';
    const md5Count = md5sums.split('\n').filter(Boolean).length;
    expect(meta.files.filter((f) => f.digest !== '').length).toBe(md5Count);
    rmSync(ctl, { recursive: true, force: true });

    // contents: dpkg-deb -x, BLAKE3 of every regular file
    const x = mkdtempSync(path.join(tmpdir(), 'weld-x-'));
    run('dpkg-deb', ['-x', deb, x]);
    let regular = 0;
    for (const f of meta.files) {
      if (f.type !== 'file') continue;
      regular++;
      const bytes = readFileSync(f.pathBytes ? Buffer.concat([Buffer.from(x), Buffer.from(f.pathBytes)]) : path.join(x, f.path));
      expect(f.object, f.path).toBe(blake3Hex(bytes));
      expect(sink.objects.get(f.object)?.equals(bytes), f.path).toBe(true);
      if (f.digest) expect(f.digest).toBe(createHash('md5').update(bytes).digest('hex'));
    }
    expect(regular).toBeGreaterThan(0);
    rmSync(x, { recursive: true, force: true });
    expect(meta.payload.size).toBe(run('dpkg-deb', ['--fsys-tarfile', deb]).stdout.length);
  });

  it('reads the own-built package exactly', async () => {
    const meta = await read(path.join(BUILT, 'weld-test-zstd.deb'));
    expect(meta).toMatchObject({ name: 'weld-test', epoch: 2, version: '1.0~rc1', release: '3+b1', formatVersion: '2.0', sourceRpm: 'weld-src (1.0~rc1-3)' });
    expect(meta.payload.compressor).toBe('zstd');
    expect(meta.description).toBe('First line of the long description.\n\n indented line');
    expect(meta.requires).toEqual([
      { name: 'foo', op: '<<', evr: '2' },
      { anyOf: [{ name: 'bar:any', op: '', evr: '' }, { name: 'baz', op: '=', evr: '1.0-1' }] },
      { name: 'qux', op: '>=', evr: '3' },
      { name: 'old', op: '<=', evr: '2' },
    ]);
    const byPath = new Map(meta.files.map((f) => [f.path, f]));
    expect(byPath.get('/etc/weld/weld.conf')!.flags).toEqual(['config']);
    expect(byPath.get('/usr/bin/weld-tool')!.mode).toBe(0o104755);
    expect(byPath.get('/usr/share/weld')!.mode).toBe(0o042775);
    expect(byPath.get('/usr/share/weld/null')).toMatchObject({ type: 'char', rdevMajor: 1, rdevMinor: 3, mode: 0o020644 });
    expect(byPath.get('/usr/share/weld/fifo')!.type).toBe('fifo');
    expect(byPath.get('/usr/bin/weld-link')).toMatchObject({ type: 'symlink', target: 'weld-tool', size: 9 });
    const latin = meta.files.find((f) => f.pathBytes)!;
    expect(latin.path).toBe('/usr/share/weld/caf\\xe9-latin1');
    expect(Buffer.from(latin.pathBytes!).toString('latin1')).toBe('/usr/share/weld/caf\xe9-latin1');
    expect(meta.scriptlets.map((s) => [s.phase, s.interpreter])).toEqual([['postinst', '/bin/sh'], ['prerm', '/usr/bin/perl'], ['triggers', '']]);
    expect(byPath.has('/')).toBe(false);
  });

  it('gives the same result whole, byte by byte and in random chunks', async () => {
    const buf = readFileSync(path.join(BUILT, 'weld-test-none.deb'));
    const whole = await readDeb(chunked(buf, buf.length), { sink: hashOnlySink(), where: 'w.deb' });
    async function* random(): AsyncGenerator<Uint8Array> {
      let s = 9;
      for (let i = 0; i < buf.length; ) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (s % 97);
        yield buf.subarray(i, i + n);
        i += n;
      }
    }
    expect(await readDeb(random(), { sink: hashOnlySink(), where: 'w.deb' })).toEqual(whole);
    const small = readFileSync(path.join(BUILT, 'weld-test-gzip.deb'));
    expect(await readDeb(chunked(small, 1), { sink: hashOnlySink(), where: 'w.deb' })).toEqual(await readDeb(chunked(small, small.length), { sink: hashOnlySink(), where: 'w.deb' }));
  });

  it('passes scriptlets to classify', async () => {
    const seen: string[] = [];
    const meta = await readDeb(createReadStream(path.join(BUILT, 'weld-test-gzip.deb')), {
      sink: hashOnlySink(),
      where: 'weld-test-gzip.deb',
      classify: (s) => {
        seen.push(`${s.format}:${s.phase}`);
        return s.body.includes('ldconfig') && s.phase === 'postinst' ? [{ kind: 'ldconfig' }] : [];
      },
    });
    expect(seen).toEqual(['deb:postinst', 'deb:prerm', 'deb:triggers']);
    expect(meta.scriptlets[0]!.actions).toEqual([{ kind: 'ldconfig' }]);
  });

  it('reports throughput on the largest package', async () => {
    const largest = debs.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
    const t0 = performance.now();
    const meta = await read(largest, hashOnlySink());
    const s = (performance.now() - t0) / 1000;
    const mb = statSync(largest).size / 1e6;
    const tarMb = meta.payload.size! / 1e6;
    console.log(`readDeb ${path.basename(largest)}: ${mb.toFixed(1)} MB .deb, ${tarMb.toFixed(1)} MB data.tar, ${meta.files.length} files in ${s.toFixed(2)} s = ${(mb / s).toFixed(1)} MB/s compressed, ${(tarMb / s).toFixed(1)} MB/s uncompressed`);
    expect(meta.files.length).toBeGreaterThan(100);
  });
});

// ---- hostile packages built with weld's own encoders ----

const enc = new TextEncoder();
const CONTROL = 'Package: evil\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@y>\nDescription: evil\n';

function makeDeb(data: TarWriteEntry[], opts: { md5sums?: string; control?: string; gzipData?: boolean } = {}): Uint8Array {
  const ctl: TarWriteEntry[] = [
    { path: './', typeflag: '5', mode: 0o755 },
    { path: './control', data: enc.encode(opts.control ?? CONTROL) },
  ];
  if (opts.md5sums) ctl.push({ path: './md5sums', data: enc.encode(opts.md5sums) });
  const dataTar = encodeTar(data);
  return encodeAr([
    { name: 'debian-binary', data: enc.encode('2.0\n') },
    { name: 'control.tar.gz', data: gzipSync(encodeTar(ctl)) },
    opts.gzipData === false ? { name: 'data.tar', data: dataTar } : { name: 'data.tar.gz', data: gzipSync(dataTar) },
  ]);
}

async function* chunked(buf: Uint8Array, n: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += n) yield buf.subarray(i, i + n);
}

async function rejects(buf: Uint8Array, limits?: Partial<Limits>, chunk = 4096): Promise<Error> {
  try {
    await readDeb(chunked(buf, chunk), { sink: memorySink(), where: 'evil.deb', limits });
  } catch (e) {
    expect(isWeldError(e), String((e as Error).stack)).toBe(true);
    expect((e as { kind: string }).kind).toBe('format');
    expect((e as Error).message).toContain('evil.deb');
    return e as Error;
  }
  throw new Error('expected evil.deb to be rejected');
}

describe('readDeb on hostile packages', () => {
  it('accepts the benign baseline', async () => {
    const meta = await readDeb(chunked(makeDeb([{ path: './', typeflag: '5' }, { path: './usr/x', data: enc.encode('x') }]), 7), { sink: memorySink(), where: 'ok.deb' });
    expect(meta.files.map((f) => f.path)).toEqual(['/usr/x']);
  });

  it('rejects path traversal, absolute names and NUL', async () => {
    expect((await rejects(makeDeb([{ path: './usr/../../etc/passwd', data: enc.encode('x') }]))).message).toMatch(/"\.\/usr\/\.\.\/\.\.\/etc\/passwd" contains "\.\."/);
    expect((await rejects(makeDeb([{ path: '/etc/passwd', data: enc.encode('x') }]))).message).toMatch(/is absolute/);
    expect((await rejects(makeDeb([{ path: 'x', pax: { path: './a\u0000b' } }]))).message).toMatch(/NUL/);
    expect((await rejects(makeDeb([{ path: './a', typeflag: '1', linkpath: '../../etc/shadow' }]))).message).toMatch(/contains "\.\."/);
    expect((await rejects(makeDeb([{ path: './a', typeflag: '1', linkpath: './nope' }]))).message).toMatch(/not an earlier regular file/);
  });

  it('rejects an md5 mismatch, naming the file', async () => {
    const e = await rejects(makeDeb([{ path: './usr/bin/tool', data: enc.encode('real') }], { md5sums: `${'0'.repeat(32)}  usr/bin/tool\n` }));
    expect(e.message).toMatch(/md5 mismatch for "\/usr\/bin\/tool"/);
  });

  it('streams data.tar: a 128 MiB file passes through in bounded memory', async () => {
    const size = 128 * 1024 * 1024;
    const head = encodeTar([{ path: './big', size }], { end: false });
    const tail = new Uint8Array(1024);
    const dataLen = head.length + size + tail.length;
    const pre = encodeAr([
      { name: 'debian-binary', data: enc.encode('2.0\n') },
      { name: 'control.tar.gz', data: gzipSync(encodeTar([{ path: './control', data: enc.encode(CONTROL) }])) },
    ]);
    const arHeader = enc.encode('data.tar'.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(dataLen).padEnd(10) + '`\n');
    const zeros = new Uint8Array(64 * 1024);
    async function* deb(): AsyncGenerator<Uint8Array> {
      yield pre;
      yield arHeader;
      yield head;
      for (let left = size; left > 0; left -= zeros.length) yield zeros.subarray(0, Math.min(left, zeros.length));
      yield tail;
    }
    const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = mem();
    let peak = before;
    const sink = {
      open() {
        const w = hashOnlySink().open();
        return { ...w, write: (c: Uint8Array) => { peak = Math.max(peak, mem()); return w.write(c); } };
      },
    };
    const meta = await readDeb(deb(), { sink, where: 'big.deb' });
    expect(meta.files[0]).toMatchObject({ path: '/big', size });
    expect(peak - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('rejects a decompression bomb', async () => {
    const bomb = makeDeb([{ path: './zeros', data: new Uint8Array(30 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100 * 1024);
    expect((await rejects(bomb, { maxRatio: 100 })).message).toMatch(/bomb/);
    expect((await rejects(bomb, { maxPayloadBytes: 1024 * 1024 })).message).toMatch(/bomb/);
  });

  it('rejects bad containers and control data', async () => {
    const good = makeDeb([{ path: './x', data: enc.encode('x') }]);
    const wrongFirst = encodeAr([{ name: 'control.tar.gz', data: new Uint8Array(2) }]);
    expect((await rejects(wrongFirst)).message).toMatch(/not debian-binary/);
    expect((await rejects(encodeAr([{ name: 'debian-binary', data: enc.encode('3.0\n') }]))).message).toMatch(/format version/);
    expect((await rejects(encodeAr([{ name: 'debian-binary', data: enc.encode('2.0\n') }]))).message).toMatch(/no control.tar/);
    expect((await rejects(makeDeb([], { control: 'Package evil\n' }))).message).toMatch(/not "Field: value"/);
    expect((await rejects(makeDeb([], { control: 'Package: evil\nVersion: x:1\n' }))).message).toMatch(/bad epoch/);
    expect((await rejects(makeDeb([], { control: CONTROL + 'Depends: a (>= 1\n' }))).message).toMatch(/malformed relation/);
    // data.tar.gz that holds a plain tar
    const plain = Buffer.from(makeDeb([{ path: './x', data: enc.encode('x') }], { gzipData: false }));
    plain.set(enc.encode('data.tar.gz'), plain.indexOf('data.tar  '));
    expect((await rejects(plain)).message).toMatch(/declared gzip but the data has no gzip magic/);
    expect(good.length).toBeGreaterThan(0);
  });

  it('rejects every truncation with a format error, never a crash or hang', async () => {
    const good = makeDeb([
      { path: './', typeflag: '5' },
      { path: './a', data: enc.encode('a'.repeat(5000)) },
      { path: './b', typeflag: '2', linkpath: 'a' },
      { path: './c', data: enc.encode('c'.repeat(3000)) },
    ], { gzipData: false });
    const gz = makeDeb([{ path: './a', data: enc.encode('hello'.repeat(2000)) }]);
    for (const buf of [good, gz]) {
      for (let cut = 0; cut < buf.length - 1; cut += Math.max(1, Math.floor(buf.length / 150))) {
        const e = await rejects(buf.subarray(0, cut), undefined, 1 + (cut % 3000));
        expect(e.message.length).toBeGreaterThan(0);
      }
    }
  });

  it('turns a security.capability pax xattr into rpm caps text (oracle: setcap/getcap)', async () => {
    if (!has('setcap') || !has('getfattr')) return;
    const dir = mkdtempSync(path.join(tmpdir(), 'weld-caps-'));
    const f = path.join(dir, 'f');
    writeFileSync(f, 'x');
    for (const text of ['cap_net_raw=ep', 'cap_net_raw,cap_chown+ep cap_kill+eip', 'cap_chown=i cap_net_raw=p cap_kill=ip', 'all=ep', 'all=p cap_kill-p']) {
      run('setcap', [text, f]);
      const want = run('getcap', [f]).stdout.toString().trim().slice(f.length + 1);
      const hex = /=0x([0-9a-f]+)/.exec(run('getfattr', ['-n', 'security.capability', '-e', 'hex', f]).stdout.toString())![1]!;
      const meta = await readDeb(chunked(makeDeb([{ path: './bin/ping', pax: { 'SCHILY.xattr.security.capability': Buffer.from(hex, 'hex'), 'SCHILY.xattr.user.k': 'v' } }]), 100), {
        sink: memorySink(),
        where: 'caps.deb',
      });
      expect(meta.files[0]!.caps, text).toBe(want);
      expect(Object.keys(meta.files[0]!.xattrs ?? {})).toEqual(['user.k']);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('deb control syntax (deb-control(5), deb-version(7))', () => {
  const fail = (m: string) => new Error(m);
  it.each([
    ['a, b (>= 1.0), c:any', [{ name: 'a', op: '', evr: '' }, { name: 'b', op: '>=', evr: '1.0' }, { name: 'c:any', op: '', evr: '' }]],
    ['a (<< 2) | b (>> 1:2-3) | c', [{ anyOf: [{ name: 'a', op: '<<', evr: '2' }, { name: 'b', op: '>>', evr: '1:2-3' }, { name: 'c', op: '', evr: '' }] }]],
    ['old (< 1), older (> 2)', [{ name: 'old', op: '<=', evr: '1' }, { name: 'older', op: '>=', evr: '2' }]],
    ['foo [amd64 !i386] <!nocheck> <stage1 cross>, bar (= 1) [linux-any]', [{ name: 'foo', op: '', evr: '' }, { name: 'bar', op: '=', evr: '1' }]],
    ['libc6:amd64(>=2.34),\n  x', [{ name: 'libc6:amd64', op: '>=', evr: '2.34' }, { name: 'x', op: '', evr: '' }]],
    ['', []],
  ] as [string, DepEntry[]][])('parses %j', (text, want) => {
    expect(parseDepends(text, 'Depends', fail)).toEqual(want);
  });

  it('rejects malformed relations', () => {
    for (const bad of ['a (>= 1', 'a (~ 1)', 'a b', '(>= 1)']) expect(() => parseDepends(bad, 'Depends', fail), bad).toThrow(/malformed/);
  });

  it.each([
    ['1.0', null, '1.0', ''],
    ['1:2.0-3', 1, '2.0', '3'],
    ['2:1.0-rc1-0ubuntu1', 2, '1.0-rc1', '0ubuntu1'],
    ['5.2.15-2+b13', null, '5.2.15', '2+b13'],
  ] as const)('splits version %s', (v, epoch, version, release) => {
    expect(parseControlVersion(v, fail)).toEqual({ epoch, version, release });
  });

  it('folds continuation lines and keeps one paragraph', () => {
    const f = parseControl('Package: p\nDepends: a,\n b\nDescription: s\n long\n .\n\nPackage: other\n', fail);
    expect(f.get('package')).toBe('p');
    expect(f.get('depends')).toBe('a,\n b');
    expect(f.get('description')).toBe('s\n long\n .');
  });

  it('leaves a security.capability it cannot read to xattrs', () => {
    expect(decodeCaps(new Uint8Array(3))).toBeNull();
    expect(decodeCaps(new Uint8Array(20))).toBeNull();
  });
});
