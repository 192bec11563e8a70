/**
 * Composes a variant's initramfs from packages in the store: the kernel and
 * its modules from the variant's kernel package, static busybox, dmsetup with
 * its shared-library closure, and the /init script. Packages are chosen by the
 * linker's resolver, module files unpacked by the importer's decompressor.
 * The I/O shell around the pure pieces (newc, modinfo, modules, init).
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { DepEntry, FileEntry } from '../model.js';
import type { Store } from '../store/store.js';
import type { PackageRow } from '../store/catalog.js';
import type { Variant } from '../linker/variant.js';
import { nevra } from '../store/store.js';
import { WeldError, isWeldError, notFound, usageError } from '../errors.js';
import { readElfDynamic } from '../formats/elf/dynamic.js';
import { packageLabel, parseRootSpec, resolve, type ResolverPackage } from '../linker/resolve.js';
import { storeUniverse, variantResolveOptions } from '../linker/universe.js';
import { decompress, type Compressor } from '../importer/decompress.js';
import { resolveLinkTarget } from '../util/safepath.js';
import { concatBytes } from '../util/bytes.js';
import { readModinfo, moduleNameFromPath, type Modinfo } from './modinfo.js';
import { planModules, type ModuleFile, type ModulePlan } from './modules.js';
import { initScript } from './init.js';
import { writeNewc, type NewcEntry } from './newc.js';

/** What the boot needs: the disk (virtio), the root filesystem, device-mapper verity. */
export const BOOT_MODULES = ['virtio_pci', 'virtio_blk', 'erofs', 'dm_mod', 'dm_bufio', 'dm_verity'];
const LIB_DIR = '/lib/weld';
const SEARCH_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
const MAX_MODULE_BYTES = 256 * 1024 * 1024;

export interface KernelInfo {
  /** the package shipping vmlinuz and modules (may differ from the variant's metapackage) */
  package: string;
  /** the chain from the variant's `kernel` to it, e.g. ["linux-image-amd64", "linux-image-6.1.0-56-amd64"] */
  via: string[];
  /** kernel release, from the modules directory name */
  release: string;
  vmlinuzPath: string;
  vmlinuzObject: string;
}

export interface InitramfsResult {
  /** gzip-compressed newc cpio */
  image: Uint8Array;
  cpioSize: number;
  kernel: KernelInfo;
  modules: ModulePlan;
  /** path in the initramfs → package it came from */
  files: { path: string; from: string }[];
}

export interface InitramfsOptions {
  /** modules to load besides their dependencies (default BOOT_MODULES) */
  modules?: string[];
  /** mtime of every entry (default 0) */
  mtime?: number;
}

interface Owned {
  row: PackageRow;
  entry: FileEntry;
}

/** The store's packages as the resolver sees them, with no Conflicts: they govern the root image, not the few files copied from these packages. */
function universe(store: Store, v: Variant): { packages: ResolverPackage[]; rows: Map<string, PackageRow> } {
  const u = storeUniverse(store, v.format);
  return { packages: u.packages.map(({ conflicts: _c, breaks: _b, obsoletes: _o, ...p }) => p), rows: u.rows };
}

const atoms = (e: DepEntry) => ('anyOf' in e ? e.anyOf : [e]);
/** The kernel chain: a metapackage names the kernel package; its other Depends (kmod, initramfs-tools) are not needed. */
const kernelDep = (e: DepEntry) => atoms(e).some((a) => /^linux-image|^kernel/.test(a.name));

/**
 * Follows the variant's `kernel` through Depends to the package holding a
 * vmlinuz and a modules directory: Debian's linux-image-amd64 is a
 * metapackage naming linux-image-<release>-amd64. No release is hard-coded.
 * The resolver chooses each link of the chain, over the kernel-named Depends only.
 */
function findKernel(store: Store, v: Variant, u = universe(store, v)): { info: KernelInfo; tree: FileEntry[] } {
  if (!v.kernel) throw usageError(`Variant ${v.name} names no kernel package (set kernel = "linux-image-amd64" or similar)`);
  const chain = u.packages.map((p) => ({ ...p, requires: p.requires.filter(kernelDep), preDepends: p.preDepends.filter(kernelDep) }));
  let closure: ResolverPackage[];
  try {
    closure = resolve(chain, [v.kernel], variantResolveOptions(v)).packages;
  } catch (e) {
    if (!isWeldError(e) || e.code !== 'E_UNRESOLVED') throw e;
    const names = new Map(chain.map((p) => [packageLabel(p), p.name]));
    const missing = (e.data.missing as { requirement: string; neededBy: string }[]).map((m) => {
      const name = m.requirement.split(' ')[0]!;
      return m.neededBy === '<root>' ? name : `${name} (needed by ${names.get(m.neededBy) ?? m.neededBy})`;
    });
    throw kernelNotFound(v, `the store lacks ${missing.join(', ')}`, missing);
  }
  // nearest the root first: breadth-first over the chosen packages' kernel Depends
  const offers = (p: ResolverPackage, name: string) => p.name === name || p.provides.some((pr) => atoms(pr).some((a) => a.name === name));
  const rootName = parseRootSpec(v.kernel).name;
  const root = closure.find((p) => offers(p, rootName))!;
  const seen = new Set<string>([root.key]);
  for (let level = [{ p: root, via: [root.name] }]; level.length; ) {
    for (const { p, via } of level) {
      const tree = store.catalog.fileList(Number(p.key));
      const k = kernelFiles(tree);
      if (k) return { info: { package: nevra(u.rows.get(p.key)!), via, release: k.release, vmlinuzPath: k.vmlinuz.path, vmlinuzObject: k.vmlinuz.object }, tree };
    }
    level = level.flatMap(({ p, via }) =>
      [...p.preDepends, ...p.requires]
        .flatMap((e) => closure.filter((q) => !seen.has(q.key) && atoms(e).some((a) => offers(q, a.name))))
        .filter((q) => !seen.has(q.key) && seen.add(q.key))
        .map((q) => ({ p: q, via: [...via, q.name] })),
    );
  }
  throw kernelNotFound(v, 'no package it depends on ships a vmlinuz and /lib/modules', []);
}

function kernelNotFound(v: Variant, why: string, missing: string[]): WeldError {
  return notFound(`Cannot find kernel ${v.kernel} for variant ${v.name}: ${why}. Import the kernel package, e.g. \`apt-get download ${v.kernel}\` and the linux-image-<release> it depends on`, {
    kernel: v.kernel,
    missing,
  });
}

/** vmlinuz and modules directory of one kernel release in a package tree (deb: /boot/vmlinuz-R; rpm: /lib/modules/R/vmlinuz). */
function kernelFiles(tree: FileEntry[]): { release: string; vmlinuz: FileEntry } | null {
  const mods = new Set<string>();
  for (const f of tree) {
    const m = /^(?:\/usr)?\/lib\/modules\/([^/]+)\/kernel\//.exec(f.path);
    if (m) mods.add(m[1]!);
  }
  for (const release of [...mods].sort()) {
    const vmlinuz = tree.find((f) => f.type === 'file' && f.object && (f.path === `/boot/vmlinuz-${release}` || /^(?:\/usr)?\/lib\/modules\/([^/]+)\/vmlinuz$/.test(f.path) && f.path.includes(`/${release}/`)));
    if (vmlinuz) return { release, vmlinuz };
  }
  return null;
}

const MODULE_COMPRESSION: [string, Compressor][] = [['.ko.gz', 'gzip'], ['.ko.xz', 'xz'], ['.ko.zst', 'zstd']];

/** A module file's bytes, decompressed as kmod does by suffix. */
async function moduleBytes(store: Store, f: FileEntry): Promise<Uint8Array> {
  const raw = store.readObject(f.object);
  const compressor = MODULE_COMPRESSION.find(([suffix]) => f.path.endsWith(suffix))?.[1];
  if (!compressor) return raw;
  const parts: Uint8Array[] = [];
  for await (const c of decompress(Readable.from([raw]), { compressor, maxBytes: MAX_MODULE_BYTES, where: `kernel module ${f.path}` })) parts.push(c);
  return concatBytes(parts);
}

function moduleSources(store: Store, tree: FileEntry[], release: string) {
  const files = new Map<string, FileEntry>();
  for (const f of tree) {
    if (f.type !== 'file' || !f.object || !/^(?:\/usr)?\/lib\/modules\/[^/]+\/kernel\//.test(f.path) || !f.path.includes(`/${release}/`)) continue;
    const name = moduleNameFromPath(f.path);
    if (name && !files.has(name)) files.set(name, f);
  }
  const builtinFile = tree.find((f) => f.object && /^(?:\/usr)?\/lib\/modules\/[^/]+\/modules\.builtin$/.test(f.path) && f.path.includes(`/${release}/`));
  const builtin = new Set<string>();
  if (builtinFile) for (const line of store.readObject(builtinFile.object).toString('utf8').split('\n')) {
    const n = moduleNameFromPath(line.trim());
    if (n) builtin.add(n);
  }
  const infos = new Map<string, Modinfo>();
  const info = async (name: string) => infos.get(name) ?? infos.set(name, readModinfo(await moduleBytes(store, files.get(name)!))).get(name)!;
  let aliases: Map<string, string[]> | null = null;
  return {
    files,
    sources: {
      builtin,
      byName: async (name: string): Promise<ModuleFile | null> => (files.has(name) ? { name, path: files.get(name)!.path, info: await info(name) } : null),
      byAlias: async (alias: string): Promise<string[]> => {
        // only softdeps ask; building the index reads every module once
        if (!aliases) {
          aliases = new Map();
          for (const name of files.keys()) for (const a of (await info(name)).get('alias') ?? []) aliases.set(a, [...(aliases.get(a) ?? []), name]);
        }
        return aliases.get(alias) ?? [];
      },
    },
    bytes: (name: string) => moduleBytes(store, files.get(name)!),
  };
}

/** Path → owning package entry over the given rows; the first (newest) owner wins. */
function pathIndex(store: Store, rows: PackageRow[], want: (p: string) => boolean): Map<string, Owned> {
  const idx = new Map<string, Owned>();
  for (const row of rows) for (const entry of store.catalog.fileList(row.id)) if (want(entry.path) && !idx.has(entry.path)) idx.set(entry.path, { row, entry });
  return idx;
}

/** The rows of `root`'s package closure, as the linker would resolve it. */
function closure(u: ReturnType<typeof universe>, v: Variant, root: string, absent: string): PackageRow[] {
  try {
    return resolve(u.packages, [root], variantResolveOptions(v)).packages.map((p) => u.rows.get(p.key)!);
  } catch (e) {
    if (isWeldError(e) && e.code === 'E_UNRESOLVED' && (e.data.missing as { neededBy: string }[]).some((m) => m.neededBy === '<root>')) throw notFound(absent);
    throw e;
  }
}

const usrToggle = (p: string) => (p.startsWith('/usr/') ? p.slice(4) : '/usr' + p);

/** Follows symlinks (and merged-/usr aliases) to a regular file with content. */
function resolveFile(idx: Map<string, Owned>, path: string): Owned | null {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    const o = idx.get(p) ?? idx.get(usrToggle(p));
    if (!o) return null;
    if (o.entry.type === 'file') return o.entry.object ? o : null;
    if (o.entry.type !== 'symlink') return null;
    const next = resolveLinkTarget(o.entry.path, o.entry.target);
    if (!next) return null;
    p = next;
  }
  return null;
}

export async function buildInitramfs(store: Store, v: Variant, opts: InitramfsOptions = {}): Promise<InitramfsResult> {
  if (!v.layout.verity || v.layout.partitions !== 'ddi') {
    throw usageError(`Variant ${v.name} has no verity partition (layout.verity = ${v.layout.verity}, layout.partitions = "${v.layout.partitions}"): weld's initramfs only boots a dm-verity sealed DDI root`, { variant: v.name });
  }
  const u = universe(store, v);
  const { info: kernel, tree: ktree } = findKernel(store, v, u);
  const mods = moduleSources(store, ktree, kernel.release);
  if (!mods.files.size) throw notFound(`Kernel package ${kernel.package} ships no modules for ${kernel.release}`);
  const plan = await planModules(opts.modules ?? BOOT_MODULES, mods.sources, `${kernel.package} (${kernel.release})`);

  const files: InitramfsResult['files'] = [];
  const entries: NewcEntry[] = [];
  const dirs = new Set<string>();
  const dir = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.add(d), entries.push({ type: 'dir', path: d, mode: d === '/tmp' ? 0o1777 : 0o755 });
    }
  };
  const file = (path: string, data: Uint8Array, mode: number, from: string) => {
    dir(path.slice(0, path.lastIndexOf('/')));
    entries.push({ type: 'file', path, mode, data });
    files.push({ path, from });
  };
  for (const d of ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/dev', '/proc', '/sys', '/run', '/tmp', '/etc', '/newroot', '/lib/modules', LIB_DIR]) dir(d);
  // the kernel opens /dev/console for init before devtmpfs is mounted
  entries.push({ type: 'char', path: '/dev/console', mode: 0o600, major: 5, minor: 1 });

  // static busybox: the shell and every tool /init uses
  const bbRow = closure(u, v, 'busybox-static', `The store has no busybox-static package for ${v.arch}: the initramfs needs a static busybox`).find((r) => r.name === 'busybox-static')!;
  const bb = store.catalog.fileList(bbRow.id).find((f) => /^(?:\/usr)?\/bin\/busybox$/.test(f.path) && f.type === 'file' && f.object);
  if (!bb) throw notFound(`Package ${nevra(bbRow)} ships no /bin/busybox`);
  const bbBytes = store.readObject(bb.object);
  const bbElf = readElfDynamic(bbBytes);
  if (bbElf.interpreter || bbElf.needed.length) throw new WeldError('conflict', 'E_NOT_STATIC', `${bb.path} from ${nevra(bbRow)} is not statically linked (needs ${bbElf.interpreter ?? bbElf.needed.join(', ')})`);
  file('/bin/busybox', bbBytes, 0o755, nevra(bbRow));
  entries.push({ type: 'symlink', path: '/bin/sh', target: 'busybox' });

  // dmsetup and its DT_NEEDED closure, found in the files of dmsetup's package closure
  const dmRows = closure(u, v, 'dmsetup', `The store has no dmsetup package for ${v.arch}: the initramfs needs it to create the verity device`);
  const dmRow = dmRows.find((r) => r.name === 'dmsetup')!;
  const libIdx = pathIndex(store, dmRows, (p) => /^(?:\/usr)?\/(?:lib|lib64|lib32|sbin|bin)\//.test(p));
  const dm = resolveFile(libIdx, '/sbin/dmsetup');
  if (!dm) throw notFound(`Package ${nevra(dmRow)} ships no /sbin/dmsetup`);
  file('/sbin/dmsetup', store.readObject(dm.entry.object), 0o755, nevra(dm.row));
  const queue: { what: string; bytes: Uint8Array }[] = [{ what: '/sbin/dmsetup', bytes: store.readObject(dm.entry.object) }];
  const haveLib = new Set<string>();
  while (queue.length) {
    const { what, bytes } = queue.shift()!;
    const elf = readElfDynamic(bytes);
    if (elf.interpreter && !haveLib.has(elf.interpreter)) {
      haveLib.add(elf.interpreter);
      const o = resolveFile(libIdx, elf.interpreter);
      if (!o) throw notFound(`${what} needs the program interpreter ${elf.interpreter}, which no package in the store ships`);
      file(elf.interpreter, store.readObject(o.entry.object), 0o755, nevra(o.row));
    }
    for (const soname of elf.needed) {
      if (haveLib.has(soname)) continue;
      haveLib.add(soname);
      let o: Owned | null = null;
      for (const d of SEARCH_DIRS) if ((o = resolveFile(libIdx, `${d}/${soname}`))) break;
      if (!o) throw notFound(`${what} needs ${soname}, which no package in the store ships (looked in ${SEARCH_DIRS.join(', ')})`, { soname });
      const lib = store.readObject(o.entry.object);
      file(`${LIB_DIR}/${soname}`, lib, 0o755, nevra(o.row));
      queue.push({ what: soname, bytes: lib });
    }
  }

  // modules, decompressed: busybox insmod loads plain .ko files
  const modFiles: { file: string; optional: boolean }[] = [];
  for (const m of plan.load) {
    const name = `${m.name}.ko`;
    file(`/lib/modules/${name}`, await mods.bytes(m.name), 0o644, kernel.package);
    modFiles.push({ file: name, optional: m.optional });
  }
  const init = initScript({ modules: modFiles, verityOptions: v.layout.verityOptions, writable: v.layout.writable, defaultInit: '/sbin/init', libraryPath: LIB_DIR });
  entries.push({ type: 'file', path: '/init', mode: 0o755, data: new TextEncoder().encode(init) });
  files.push({ path: '/init', from: 'weld' });

  const cpio = writeNewc(entries, { mtime: opts.mtime ?? 0 });
  return { image: new Uint8Array(gzipSync(cpio, { level: 9 })), cpioSize: cpio.length, kernel, modules: plan, files };
}

