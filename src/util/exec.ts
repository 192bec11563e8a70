/**
 * The one way weld runs child tools: argv (never a shell string), optional
 * input, a cap on captured output, and on failure a WeldError of kind `tool`
 * naming the tool, its argv and the tail of its stderr.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { WeldError } from '../errors.js';

/** where a child's stream goes: captured, dropped, shared with weld, or an open descriptor (a file being written) */
export type Stream = 'pipe' | 'ignore' | 'inherit' | number;

export interface ToolOptions {
  /** bytes for the tool's stdin (stdin is /dev/null without it) */
  input?: Uint8Array | string;
  /** cap on captured stdout, and on stderr (default 64 MiB): past it the tool is killed and the run fails */
  maxOutput?: number;
  stdout?: Stream;
  stderr?: Stream;
  /** descriptors handed to the child as fd 3, 4, … */
  fds?: number[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** what the caller was doing, the start of the error message (default "Cannot run TOOL") */
  what?: string;
  /** throw on a non-zero exit (default true); false returns the result for the caller to judge */
  check?: boolean;
}

export interface ToolResult {
  argv: string[];
  /** exit status; null when killed by a signal or never started */
  status: number | null;
  signal: NodeJS.Signals | null;
  /** the spawn error (ENOENT, ENOBUFS …) */
  error: Error | null;
  stdout: Buffer;
  stderr: string;
}

const DEFAULT_MAX = 64 * 1024 * 1024;
const ok = (r: ToolResult) => !r.error && r.status === 0;

/** Last `lines` non-empty lines of a tool's stderr, joined on one line. */
function stderrTail(stderr: string, lines = 3): string {
  return stderr.trim().split('\n').filter(Boolean).slice(-lines).join(' | ');
}

/** Why a run failed, in words: "exited 2", "killed by SIGKILL", "not found". */
function how(r: ToolResult): string {
  const e = r.error as NodeJS.ErrnoException | null;
  if (e?.code === 'ENOENT') return 'not found';
  if (e?.code === 'ENOBUFS') return 'output exceeds the cap';
  if (e) return e.message;
  return r.signal ? `killed by ${r.signal}` : `exited ${r.status}`;
}

/** The tool error for a failed run: `WHAT: TOOL exited N: stderr tail`. */
export function toolFailure(r: ToolResult, what?: string): WeldError {
  const tail = stderrTail(r.stderr);
  const tool = r.argv[0]!;
  return new WeldError('tool', 'E_TOOL', `${what ?? `Cannot run ${tool}`}: ${tool} ${how(r)}${tail ? `: ${tail}` : ''}`, {
    tool,
    argv: r.argv,
    status: r.status,
    signal: r.signal,
    stderr: tail,
  });
}

function stdio(o: ToolOptions): StdioOptions {
  return [o.input !== undefined ? 'pipe' : 'ignore', o.stdout ?? 'pipe', o.stderr ?? 'pipe', ...(o.fds ?? [])];
}

/** Runs a tool to completion. */
export function runTool(argv: string[], o: ToolOptions = {}): ToolResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: o.input, stdio: stdio(o), maxBuffer: o.maxOutput ?? DEFAULT_MAX, cwd: o.cwd, env: o.env });
  const res: ToolResult = {
    argv,
    status: r.status,
    signal: r.signal,
    error: r.error ?? null,
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: r.stderr?.toString('utf8') ?? '',
  };
  if (o.check !== false && !ok(res)) throw toolFailure(res, o.what);
  return res;
}

/** runTool without blocking the event loop. */
export function runToolAsync(argv: string[], o: ToolOptions = {}): Promise<ToolResult> {
  const max = o.maxOutput ?? DEFAULT_MAX;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: stdio(o), cwd: o.cwd, env: o.env });
  const out: Buffer[] = [];
  let outLen = 0;
  let stderr = '';
  let error: Error | null = null;
  const over = () => {
    error ??= Object.assign(new Error('output exceeds the cap'), { code: 'ENOBUFS' });
    child.kill('SIGKILL');
  };
  child.stdout?.on('data', (d: Buffer) => ((outLen += d.length) > max ? over() : out.push(d)));
  child.stderr?.on('data', (d: Buffer) => ((stderr += d.toString('utf8')).length > max ? over() : undefined));
  if (child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE when the tool exits without reading
    child.stdin.end(o.input);
  }
  return new Promise((resolve, reject) => {
    child.on('error', (e) => (error ??= e));
    child.on('close', (status, signal) => {
      const res: ToolResult = { argv, status, signal, error, stdout: Buffer.concat(out), stderr };
      if (o.check !== false && !ok(res)) reject(toolFailure(res, o.what));
      else resolve(res);
    });
  });
}

const present = new Map<string, boolean>();
/** Whether `name --version` runs; asked once per process. */
export function hasTool(name: string): boolean {
  let yes = present.get(name);
  if (yes === undefined) present.set(name, (yes = runTool([name, '--version'], { stdout: 'ignore', stderr: 'ignore', check: false }).status === 0));
  return yes;
}

/**
 * Streams `input` through a filter tool (a decompressor), yielding its stdout.
 * The tool's stderr tail is kept for the error; a consumer that stops early kills it.
 */
export async function* pipeTool(argv: string[], input: AsyncIterable<Uint8Array>, o: Pick<ToolOptions, 'what' | 'env'> = {}): AsyncGenerator<Uint8Array> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: o.env });
  let stderr = '';
  let error: Error | null = null;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).length > 4096 && (stderr = stderr.slice(-4096)));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
  child.on('error', (e) => (error ??= e));
  child.stdin.on('error', () => {}); // EPIPE when the tool stops early on bad data
  const pump = (async () => {
    try {
      for await (const c of input) {
        if (!child.stdin.write(c)) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
        if (child.stdin.destroyed) break;
      }
    } finally {
      child.stdin.end();
    }
  })();
  let pumpError: unknown = null;
  pump.catch((e) => (pumpError = e));
  try {
    for await (const c of child.stdout) yield c as Buffer;
    const [status, signal] = await exited;
    await pump.catch(() => {});
    if (pumpError) throw pumpError;
    const res: ToolResult = { argv, status, signal, error, stdout: Buffer.alloc(0), stderr };
    if (!ok(res)) throw toolFailure(res, o.what);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export interface Started {
  child: ChildProcess;
  /** the process exited; rejects with a tool error when the tool cannot start */
  exit: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  /** the process exited and its piped streams are drained */
  closed: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a long-running tool (a sandbox, a VM, a daemon) whose streams the
 * caller wires itself; a tool that cannot start rejects `exit` with a tool error.
 */
export function startTool(argv: string[], o: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv; detached?: boolean; what?: string } = {}): Started {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: o.stdio ?? 'inherit', env: o.env, detached: o.detached });
  const failed = new Promise<never>((_, reject) =>
    child.on('error', (e) => reject(toolFailure({ argv, status: null, signal: null, error: e, stdout: Buffer.alloc(0), stderr: '' }, o.what ?? `Cannot start ${argv[0]}`))),
  );
  const on = (ev: 'exit' | 'close') => Promise.race([failed, new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on(ev, (status, signal) => resolve({ status, signal })))]);
  const started: Started = { child, exit: on('exit'), closed: on('close') };
  // a caller that only watches one of them must not see an unhandled rejection
  started.exit.catch(() => {});
  started.closed.catch(() => {});
  failed.catch(() => {});
  return started;
}
