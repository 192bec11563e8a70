/**
 * readRpm against rpm 4.18 itself, over the fixtures scripts/build-fixtures.sh
 * builds from fixtures/rpm/*.spec. Header fields come from `rpm -qp --qf`;
 * file content from `rpm2archive` (rpm2cpio refuses LONGFILESIZES).
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRpm } from '../src/importer/rpm.js';
import type { ContentSink, Dep, FileEntry, PackageMeta } from '../src/model.js';
import { blake3, blake3Hex } from '../src/store/hash.js';
import { hashOnlySink, memorySink } from '../src/store/sink.js';
import { displayText, isUtf8 } from '../src/util/text.js';
import { ROOT, run } from './helpers/tools.js';

const CACHE = path.join(ROOT, 'fixtures/.cache/rpm');
const SPARSE = 'weld-sparse-1.0-1.noarch.rpm';

// built while the file is collected, not in beforeAll: the test table below
// lists the fixtures, so they must exist before the tests are declared
run('bash', [path.join(ROOT, 'scripts/build-fixtures.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });

// ---- the oracle: rpm --qf with every value shell-escaped ------------------

/**
 * Splits `rpm --qf` output made of `@TAG` markers and shell words (`:shescape`
 * quotes strings as '...' with ' written as '\''; integers come bare).
 * Works on latin1 so non-UTF-8 file names keep their bytes.
 */
function parseQuery(out: Buffer): Map<string, Buffer[]> {
  const s = out.toString('latin1');
  const sections = new Map<string, Buffer[]>();
  let cur: Buffer[] | null = null;
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let tok = '';
    let quoted = false;
    while (i < s.length && !/\s/.test(s[i]!)) {
      if (s[i] === "'") {
        quoted = true;
        const end = s.indexOf("'", i + 1);
        if (end < 0) throw new Error('unterminated quote in rpm output');
        tok += s.slice(i + 1, end);
        i = end + 1;
      } else if (s[i] === '\\') {
        tok += s[i + 1] ?? '';
        i += 2;
      } else {
        tok += s[i++];
      }
    }
    if (!quoted && tok.startsWith('@')) {
      cur = [];
      sections.set(tok.slice(1), cur);
    } else if (cur) {
      cur.push(Buffer.from(tok, 'latin1'));
    }
  }
  return sections;
}

const DEP_KINDS = ['REQUIRE', 'PROVIDE', 'CONFLICT', 'OBSOLETE', 'RECOMMEND', 'SUGGEST', 'SUPPLEMENT', 'ENHANCE'] as const;
const SCRIPT_TAGS: [phase: string, body: string, prog: string][] = [
  ['pretrans', 'PRETRANS', 'PRETRANSPROG'],
  ['pre', 'PREIN', 'PREINPROG'],
  ['post', 'POSTIN', 'POSTINPROG'],
  ['preun', 'PREUN', 'PREUNPROG'],
  ['postun', 'POSTUN', 'POSTUNPROG'],
  ['posttrans', 'POSTTRANS', 'POSTTRANSPROG'],
  ['verify', 'VERIFYSCRIPT', 'VERIFYSCRIPTPROG'],
];
const TRIGGER_KINDS: [prefix: string, tag: string][] = [
  ['', 'TRIGGER'],
  ['file', 'FILETRIGGER'],
  ['transfile', 'TRANSFILETRIGGER'],
];
const TAGS = [
  ...'NAME EPOCH VERSION RELEASE ARCH SUMMARY DESCRIPTION LICENSE URL VENDOR PACKAGER GROUP BUILDTIME BUILDHOST SOURCERPM SOURCEPACKAGE LONGSIZE'.split(' '),
  ...'PAYLOADFORMAT PAYLOADCOMPRESSOR PAYLOADDIGEST PAYLOADDIGESTALGO FILEDIGESTALGO'.split(' '),
  ...'FILENAMES FILEMODES FILEUSERNAME FILEGROUPNAME FILESIZES LONGFILESIZES FILEMTIMES FILEDIGESTS FILEFLAGS FILECAPS FILELINKTOS FILEINODES FILERDEVS'.split(' '),
  ...DEP_KINDS.flatMap((k) => [`${k}NAME`, `${k}FLAGS`, `${k}VERSION`]),
  ...SCRIPT_TAGS.flatMap(([, b, p]) => [b, p]),
  ...TRIGGER_KINDS.flatMap(([, t]) => [`${t}SCRIPTS`, `${t}SCRIPTPROG`, `${t}NAME`, `${t}FLAGS`, `${t}VERSION`, `${t}INDEX`]),
];

interface Oracle {
  tags: Map<string, Buffer[]>;
  has(tag: string): boolean;
  str(tag: string): string;
  num(tag: string): number | null;
  strs(tag: string): string[];
  nums(tag: string): number[];
}

function queryRpm(pkg: string): Oracle {
  // %|TAG?{...}:{}| prints nothing for an absent tag instead of "(none)"
  const qf = TAGS.map((t) => `@${t} %|${t}?{[%{${t}:shescape} ]}:{}|`).join(' ');
  const tags = parseQuery(run('rpm', ['-qp', '--nosignature', '--qf', qf, pkg]).stdout);
  const get = (t: string) => tags.get(t) ?? [];
  return {
    tags,
    has: (t) => get(t).length > 0,
    str: (t) => (get(t)[0] ?? Buffer.alloc(0)).toString('utf8'),
    num: (t) => (get(t).length ? Number(get(t)[0]!.toString()) : null),
    strs: (t) => get(t).map((b) => b.toString('utf8')),
    nums: (t) => get(t).map((b) => Number(b.toString())),
  };
}

// rpmsense comparison bits (rpm/rpmds.h)
function opOf(flags: number): string {
  return (flags & 2 ? '<' : '') + (flags & 4 ? '>' : '') + (flags & 8 ? '=' : '');
}
const DIGEST_ALGO: Record<number, string> = { 1: 'md5', 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };
// rpmfileAttrs (rpm/rpmfiles.h)
const FILE_FLAGS: [number, string][] = [
  [1, 'config'], [2, 'doc'], [8, 'missingok'], [16, 'noreplace'], [32, 'specfile'],
  [64, 'ghost'], [128, 'license'], [256, 'readme'], [2048, 'pubkey'], [4096, 'artifact'],
];
function typeOf(mode: number): string {
  const t: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket' };
  return t[mode & 0o170000] ?? 'unknown';
}

function oracleDeps(o: Oracle, kind: string): Dep[] {
  const names = o.strs(`${kind}NAME`);
  const flags = o.nums(`${kind}FLAGS`);
  const evrs = o.strs(`${kind}VERSION`);
  return names.map((name, i) => ({ name, op: opOf(flags[i]!), evr: evrs[i] ?? '', sense: flags[i]! }));
}

interface ScriptView {
  phase: string;
  interpreter: string;
  body: string;
  triggers?: { name: string; op: string; evr: string }[];
}
const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

function oracleScripts(o: Oracle): ScriptView[] {
  const out: ScriptView[] = [];
  for (const [phase, bodyTag, progTag] of SCRIPT_TAGS) {
    const body = o.tags.get(bodyTag);
    const prog = o.strs(progTag);
    if (!body?.length && !prog.length) continue;
    out.push({ phase, interpreter: prog.length ? prog.join(' ') : '/bin/sh', body: body?.[0]?.toString('utf8') ?? '' });
  }
  for (const [prefix, t] of TRIGGER_KINDS) {
    const scripts = o.strs(`${t}SCRIPTS`);
    const progs = o.strs(`${t}SCRIPTPROG`);
    const names = o.strs(`${t}NAME`);
    const flags = o.nums(`${t}FLAGS`);
    const evrs = o.strs(`${t}VERSION`);
    const index = o.nums(`${t}INDEX`);
    scripts.forEach((body, s) => {
      const conds = names.map((_, i) => i).filter((i) => index[i] === s);
      // RPMSENSE_TRIGGERIN/UN/POSTUN/PREIN (rpm/rpmds.h)
      const f = flags[conds[0]!]!;
      const when = f & (1 << 16) ? 'in' : f & (1 << 17) ? 'un' : f & (1 << 18) ? 'postun' : f & (1 << 25) ? 'prein' : '?';
      out.push({
        phase: `${prefix}trigger${when}`,
        interpreter: progs[s] || '/bin/sh',
        body,
        triggers: conds.map((i) => ({ name: names[i]!, op: opOf(flags[i]!), evr: evrs[i] ?? '' })),
      });
    });
  }
  return out.sort(byJson);
}

interface OracleFile {
  path: string;
  pathBytes: Buffer;
  type: string;
  mode: number;
  user: string;
  group: string;
  size: number;
  mtime: number;
  digest: string;
  flags: string[];
  caps: string;
  target: string;
  inode: number;
  rdevMajor: number;
  rdevMinor: number;
}

function oracleFiles(o: Oracle): OracleFile[] {
  const names = o.tags.get('FILENAMES') ?? [];
  const sizes = o.has('LONGFILESIZES') ? o.nums('LONGFILESIZES') : o.nums('FILESIZES');
  const modes = o.nums('FILEMODES');
  const users = o.strs('FILEUSERNAME');
  const groups = o.strs('FILEGROUPNAME');
  const mtimes = o.nums('FILEMTIMES');
  const digests = o.strs('FILEDIGESTS');
  const flags = o.nums('FILEFLAGS');
  const caps = o.strs('FILECAPS');
  const links = o.strs('FILELINKTOS');
  const inodes = o.nums('FILEINODES');
  const rdevs = o.nums('FILERDEVS');
  return names.map((name, i) => {
    // a source rpm names its files relative ("foo.spec"); weld's paths are absolute
    const bytes = name[0] === 0x2f ? name : Buffer.concat([Buffer.from('/'), name]);
    const rdev = rdevs[i] ?? 0;
    return {
      path: displayText(bytes),
      pathBytes: bytes,
      type: typeOf(modes[i]!),
      mode: modes[i]!,
      user: users[i]!,
      group: groups[i]!,
      size: sizes[i]!,
      mtime: mtimes[i]!,
      digest: digests[i] ?? '',
      flags: FILE_FLAGS.filter(([bit]) => flags[i]! & bit).map(([, n]) => n).sort(),
      caps: caps[i] ?? '',
      target: links[i] ?? '',
      inode: inodes[i]!,
      // Linux new_encode_dev, as rpm stores st_rdev
      rdevMajor: (rdev >> 8) & 0xfff,
      rdevMinor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
    };
  });
}

/** Extracts the payload with rpm2archive | tar; returns the directory. */
function extract(pkg: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weld-rpm2archive-'));
  run('sh', ['-c', 'rpm2archive -n - < "$1" | tar -x -C "$2"', 'sh', pkg, dir]);
  return dir;
}

/** BLAKE3 of one payload file streamed out of rpm2archive, never written to disk. */
async function streamedObject(pkg: string, file: string): Promise<string> {
  const h = blake3();
  const child = spawn('sh', ['-c', 'rpm2archive -n - < "$1" | tar -xO ".$2"', 'sh', pkg, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const chunk of child.stdout) h.update(chunk as Buffer);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`rpm2archive | tar exited ${code}`);
  return h.hex();
}

async function importRpm(pkg: string, sink: ContentSink): Promise<PackageMeta> {
  return readRpm(createReadStream(pkg), { sink, where: path.basename(pkg) });
}

// ---- comparisons -------------------------------------------------------------

function checkHeader(meta: PackageMeta, o: Oracle, file: string): void {
  const isSource = o.has('SOURCEPACKAGE');
  expect(meta.format).toBe('rpm');
  expect(meta.name).toBe(o.str('NAME'));
  expect(meta.epoch).toBe(o.num('EPOCH'));
  expect(meta.version).toBe(o.str('VERSION'));
  expect(meta.release).toBe(o.str('RELEASE'));
  expect(meta.isSource).toBe(isSource);
  // a source rpm's header ARCH is the build host's; NEVRA spells it "src"
  if (isSource) expect([o.str('ARCH'), 'src']).toContain(meta.arch);
  else expect(meta.arch).toBe(o.str('ARCH'));
  expect(meta.summary).toBe(o.str('SUMMARY'));
  expect(meta.description).toBe(o.str('DESCRIPTION'));
  expect(meta.license).toBe(o.str('LICENSE'));
  expect(meta.url).toBe(o.str('URL'));
  expect(meta.vendor).toBe(o.str('VENDOR'));
  expect(meta.packager).toBe(o.str('PACKAGER'));
  expect(meta.group).toBe(o.str('GROUP'));
  expect(meta.buildTime).toBe(o.num('BUILDTIME'));
  expect(meta.buildHost).toBe(o.str('BUILDHOST'));
  expect(meta.sourceRpm).toBe(o.str('SOURCERPM'));
  expect(meta.installedSize).toBe(o.num('LONGSIZE'));
  expect(meta.formatVersion).toBe('4');
  expect(meta.signatures).toEqual([]);
  expect(meta.payload.format).toBe(o.str('PAYLOADFORMAT') || 'cpio');
  expect(meta.payload.compressor).toBe(o.str('PAYLOADCOMPRESSOR') || 'none');
  expect(meta.payload.digest).toBe(o.str('PAYLOADDIGEST'));
  if (o.num('PAYLOADDIGESTALGO') !== null) expect(meta.payload.digestAlgo).toBe(DIGEST_ALGO[o.num('PAYLOADDIGESTALGO')!]);
  expect(meta.payload.size ?? 0).toBeGreaterThanOrEqual(0);
  const keys: [keyof PackageMeta, string][] = [
    ['requires', 'REQUIRE'], ['provides', 'PROVIDE'], ['conflicts', 'CONFLICT'], ['obsoletes', 'OBSOLETE'],
    ['recommends', 'RECOMMEND'], ['suggests', 'SUGGEST'], ['supplements', 'SUPPLEMENT'], ['enhances', 'ENHANCE'],
  ];
  for (const [key, kind] of keys) {
    const got = (meta[key] as Dep[]).map((d) => ({ name: d.name, op: d.op, evr: d.evr, sense: d.sense ?? 0 }));
    expect(got, `${file} ${key}`).toEqual(oracleDeps(o, kind));
  }
  expect(meta.preDepends).toEqual([]);
  expect(meta.breaks).toEqual([]);
  expect(meta.replaces).toEqual([]);
  const scripts: ScriptView[] = meta.scriptlets
    .map((s) => ({ phase: s.phase, interpreter: s.interpreter, body: s.body, ...(s.triggers ? { triggers: s.triggers.map((t) => ({ name: t.name, op: t.op, evr: t.evr })) } : {}) }))
    .sort(byJson);
  expect(scripts, `${file} scriptlets`).toEqual(oracleScripts(o));
}

function checkFiles(meta: PackageMeta, o: Oracle, contentDir: string | null, objects: Map<string, Buffer> | null): void {
  const want = oracleFiles(o);
  const digestAlgo = DIGEST_ALGO[o.num('FILEDIGESTALGO') ?? 1]; // absent tag means md5 (rpm/rpmfiles.h)
  const got = new Map<string, FileEntry>(meta.files.map((f) => [f.path, f]));
  expect([...got.keys()].sort()).toEqual(want.map((f) => f.path).sort());
  for (const w of want) {
    const f = got.get(w.path)!;
    const at = `${w.path}`;
    expect(f.type, at).toBe(w.type);
    expect(f.mode, at).toBe(w.mode);
    expect(f.user, at).toBe(w.user);
    expect(f.group, at).toBe(w.group);
    expect(f.size, at).toBe(w.size);
    expect(f.mtime, at).toBe(w.mtime);
    expect(f.digest, at).toBe(w.digest);
    if (w.digest) expect(f.digestAlgo, at).toBe(digestAlgo);
    expect(f.target, at).toBe(w.target);
    expect([...f.flags].sort(), at).toEqual(w.flags);
    expect(f.caps, at).toBe(w.caps);
    if (isUtf8(w.pathBytes)) expect(f.pathBytes, at).toBeUndefined();
    else expect(Buffer.from(f.pathBytes ?? []).equals(w.pathBytes), `${at} pathBytes`).toBe(true);
    if (w.type === 'char' || w.type === 'block') {
      expect([f.rdevMajor, f.rdevMinor], at).toEqual([w.rdevMajor, w.rdevMinor]);
    }
    if (contentDir === null) continue;
    if (w.type === 'file' && !w.flags.includes('ghost')) {
      const data = readFileSync(Buffer.concat([Buffer.from(contentDir), w.pathBytes]));
      if (data.length === 0) expect(['', blake3Hex(data)], at).toContain(f.object);
      else expect(f.object, at).toBe(blake3Hex(data));
      if (objects && data.length) expect(objects.get(f.object)?.equals(data), `${at} stored bytes`).toBe(true);
    } else {
      expect(f.object, at).toBe('');
    }
  }
  // hardlink sets: same inode in the header ⇔ same non-zero `hardlink`
  const setOf = (key: (i: number) => string | null) => {
    const groups = new Map<string, string[]>();
    want.forEach((w, i) => {
      const k = key(i);
      if (k !== null) groups.set(k, [...(groups.get(k) ?? []), w.path]);
    });
    return [...groups.values()].filter((g) => g.length > 1).map((g) => g.sort().join(' ')).sort();
  };
  const wantSets = setOf((i) => (want[i]!.type === 'file' ? String(want[i]!.inode) : null));
  const gotSets = setOf((i) => {
    const h = got.get(want[i]!.path)!.hardlink;
    return h ? String(h) : null;
  });
  expect(gotSets).toEqual(wantSets);
}

// ---- the tests ---------------------------------------------------------------

function fixtures(): string[] {
  return readdirSync(CACHE).filter((f) => f.endsWith('.rpm') && f !== SPARSE).sort();
}

describe('rpm fixtures against rpm -qp and rpm2archive', () => {
  it('builds every fixture the specs promise', () => {
    const names = fixtures();
    for (const c of ['gzip', 'xz', 'bzip2', 'zstd', 'lzma', 'none']) expect(names).toContain(`weld-payload-${c}-0.1-1.noarch.rpm`);
    expect(names).toContain('weld-files-1.0-1.x86_64.rpm');
    expect(names).toContain('weld-files-1.0-1.src.rpm');
    expect(names).toContain('weld-md5-0.1-1.noarch.rpm');
    expect(names.some((n) => n.startsWith('weld-scripts-'))).toBe(true);
    expect(existsSync(path.join(CACHE, SPARSE))).toBe(true);
  });

  it('covers what the fixtures are for (sanity of the oracle itself)', () => {
    const files = oracleFiles(queryRpm(path.join(CACHE, 'weld-files-1.0-1.x86_64.rpm')));
    const types = new Set(files.map((f) => f.type));
    for (const t of ['file', 'dir', 'symlink', 'char', 'block', 'fifo']) expect(types).toContain(t);
    expect(files.some((f) => !isUtf8(f.pathBytes))).toBe(true);
    expect(files.find((f) => f.path === '/usr/bin/weld-ping')?.caps).toBe('cap_net_raw=ep');
    const scripts = oracleScripts(queryRpm(path.join(CACHE, fixtures().find((n) => n.startsWith('weld-scripts-'))!)));
    expect(scripts.map((s) => s.phase)).toEqual(
      expect.arrayContaining(['pre', 'post', 'preun', 'postun', 'pretrans', 'posttrans', 'verify', 'triggerin', 'triggerun', 'triggerpostun', 'triggerprein', 'filetriggerin', 'transfiletriggerin']),
    );
  });

  it.each(fixtures())('%s', async (file) => {
    const pkg = path.join(CACHE, file);
    const o = queryRpm(pkg);
    const sink = memorySink();
    const meta = await importRpm(pkg, sink);
    checkHeader(meta, o, file);
    const dir = extract(pkg);
    try {
      checkFiles(meta, o, dir, sink.objects);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the payload the same fed one byte at a time and in odd chunks', async () => {
    const pkg = path.join(CACHE, 'weld-payload-xz-0.1-1.noarch.rpm');
    const bytes = readFileSync(pkg);
    const whole = await readRpm((async function* () { yield bytes; })(), { sink: hashOnlySink(), where: 'whole' });
    async function* chunks(size: (i: number) => number) {
      for (let off = 0, i = 0; off < bytes.length; i++) {
        const n = size(i);
        yield bytes.subarray(off, off + n);
        off += n;
      }
    }
    const bytewise = await readRpm(chunks(() => 1), { sink: hashOnlySink(), where: 'bytewise' });
    const odd = await readRpm(chunks((i) => 1 + ((i * 7919) % 4093)), { sink: hashOnlySink(), where: 'odd' });
    expect(bytewise).toEqual(whole);
    expect(odd).toEqual(whole);
  }, 60_000);
});

describe('5 GiB sparse package (LONGFILESIZES)', () => {
  it('streams with bounded memory and names the content as rpm2archive does', async () => {
    const pkg = path.join(CACHE, SPARSE);
    const o = queryRpm(pkg);
    // the oracle hash takes ~10 s to stream; cache it beside the rpm, keyed by its mtime
    const st = statSync(pkg);
    const cached = path.join(CACHE, `.oracle-${SPARSE}-${st.mtimeMs}-big.blake3`);
    const want = existsSync(cached) ? readFileSync(cached, 'utf8') : await streamedObject(pkg, '/var/lib/weld-sparse/big.img');
    writeFileSync(cached, want);

    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 25);
    let meta: PackageMeta;
    try {
      meta = await importRpm(pkg, hashOnlySink());
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(`sparse import: rss growth ${((peak - base) / 2 ** 20).toFixed(1)} MiB`);
    expect(peak - base).toBeLessThan(300 * 2 ** 20);

    checkHeader(meta, o, SPARSE);
    checkFiles(meta, o, null, null);
    const big = meta.files.find((f) => f.path === '/var/lib/weld-sparse/big.img')!;
    expect(big.size).toBe(5 * 2 ** 30);
    expect(big.object).toBe(want);
    const small = meta.files.find((f) => f.path === '/var/lib/weld-sparse/small.txt')!;
    expect(small.object).toBe(blake3Hex(Buffer.from('small\n')));
  }, 300_000);
});
