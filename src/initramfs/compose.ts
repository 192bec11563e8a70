/**
 * Composes a variant's initramfs from packages in the store: the kernel and
 * its modules from the variant's kernel package, static busybox, dmsetup with
 * its shared-library closure, and the /init script. The I/O shell around the
 * pure pieces (newc, modinfo, modules, init).
 */
import { spawnSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DepEntry, FileEntry } from '../model.js';
import type { Store } from '../store/store.js';
import type { PackageRow } from '../store/catalog.js';
import type { Variant } from '../linker/variant.js';
import { nevra } from '../store/store.js';
import { WeldError, notFound, toolError, usageError } from '../errors.js';
import { readElfDynamic } from '../linker/ldcache.js';
import { dpkgSatisfies, dpkgVercmp } from '../linker/version/dpkg.js';
import { resolveLinkTarget } from '../util/safepath.js';
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

/** Store packages a variant may use, newest first within a name, so lookups are deterministic. */
function candidateRows(store: Store, v: Variant): PackageRow[] {
  const ok = (a: string) => a === v.arch || a === 'all' || a === 'noarch';
  return store.catalog
    .listPackages()
    .filter((r) => r.format === v.format && ok(r.arch))
    .sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.format === 'deb' ? -dpkgVercmp(debVersion(a), debVersion(b)) : b.id - a.id));
}
const debVersion = (r: PackageRow) => `${r.epoch !== null ? r.epoch + ':' : ''}${r.version}${r.release ? '-' + r.release : ''}`;

const isAnyOf = (d: DepEntry): d is { anyOf: { name: string; op: string; evr: string }[] } => 'anyOf' in d;

/**
 * Follows the variant's `kernel` through Depends to the package holding a
 * vmlinuz and a modules directory: Debian's linux-image-amd64 is a
 * metapackage naming linux-image-<release>-amd64. No release is hard-coded.
 */
export function findKernel(store: Store, v: Variant, rows = candidateRows(store, v)): { info: KernelInfo; tree: FileEntry[] } {
  if (!v.kernel) throw usageError(`Variant ${v.name} names no kernel package (set kernel = "linux-image-amd64" or similar)`);
  const headers = new Map<number, ReturnType<Store['catalog']['header']>>();
  const header = (r: PackageRow) => headers.get(r.id) ?? headers.set(r.id, store.catalog.header(r.id)).get(r.id)!;
  const providers = (d: { name: string; op: string; evr: string }): PackageRow[] =>
    rows.filter((r) => {
      if (r.name === d.name) return v.format !== 'deb' || dpkgSatisfies(debVersion(r), d);
      return header(r).provides.some((p) => (isAnyOf(p) ? p.anyOf : [p]).some((a) => (v.format === 'deb' ? dpkgSatisfies(a, d) : a.name === d.name)));
    });
  const missing: string[] = [];
  const seen = new Set<number>();
  let frontier: { dep: { name: string; op: string; evr: string }; via: string[] }[] = [{ dep: { name: v.kernel, op: '', evr: '' }, via: [] }];
  // a metapackage chain is short; depth 3 keeps the walk from loading the whole store
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    const next: typeof frontier = [];
    for (const { dep, via } of frontier) {
      const found = providers(dep);
      if (!found.length) {
        if (depth === 0 || /^linux-image|^kernel/.test(dep.name)) missing.push(via.length ? `${dep.name} (needed by ${via[via.length - 1]})` : dep.name);
        continue;
      }
      for (const r of found) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        const tree = store.catalog.fileList(r.id);
        const k = kernelFiles(tree);
        if (k) return { info: { package: nevra(r), via: [...via, r.name], release: k.release, vmlinuzPath: k.vmlinuz.path, vmlinuzObject: k.vmlinuz.object }, tree };
        const h = header(r);
        for (const e of [...h.preDepends, ...h.requires]) {
          const alts = isAnyOf(e) ? e.anyOf : [e];
          for (const a of alts) next.push({ dep: a, via: [...via, r.name] });
        }
      }
    }
    frontier = next;
  }
  const why = missing.length ? `the store lacks ${missing.join(', ')}` : `no package it depends on ships a vmlinuz and /lib/modules`;
  throw notFound(`Cannot find kernel ${v.kernel} for variant ${v.name}: ${why}. Import the kernel package, e.g. \`apt-get download ${v.kernel}\` and the linux-image-<release> it depends on`, {
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

/** Decompresses a module file the way kmod does, by suffix. */
function moduleBytes(store: Store, f: FileEntry): Uint8Array {
  const raw = store.readObject(f.object);
  if (f.path.endsWith('.ko')) return raw;
  if (f.path.endsWith('.gz')) return gunzipSync(raw, { maxOutputLength: MAX_MODULE_BYTES });
  const tool = f.path.endsWith('.xz') ? ['xz', '-dc'] : ['zstd', '-dcq'];
  const r = spawnSync(tool[0]!, tool.slice(1), { input: raw, maxBuffer: MAX_MODULE_BYTES });
  if (r.error || r.status !== 0) throw toolError(tool, r.stderr?.toString() ?? String(r.error), `Cannot decompress kernel module ${f.path}: ${tool[0]} exited ${r.status}`);
  return r.stdout;
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
  const info = (name: string) => infos.get(name) ?? infos.set(name, readModinfo(moduleBytes(store, files.get(name)!))).get(name)!;
  let aliases: Map<string, string[]> | null = null;
  return {
    files,
    sources: {
      builtin,
      byName: (name: string): ModuleFile | null => (files.has(name) ? { name, path: files.get(name)!.path, info: info(name) } : null),
      byAlias: (alias: string): string[] => {
        // only softdeps ask; building the index reads every module once
        if (!aliases) {
          aliases = new Map();
          for (const name of files.keys()) for (const a of info(name).get('alias') ?? []) aliases.set(a, [...(aliases.get(a) ?? []), name]);
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
  const rows = candidateRows(store, v);
  const { info: kernel, tree: ktree } = findKernel(store, v, rows);
  const mods = moduleSources(store, ktree, kernel.release);
  if (!mods.files.size) throw notFound(`Kernel package ${kernel.package} ships no modules for ${kernel.release}`);
  const plan = planModules(opts.modules ?? BOOT_MODULES, mods.sources, `${kernel.package} (${kernel.release})`);

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
  const bbRow = rows.find((r) => r.name === 'busybox-static');
  if (!bbRow) throw notFound(`The store has no busybox-static package for ${v.arch}: the initramfs needs a static busybox`);
  const bb = store.catalog.fileList(bbRow.id).find((f) => /^(?:\/usr)?\/bin\/busybox$/.test(f.path) && f.type === 'file' && f.object);
  if (!bb) throw notFound(`Package ${nevra(bbRow)} ships no /bin/busybox`);
  const bbBytes = store.readObject(bb.object);
  const bbElf = readElfDynamic(bbBytes);
  if (bbElf.interpreter || bbElf.needed.length) throw new WeldError('conflict', 'E_NOT_STATIC', `${bb.path} from ${nevra(bbRow)} is not statically linked (needs ${bbElf.interpreter ?? bbElf.needed.join(', ')})`);
  file('/bin/busybox', bbBytes, 0o755, nevra(bbRow));
  entries.push({ type: 'symlink', path: '/bin/sh', target: 'busybox' });

  // dmsetup and its DT_NEEDED closure, resolved against every library the store holds
  const dmRow = rows.find((r) => r.name === 'dmsetup');
  if (!dmRow) throw notFound(`The store has no dmsetup package for ${v.arch}: the initramfs needs it to create the verity device`);
  const libIdx = pathIndex(store, rows, (p) => /^(?:\/usr)?\/(?:lib|lib64|lib32|sbin|bin)\//.test(p));
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
    file(`/lib/modules/${name}`, mods.bytes(m.name), 0o644, kernel.package);
    modFiles.push({ file: name, optional: m.optional });
  }
  const init = initScript({ modules: modFiles, verityOptions: v.layout.verityOptions, writable: v.layout.writable, defaultInit: '/sbin/init', libraryPath: LIB_DIR });
  entries.push({ type: 'file', path: '/init', mode: 0o755, data: new TextEncoder().encode(init) });
  files.push({ path: '/init', from: 'weld' });

  const cpio = writeNewc(entries, { mtime: opts.mtime ?? 0 });
  return { image: new Uint8Array(gzipSync(cpio, { level: 9 })), cpioSize: cpio.length, kernel, modules: plan, files };
}

