import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { args, io, storeOption } from './util.js';
import { WeldError, isWeldError, usageError } from '../errors.js';
// static, so the loader fetches them with this module instead of one await each;
// none of them loads SQLite, msgpackr, TOML or node:crypto (a cache hit needs none)
import { storeDir } from '../store/location.js';
import { BASE_MOUNTPOINTS } from '../views/nodes.js';
import { prepareView, cacheRoot } from '../views/cache.js';
import { helperPath } from '../views/native.js';
import { startTool } from '../util/exec.js';

export const help = `weld run [--variant NAME|FILE] [--lock FILE] [--pkg NAME]... [--bind HOST:GUEST[:ro]]...
         [--fuse] [--verbose] [--timing] [--store DIR] -- CMD [ARG...]
  Runs CMD in a private mount namespace whose read-only root is the view:
  the linked tree served straight from the store, nothing copied. /proc, /sys,
  a tmpfs /tmp and a minimal /dev are mounted; --bind adds host paths.
  The kernel composes the view (metadata-only EROFS + overlayfs data-only
  layer over the store's objects); --fuse serves it with FUSE instead.
  --pkg limits the view to those packages' closure. Views are cached per lock
  under $WELD_CACHE (default $XDG_CACHE_HOME/weld/views).
  Exit status: CMD's own, 128+N when signal N ends it, 125 when weld fails,
  126 when CMD cannot run, 127 when it is not found. Needs root.`;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** weld's own failures exit 125, so they never pass for the command's status */
export async function run(argv: string[]): Promise<number> {
  try {
    return await runView(argv);
  } catch (e) {
    if (isWeldError(e)) e.exitCode = 125;
    throw e;
  }
}

async function runView(argv: string[]): Promise<number> {
  const t0 = performance.now();
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const cmd = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = args(own, {
    ...storeOption,
    variant: { type: 'string' },
    lock: { type: 'string' },
    pkg: { type: 'string', multiple: true },
    bind: { type: 'string', multiple: true },
    fuse: { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    timing: { type: 'boolean' },
  });
  if (values.help) return io.out(help + '\n'), 0;
  cmd.unshift(...positionals);
  if (!cmd.length) throw usageError('run needs a command: weld run --variant V -- CMD [ARG...]');
  if (!values.variant && !values.pkg?.length) throw usageError('run needs --variant NAME or --pkg NAME');
  if (process.geteuid?.() !== 0) throw new WeldError('usage', 'E_ROOT', 'weld run needs root (CAP_SYS_ADMIN) to create a mount namespace and mount the view', {}, 125);

  const binds = (values.bind ?? []).map(parseBind);
  const mountpoints = [...BASE_MOUNTPOINTS, ...binds.map((b) => ({ path: b.guest, type: b.type }))];
  const timing: Record<string, number> = {};
  const view = await prepareView(
    { storeDir: storeDir(values.store), variant: values.variant, lock: values.lock ? path.resolve(values.lock) : undefined, roots: values.pkg },
    mountpoints,
    timing,
  );
  const helper = helperPath();
  const useFuse = Boolean(values.fuse) || !kernelViewsAvailable();
  const scratch = path.join(cacheRoot(), 'views', 'mnt');
  fs.mkdirSync(scratch, { recursive: true });

  const hargs = ['run', '--scratch', scratch];
  if (values.timing) hargs.push('--timing-fd', '3');
  if (useFuse) {
    hargs.push('--fuse');
    for (const a of [process.execPath, path.join(DIST, 'fuse/serve.js'), view.manifestFile, view.objectsDir, JSON.stringify(mountpoints)]) hargs.push('--server', a);
  } else {
    hargs.push('--meta', view.imageFile, '--objects', view.objectsDir);
  }
  for (const b of binds) hargs.push('--bind', `${b.host}:${b.guest}${b.ro ? ':ro' : ''}`);
  hargs.push('--', ...cmd);
  if (values.verbose) {
    io.err(
      useFuse
        ? `weld: view served by FUSE (${values.fuse ? '--fuse' : 'kernel path unavailable'}), manifest ${view.manifestFile}\n`
        : `weld: view composed by the kernel: EROFS metadata ${view.imageFile} + overlayfs data-only layer ${view.objectsDir}\n`,
    );
    io.err(`weld: view cache ${view.built === 'none' ? 'hit' : `miss (built ${view.built})`}\n`);
  }

  const env = { ...process.env };
  if (!env.PATH) env.PATH = DEFAULT_PATH;
  timing.prepare = Number((performance.now() - t0).toFixed(3));
  const spawnAt = performance.timeOrigin + performance.now();
  // no pipe unless timing is asked for: a stream costs start-up time
  const { child, exit } = startTool([helper, ...hargs], { stdio: values.timing ? ['inherit', 'inherit', 'inherit', 'pipe'] : 'inherit', env });
  let helperTiming = '';
  if (values.timing) {
    child.stdio[3]!.on('data', (d: Buffer) => (helperTiming += d.toString()));
    child.stdio[3]!.on('error', () => {});
  }
  const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = signals.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const status = await exit.then(
    ({ status: code, signal: sig }) => code ?? 128 + (sig ? (osSignals[sig] ?? 0) : 0),
    (e: Error) => {
      io.err(`weld: ${e.message}\n`);
      return 125;
    },
  );
  for (const [s, h] of handlers) process.off(s, h);
  if (values.timing) {
    try {
      const h = JSON.parse(helperTiming) as Record<string, number>;
      timing.spawn = Number((h.start! - spawnAt).toFixed(3));
      for (const k of ['namespace', 'root', 'mounts']) timing[k] = h[k]!;
      timing.helper = h.total!;
      // view construction from the cache to a mounted root, without Node's and exec's fixed costs
      timing.view = Number(((timing.cacheLookup ?? 0) + h.total!).toFixed(3));
    } catch {}
    timing.total = Number((performance.now() - t0).toFixed(3));
    // Node's own start-up: process start to this command's first line
    timing.nodeStart = Number(t0.toFixed(3));
    io.err(`weld: timing (ms): ${Object.entries(timing).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  }
  return status;
}

const osSignals = os.constants.signals as Record<string, number>;

interface Bind {
  host: string;
  guest: string;
  ro: boolean;
  type: 'dir' | 'file';
}

function parseBind(spec: string): Bind {
  const parts = spec.split(':');
  let ro = false;
  if (parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw')) ro = parts.pop() === 'ro';
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw usageError(`--bind ${spec}: expected HOST:GUEST[:ro]`);
  const host = path.resolve(parts[0]);
  const guest = parts[1];
  if (!guest.startsWith('/')) throw usageError(`--bind ${spec}: GUEST must be an absolute path`);
  let st: fs.Stats;
  try {
    st = fs.statSync(host);
  } catch (e) {
    throw usageError(`--bind ${spec}: ${host}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  return { host, guest: path.posix.normalize(guest), ro, type: st.isDirectory() ? 'dir' : 'file' };
}

/** erofs backed by a file (6.12+) and overlayfs data-only layers (6.5+) */
function kernelViewsAvailable(): boolean {
  let fsList = '';
  try {
    fsList = fs.readFileSync('/proc/filesystems', 'utf8');
  } catch {
    return true;
  }
  const [maj, min] = os.release().split('.').map(Number) as [number, number];
  const newEnough = maj > 6 || (maj === 6 && min >= 12);
  // absent from the list may still mean "a module not loaded yet": trust the version then
  return newEnough && (/\berofs\b/.test(fsList) || fs.existsSync(`/lib/modules/${os.release()}`)) && (/\boverlay\b/.test(fsList) || fs.existsSync(`/lib/modules/${os.release()}`));
}
