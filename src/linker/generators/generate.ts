/**
 * Generator actions: a cache the image's own tool makes (udev's hwdb.bin),
 * run at link time after every other action, in a sandboxed view of the
 * linked tree (./sandbox.ts): no network, as nobody, with SOURCE_DATE_EPOCH,
 * writing only to the declared output directory. Each runs twice and must
 * give the same bytes; its outputs become store objects in the tree.
 * A declared, reproducible step, never a maintainer script.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Action } from '../../model.js';
import { WeldError } from '../../errors.js';
import { modeOf, realpath, type LinkTree } from '../tree.js';
import { runInView, viewImage, type OutputEntry } from './sandbox.js';
import { guardsFrom } from '../actions/files.js';

export type GenerateAction = Extract<Action, { kind: 'generate' }>;

export interface GeneratorResult {
  generator: string;
  /** the tool's path in the image */
  tool: string;
  args: string[];
  packages: string[];
  outputs: { path: string; size: number; object: string }[];
  ms: number;
  /** why a generator whose guard held made nothing (PyPy's bytecode) */
  skipped?: string;
  /** outputs taken from weld's cache of an earlier run of the same inputs (bytecode) */
  cached?: boolean;
}

/** seconds a generator may run (hwdb.bin takes about 2); WELD_GENERATOR_TIMEOUT overrides it */
const TIMEOUT = 600;

/** dpkg's PATH for maintainer scripts */
const PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The tool's path in the tree, as execve would find it (symlinks followed); null when absent or not executable. */
export function findTool(tree: LinkTree, tool: string): string | null {
  const candidates = tool.startsWith('/') ? [tool] : PATH.map((d) => `${d}/${tool}`);
  for (const c of candidates) {
    const p = realpath((q) => tree.get(q), c);
    const n = p ? tree.get(p) : undefined;
    if (n?.type === 'file' && n.mode & 0o111) return c;
  }
  return null;
}

/** One run per distinct step (udev's postinst asks for hwdb.bin on configure and on its trigger), in a fixed order. */
function distinct(actions: { pkg: string; a: GenerateAction }[]): { pkgs: string[]; a: GenerateAction }[] {
  const by = new Map<string, { pkgs: string[]; a: GenerateAction }>();
  for (const { pkg, a } of actions) {
    const key = JSON.stringify([a.generator, a.tool, a.args, a.outputs]);
    const have = by.get(key);
    if (have) {
      if (!have.pkgs.includes(pkg)) have.pkgs.push(pkg);
    } else by.set(key, { pkgs: [pkg], a });
  }
  return [...by.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([, v]) => v);
}

export function same(a: OutputEntry[], b: OutputEntry[]): string | null {
  const names = new Set([...a.map((e) => e.rel), ...b.map((e) => e.rel)]);
  for (const rel of [...names].sort()) {
    const x = a.find((e) => e.rel === rel);
    const y = b.find((e) => e.rel === rel);
    if (!x || !y || x.kind !== y.kind || x.mode !== y.mode || x.target !== y.target) return rel;
    if (x.data && y.data && !x.data.equals(y.data)) return rel;
  }
  return null;
}

/**
 * Runs the generators and puts their outputs in the tree. Called once owners
 * are numbers (the view needs uid/gid); builds no view when there is none.
 */
export async function applyGenerators(
  tree: LinkTree,
  actions: { pkg: string; a: GenerateAction }[],
  ctx: { objectsDir: string; put: (data: Uint8Array) => string; epoch: number; nevras?: ReadonlyMap<string, string> },
): Promise<GeneratorResult[]> {
  const results: GeneratorResult[] = [];
  const env = { PATH: PATH.join(':'), SOURCE_DATE_EPOCH: String(ctx.epoch), LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent' };
  const timeout = Number(process.env.WELD_GENERATOR_TIMEOUT) > 0 ? Math.ceil(Number(process.env.WELD_GENERATOR_TIMEOUT)) : TIMEOUT;
  // guards answered from the finished tree (`command -v pypy3compile`)
  const taken = actions.some((x) => x.a.when) ? guardsFrom(tree) : () => true;
  actions = actions.filter((x) => taken(x.a.when));
  const bytecode = actions.filter((x) => x.a.generator === 'bytecode');
  for (const { pkgs, a } of distinct(actions.filter((x) => x.a.generator !== 'bytecode'))) {
    const t0 = performance.now();
    const who = `Generator ${a.generator} (${pkgs.join(', ')})`;
    const tool = findTool(tree, a.tool);
    if (!tool) throw new WeldError('notfound', 'E_GENERATOR_TOOL', `${who} runs ${a.tool}, which the image does not have`, { generator: a.generator, tool: a.tool, packages: pkgs });
    const dirs = new Set(a.outputs.map((o) => path.posix.dirname(o)));
    if (dirs.size !== 1) throw new WeldError('bug', 'E_BUG', `internal error: ${who} declares outputs in ${dirs.size} directories`);
    const declared = [...dirs][0]!;
    const outDir = realpath((q) => tree.get(q), declared);
    if (!outDir) throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} writes into ${declared}, whose symlinks loop`, { generator: a.generator });
    const cur = tree.get(outDir);
    if (cur && cur.type !== 'dir') throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} writes into ${declared}, which is a ${cur.type} from ${cur.origin}`, { generator: a.generator });
    if (!cur) tree.mkdir(outDir, `action:generate:${a.generator}`);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-view-'));
    let runs: OutputEntry[][];
    try {
      const image = path.join(tmp, 'meta.erofs');
      fs.writeFileSync(image, viewImage(tree.sorted(), ctx.epoch));
      const run = () =>
        runInView({
          image,
          objectsDir: ctx.objectsDir,
          outDir,
          argv: [tool, ...a.args],
          env,
          what: who,
          timeout,
        });
      // one after the other: the second must not see the first's output
      runs = [await run(), await run()];
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const diff = same(runs[0]!, runs[1]!);
    if (diff !== null) {
      throw new WeldError('conflict', 'E_GENERATOR_REPRODUCIBLE', `${who} is not reproducible: ${path.posix.join(declared, diff)} differs between two runs`, { generator: a.generator, path: path.posix.join(declared, diff) });
    }
    const wanted = new Set(a.outputs.map((o) => path.posix.basename(o)));
    const outputs: GeneratorResult['outputs'] = [];
    for (const e of runs[0]!) {
      const p = path.posix.join(declared, e.rel);
      if (e.kind !== 'f' || !wanted.has(e.rel)) {
        throw new WeldError('conflict', 'E_GENERATOR_OUTPUT', `${who} wrote ${p}, which it does not declare (it declares ${a.outputs.join(', ')})`, { generator: a.generator, path: p });
      }
      const object = ctx.put(e.data!);
      const at = path.posix.join(outDir, e.rel);
      const old = tree.get(at);
      if (old) tree.delete(at);
      // the installer ran the tool as root: root owns what it wrote
      tree.set({ path: at, type: 'file', mode: modeOf('file', e.mode), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: e.data!.length, object, origin: `action:generate:${a.generator}` });
      outputs.push({ path: at, size: e.data!.length, object });
    }
    results.push({ generator: a.generator, tool, args: a.args, packages: pkgs, outputs, ms: Math.round(performance.now() - t0) });
  }
  if (bytecode.length) {
    const { applyBytecode } = await import('./bytecode.js');
    results.push(...(await applyBytecode(tree, bytecode, { ...ctx, nevras: ctx.nevras ?? new Map(), findTool: (t) => findTool(tree, t), same, env, timeout })));
  }
  return results;
}
