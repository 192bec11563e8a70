import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const io: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
};

type Opts = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with weld's usage errors (exit 2). */
export function args<O extends Opts>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    throw usageError((e as Error).message.replace(/^.*?: /, ''));
  }
}

export const storeOption = { store: { type: 'string' } } as const;

export { jsonText as json } from '../util/json.js';

export function humanBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** A one-line progress bar on a terminal; silent otherwise. */
export function progress(label: string, total: number) {
  let last = 0;
  return {
    tick(done: number, note = '') {
      if (!io.isTTY) return;
      const now = Date.now();
      if (done < total && now - last < 80) return;
      last = now;
      const w = 30;
      const fill = Math.round((done / Math.max(1, total)) * w);
      io.err(`\r${label} [${'#'.repeat(fill)}${' '.repeat(w - fill)}] ${done}/${total} ${note.slice(0, 40).padEnd(40)}`);
    },
    end() {
      if (io.isTTY) io.err('\r' + ' '.repeat(100) + '\r');
    },
  };
}

/** Options every command reads the same way, also accepted before the command (`weld --store DIR import …`). */
const GLOBAL_VALUED = new Set(['--store']);
const GLOBAL_FLAGS = new Set(['--json', '-h', '--help']);

/**
 * Moves global options that precede the command to just after it, as git and
 * podman accept them: `--store DIR import x` becomes `import --store DIR x`.
 * Options after the command stay where they are and so win over these.
 */
export function hoistGlobalOptions(argv: string[]): string[] {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (GLOBAL_FLAGS.has(a)) globals.push(a);
    else if (GLOBAL_VALUED.has(name) && name !== a) globals.push(a);
    else if (GLOBAL_VALUED.has(a)) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) throw usageError(`${a} needs a value: weld ${a} DIR COMMAND`);
      globals.push(a, v);
      i++;
    } else break;
  }
  // no command: `weld -h` is help, `weld --store DIR` is a usage error like bare `weld`
  if (i === argv.length) return globals.some((g) => g === '-h' || g === '--help') ? ['--help'] : [];
  return [argv[i]!, ...globals, ...argv.slice(i + 1)];
}
