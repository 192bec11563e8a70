/**
 * Python bytecode, as Debian's installer leaves it: the image's own
 * interpreter runs its own py_compile on the .py files that the postinsts'
 * py3compile and py_compile calls name (src/importer/scriptlets/python.ts),
 * in the generators' sandboxed view (./sandbox.ts), twice, byte-compared.
 *
 * The sandbox has one writable directory, and bytecode goes beside every
 * source (PEP 3147 __pycache__), so the interpreter writes each file under
 * /tmp + its final path and weld moves it into place. The file list is a
 * file in the view only (/.weld-bytecode), not an argument: a standard
 * library is hundreds of files. A run is cached (in weld's cache, by the
 * hash of everything its output depends on) with the store objects it made:
 * a second link of the same inputs starts no interpreter.
 *
 * Headers are the installer's: timestamp-checked (PEP 552 flags 0) with the
 * source's mtime and size, which come from the package, not the clock, so
 * SOURCE_DATE_EPOCH does not turn them into hash-checked ones as py_compile
 * otherwise would. PYTHONHASHSEED=0 fixes the order of set constants, which
 * a random hash seed makes differ between runs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Action } from '../../model.js';
import { WeldError } from '../../errors.js';
import { modeOf, realpath, type LinkNode, type LinkTree } from '../tree.js';
import { runInView, viewImage, type OutputEntry } from './sandbox.js';
import { objectRelPath } from '../../store/location.js';
import { cacheRoot } from '../../util/cachedir.js';
import type { GeneratorResult } from './generate.js';

type GenerateAction = Extract<Action, { kind: 'generate' }>;

const LIST = '/.weld-bytecode';
const OUT = '/tmp';
const ORIGIN = 'action:generate:bytecode';

/** argv[1]: the list (one path a line), argv[2]: where the cache tree goes */
const DRIVER = [
  'import sys, importlib.util, py_compile',
  'for f in open(sys.argv[1], encoding="utf-8").read().split("\\n"):',
  '    if f:',
  '        py_compile.compile(f, cfile=sys.argv[2] + importlib.util.cache_from_source(f), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)',
].join('\n');

export interface BytecodeContext {
  objectsDir: string;
  put: (data: Uint8Array) => string;
  epoch: number;
  /** package name → the nevra tree nodes name as their origin */
  nevras: ReadonlyMap<string, string>;
  findTool: (tool: string) => string | null;
  same: (a: OutputEntry[], b: OutputEntry[]) => string | null;
  env: Record<string, string>;
  timeout: number;
}

/**
 * The .py files an action's inputs name (`PKG:PREFIX`, `*:PREFIX` for any
 * package; `python3.*` in PREFIX is the interpreter's version), as dpkg -L
 * lists them: regular files and links to one. A link that dangles is left
 * out, as python3.X-minimal's postinst leaves out sitecustomize.py.
 */
export function bytecodeInputs(tree: LinkTree, inputs: readonly string[], version: string, nevras: ReadonlyMap<string, string>): string[] {
  const get = (p: string) => tree.get(p);
  const out = new Set<string>();
  for (const i of inputs) {
    const colon = i.indexOf(':');
    const pkg = i.slice(0, colon);
    const prefix = i.slice(colon + 1).replace(/\/python3\.\*\//g, `/python${version}/`);
    const origin = pkg === '*' ? null : nevras.get(pkg);
    // dpkg -L of a package that is not there lists nothing
    if (origin === undefined) continue;
    for (const n of tree.nodes.values()) {
      if (!n.path.startsWith(prefix) || !n.path.endsWith('.py') || n.path.includes('\n')) continue;
      if (origin !== null && n.origin !== origin) continue;
      if (n.type !== 'file' && n.type !== 'symlink') continue;
      const r = n.type === 'symlink' ? realpath(get, n.path) : n.path;
      if (r === null || tree.get(r)?.type !== 'file') continue;
      out.add(n.path);
    }
  }
  return [...out].sort();
}

/**
 * The cache key of one run: everything the output depends on. The driver and
 * flags; the interpreter and its standard library (objects); each source's
 * path, content, mtime and size (the header holds the last two). Not the
 * epoch: timestamp headers never read it.
 */
function cacheKey(tree: LinkTree, real: string, version: string, args: string[], files: string[]): string {
  const h = crypto.createHash('sha256');
  const obj = (p: string) => {
    const r = realpath((q) => tree.get(q), p);
    const n = r === null ? undefined : tree.get(r);
    return n ? `${n.object ?? ''}:${n.mtime}:${n.size}` : '-';
  };
  h.update(JSON.stringify([DRIVER, args, real, obj(real)]));
  const lib = `/usr/lib/python${version}/`;
  for (const n of tree.sorted()) if (n.path.startsWith(lib) && n.type === 'file') h.update(`\0${n.path}\0${n.object ?? ''}`);
  for (const f of files) h.update(`\0${f}\0${obj(f)}`);
  return h.digest('hex');
}

interface CachedRun {
  outputs: { rel: string; mode: number; object: string }[];
}

/** A run made before (its two runs were compared then), if every object it names is still in the store. */
function fromCache(file: string, objectsDir: string): OutputEntry[] | null {
  let c: CachedRun;
  try {
    c = JSON.parse(fs.readFileSync(file, 'utf8')) as CachedRun;
  } catch {
    return null;
  }
  const out: OutputEntry[] = [];
  for (const o of c.outputs ?? []) {
    const at = path.join(objectsDir, objectRelPath(o.object));
    if (!/^[0-9a-f]{16,}$/.test(o.object) || !fs.existsSync(at)) return null;
    out.push({ rel: o.rel, kind: 'f', mode: o.mode, data: fs.readFileSync(at) });
  }
  return out;
}

/** One run per interpreter and optimisation level, over the union of what its actions name. */
export async function applyBytecode(tree: LinkTree, actions: { pkg: string; a: GenerateAction }[], ctx: BytecodeContext): Promise<GeneratorResult[]> {
  const groups = new Map<string, { tool: string; args: string[]; pkgs: string[]; inputs: string[] }>();
  for (const { pkg, a } of actions) {
    const key = JSON.stringify([a.tool, a.args]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { tool: a.tool, args: a.args, pkgs: [], inputs: [] }));
    if (!g.pkgs.includes(pkg)) g.pkgs.push(pkg);
    for (const i of a.inputs) if (!g.inputs.includes(i)) g.inputs.push(i);
  }
  const results: GeneratorResult[] = [];
  for (const [, g] of [...groups.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const t0 = performance.now();
    const who = `Generator bytecode (${g.pkgs.join(', ')})`;
    const tool = ctx.findTool(g.tool);
    if (!tool) throw new WeldError('notfound', 'E_GENERATOR_TOOL', `${who} runs ${g.tool}, which the image does not have`, { generator: 'bytecode', tool: g.tool, packages: g.pkgs });
    const real = realpath((q) => tree.get(q), tool) ?? tool;
    const v = /\/python(\d+\.\d+)$/.exec(real);
    if (!v) {
      // PyPy (pypy3compile) keeps its bytecode elsewhere; weld makes CPython's only
      results.push({ generator: 'bytecode', tool, args: g.args, packages: g.pkgs, outputs: [], ms: 0, skipped: `${real} is not a CPython interpreter` });
      continue;
    }
    const files = bytecodeInputs(tree, g.inputs, v[1]!, ctx.nevras);
    if (!files.length) {
      results.push({ generator: 'bytecode', tool, args: g.args, packages: g.pkgs, outputs: [], ms: 0 });
      continue;
    }
    const cacheFile = path.join(cacheRoot(), 'bytecode', `${cacheKey(tree, real, v[1]!, g.args, files)}.json`);
    const cached = fromCache(cacheFile, ctx.objectsDir);
    if (cached) {
      results.push({ generator: 'bytecode', tool, args: g.args, packages: g.pkgs, outputs: place(tree, who, files, cached, ctx.put), ms: Math.round(performance.now() - t0), cached: true });
      continue;
    }
    if (tree.get(LIST)) throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} needs ${LIST} for its file list, which ${tree.get(LIST)!.origin} ships`, { generator: 'bytecode', path: LIST });

    const list = Buffer.from(files.join('\n') + '\n');
    const listNode: LinkNode = { path: LIST, type: 'file', mode: modeOf('file', 0o644), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: list.length, data: list, origin: ORIGIN };
    const nodes = [...tree.sorted()];
    const at = nodes.findIndex((n) => n.path > LIST);
    nodes.splice(at < 0 ? nodes.length : at, 0, listNode);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-view-'));
    let runs: OutputEntry[][];
    try {
      const image = path.join(tmp, 'meta.erofs');
      fs.writeFileSync(image, viewImage(nodes, ctx.epoch));
      const run = () =>
        runInView({
          image,
          objectsDir: ctx.objectsDir,
          outDir: OUT,
          argv: [tool, ...g.args, '-S', '-c', DRIVER, LIST, OUT],
          env: { ...ctx.env, PYTHONHASHSEED: '0', PYTHONDONTWRITEBYTECODE: '1' },
          what: who,
          timeout: ctx.timeout,
        });
      runs = [await run(), await run()];
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const diff = ctx.same(runs[0]!, runs[1]!);
    if (diff !== null) throw new WeldError('conflict', 'E_GENERATOR_REPRODUCIBLE', `${who} is not reproducible: /${diff} differs between two runs`, { generator: 'bytecode', path: `/${diff}` });

    const outputs = place(tree, who, files, runs[0]!, ctx.put);
    const mode = new Map(runs[0]!.map((e) => [`/${e.rel}`, e.mode]));
    const made: CachedRun = { outputs: outputs.map((o) => ({ rel: o.path.slice(1), mode: mode.get(o.path)!, object: o.object })) };
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    fs.writeFileSync(`${cacheFile}.tmp`, JSON.stringify(made));
    fs.renameSync(`${cacheFile}.tmp`, cacheFile);
    results.push({ generator: 'bytecode', tool, args: g.args, packages: g.pkgs, outputs, ms: Math.round(performance.now() - t0) });
  }
  return results;
}

/** Puts a run's files in the tree: each must be <dir>/__pycache__/<module>.<tag>.pyc beside one of the sources. */
function place(tree: LinkTree, who: string, files: string[], run: OutputEntry[], put: (d: Uint8Array) => string): GeneratorResult['outputs'] {
  const stems = new Set(files.map((f) => `${path.posix.dirname(f)}/__pycache__/${path.posix.basename(f, '.py')}.`));
  const outputs: GeneratorResult['outputs'] = [];
  for (const e of run) {
    const at = `/${e.rel}`;
    if (e.kind === 'd') continue;
    const stem = at.replace(/[^/.]+(\.opt-\d)?\.pyc$/, '');
    if (e.kind !== 'f' || !stems.has(stem)) throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} wrote ${at}, which is no bytecode of its inputs`, { generator: 'bytecode', path: at });
    const dir = path.posix.dirname(at);
    const d = tree.get(dir);
    if (d && d.type !== 'dir') throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} writes into ${dir}, which is a ${d.type} from ${d.origin}`, { generator: 'bytecode', path: dir });
    // py_compile makes the directory as root under umask 022
    if (!d) tree.set({ path: dir, type: 'dir', mode: modeOf('dir', 0o755), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: 0, origin: ORIGIN });
    const object = put(e.data!);
    if (tree.get(at)) tree.delete(at);
    tree.set({ path: at, type: 'file', mode: modeOf('file', e.mode), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: e.data!.length, object, origin: ORIGIN });
    outputs.push({ path: at, size: e.data!.length, object });
  }
  return outputs;
}
