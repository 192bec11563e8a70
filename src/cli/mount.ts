import fs from 'node:fs';
import path from 'node:path';
import { args, io, storeOption } from './util.js';
import { WeldError, conflict, isWeldError, usageError } from '../errors.js';
import { runTool, startTool } from '../util/exec.js';

export const help = `weld mount [--variant NAME|FILE] [--lock FILE] [--pkg NAME]... [--daemon] [--store DIR] MOUNTPOINT
  Serves the linked tree read-only over FUSE, straight from the store's
  objects. Stays in the foreground until Ctrl-C or weld umount; --daemon
  returns once the view is mounted. A stale weld mount left by a crashed
  server at MOUNTPOINT is replaced. Needs root.`;

const READY_FD_ENV = 'WELD_MOUNT_READY_FD';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = args(argv, {
    ...storeOption,
    variant: { type: 'string' },
    lock: { type: 'string' },
    pkg: { type: 'string', multiple: true },
    daemon: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
  });
  if (values.help) return io.out(help + '\n'), 0;
  if (positionals.length !== 1) throw usageError('mount needs one MOUNTPOINT');
  if (!values.variant && !values.pkg?.length) throw usageError('mount needs --variant NAME or --pkg NAME');
  if (values.daemon) return daemonize(argv.filter((a) => a !== '--daemon'));
  const readyFd = process.env[READY_FD_ENV] ? Number(process.env[READY_FD_ENV]) : null;
  try {
    return await serve(values, path.resolve(positionals[0]!), readyFd);
  } catch (e) {
    if (readyFd !== null) fs.writeSync(readyFd, `error ${isWeldError(e) ? e.message : String(e)}\n`);
    throw e;
  }
}

async function serve(
  values: { store?: string; variant?: string; lock?: string; pkg?: string[]; verbose?: boolean },
  mp: string,
  readyFd: number | null,
): Promise<number> {
  if (process.geteuid?.() !== 0) throw new WeldError('usage', 'E_ROOT', 'weld mount needs root to mount a FUSE filesystem');
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(mp);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTCONN') throw usageError(`Cannot mount on ${mp}: ${(e as Error).message}`);
  }
  if (st && !st.isDirectory()) throw usageError(`Cannot mount on ${mp}: not a directory`);
  const { helperPath } = await import('../views/native.js');
  const helper = helperPath();
  await replaceStale(mp, helper, values.verbose ?? false);

  const { storeDir } = await import('../store/location.js');
  const { prepareView } = await import('../views/cache.js');
  const view = await prepareView({ storeDir: storeDir(values.store), variant: values.variant, lock: values.lock ? path.resolve(values.lock) : undefined, roots: values.pkg }, [], undefined, { image: false });
  const { nodesOfManifest } = await import('../views/nodes.js');
  const manifest = JSON.parse(fs.readFileSync(view.manifestFile, 'utf8')) as import('../linker/output/manifest.js').Manifest;
  const nodes = nodesOfManifest(manifest);

  const fd = fs.openSync('/dev/fuse', 'r+');
  const m = runTool([helper, 'fusemount', mp], { stdout: 'inherit', fds: [fd], check: false });
  if (m.status !== 0) {
    fs.closeSync(fd);
    throw new WeldError('tool', 'E_MOUNT', (m.stderr || `Cannot mount on ${mp}`).trim().replace(/^weld: /, ''), { mountPoint: mp });
  }
  const { serveFuse } = await import('../fuse/server.js');
  const server = serveFuse(fd, nodes, view.objectsDir, io.err);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // lazy: the mount goes now, the connection ends when the last open file closes
    runTool([helper, 'umount', mp], { check: false });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  await server.ready;
  if (values.verbose) io.err(`weld: serving ${manifest.variant} (${nodes.length} nodes, ${manifest.packages.length} packages) on ${mp}\n`);
  if (readyFd !== null) {
    fs.writeSync(readyFd, `ready ${process.pid}\n`);
    fs.closeSync(readyFd);
  }
  await server.done;
  if (process.env.WELD_FUSE_STATS) io.err(`weld: FUSE requests by opcode: ${JSON.stringify(Object.fromEntries(server.counts))}\n`);
  fs.closeSync(fd);
  return 0;
}

/** A weld mount whose server died answers ENOTCONN; detach it so this mount can take its place. */
async function replaceStale(mp: string, helper: string, verbose: boolean): Promise<void> {
  const { mountsAt } = await import('../views/mounts.js');
  const here = mountsAt(mp);
  if (!here.length) return;
  const top = here.at(-1)!;
  if (top.fsType !== 'fuse.weld') throw conflict(`${mp} already has a ${top.fsType} mount; not mounting over it`, { mountPoint: mp });
  let alive = true;
  try {
    // statfs always reaches the server; stat and readdir are answered from the kernel's caches
    fs.statfsSync(mp);
  } catch (e) {
    alive = (e as NodeJS.ErrnoException).code !== 'ENOTCONN';
  }
  if (alive) throw conflict(`${mp} is already served by a running weld mount; weld umount ${mp} first`, { mountPoint: mp });
  for (let i = 0; i < here.length; i++) runTool([helper, 'umount', mp], { check: false });
  if (mountsAt(mp).length) throw new WeldError('io', 'E_STALE', `Cannot remove the stale weld mount on ${mp}`, { mountPoint: mp });
  if (verbose) io.err(`weld: replaced a stale weld mount on ${mp}\n`);
}

/** Restarts this command detached and returns once it reports the view mounted. */
async function daemonize(argv: string[]): Promise<number> {
  const main = process.argv[1]!;
  const { child } = startTool([process.execPath, main, 'mount', ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [READY_FD_ENV]: '3' },
  });
  let text = '';
  const line = await new Promise<string>((resolve) => {
    child.stdio[3]!.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    child.on('exit', (code) => resolve(text.split('\n')[0] || `error the mount server exited with status ${code}`));
  });
  child.stdio[3]!.destroy();
  child.unref();
  if (line.startsWith('ready ')) {
    io.out(`${line.slice(6)}\n`);
    return 0;
  }
  throw new WeldError('tool', 'E_MOUNT', line.replace(/^error /, ''));
}
