import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { LinkTree } from '../../src/linker/tree.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** the shared corpus, beside the checkout; tests never copy it into the repo */
export const CORPUS = path.resolve(ROOT, '../shared/corpus/rpm');
export const hasCorpus = existsSync(CORPUS);

export function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a tool and returns stdout as a Buffer; throws with stderr on failure unless allowFail. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions & { allowFail?: boolean } = {}): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, ...opts });
  const res = { status: r.status ?? -1, stdout: r.stdout as Buffer, stderr: r.stderr?.toString() ?? '' };
  if (r.error) throw r.error;
  if (!opts.allowFail && res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return res;
}

/** Runs the built CLI (dist/cli/main.js). */
export function weld(args: string[], opts: SpawnSyncOptions = {}): { status: number; stdout: Buffer; stderr: string } {
  return run(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { ...opts, allowFail: true });
}

/** The cached .deb of a package (fetched by scripts/fetch-debs.sh into `cache`). */
export function debPath(cache: string, pkg: string): string {
  const f = readdirSync(cache).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
  if (!f) throw new Error(`no .deb for ${pkg} in ${cache}`);
  return path.join(cache, f);
}

/** Fetches packages into `cache` and links exactly those into a fresh `dir`, to import as a set. */
export function stageDebs(cache: string, pkgs: string[], dir: string): string {
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), cache, ...pkgs]);
  mkdirSync(dir, { recursive: true });
  for (const p of pkgs) {
    const f = debPath(cache, p);
    symlinkSync(f, path.join(dir, path.basename(f)));
  }
  return dir;
}

/** A program's exit status and output, without blocking vitest's worker (a minute-long spawnSync starves its RPC). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** The built CLI, asynchronously. */
export const weldAsync = (args: string[]) => runAsync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args]);

/** A flat apt mirror (pool/ plus a bookworm Release) of exactly these .debs, for debootstrap or mmdebstrap; rebuilt only when the set changes. */
export function buildMirror(mirror: string, debs: string[]): void {
  const pool = path.join(mirror, 'pool/main');
  const have = existsSync(pool) ? readdirSync(pool).sort().join('\n') : '';
  if (existsSync(path.join(mirror, 'dists/bookworm/Release')) && have === debs.map((f) => path.basename(f)).sort().join('\n')) return;
  rmSync(mirror, { recursive: true, force: true });
  mkdirSync(pool, { recursive: true });
  mkdirSync(path.join(mirror, 'dists/bookworm/main/binary-amd64'), { recursive: true });
  for (const f of debs) copyFileSync(f, path.join(pool, path.basename(f)));
  run('bash', ['-c', 'cd "$1" && apt-ftparchive packages pool > dists/bookworm/main/binary-amd64/Packages && apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm -o APT::FTPArchive::Release::Codename=bookworm -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=amd64 release dists/bookworm > Release.tmp && mv Release.tmp dists/bookworm/Release', 'mirror', mirror]);
}

/** An unpacked root as a LinkTree: files with content and mode, symlinks, directories. */
export function treeOf(root: string): LinkTree {
  const tree = new LinkTree(0);
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      const st = lstatSync(path.join(root, p));
      if (st.isSymbolicLink()) tree.symlink(p, readlinkSync(path.join(root, p)), 'test');
      else if (st.isDirectory()) (tree.mkdir(p, 'test'), walk(p));
      else if (st.isFile()) tree.writeFile(p, readFileSync(path.join(root, p)), 'test', st.mode & 0o7777);
    }
  };
  walk('');
  return tree;
}
