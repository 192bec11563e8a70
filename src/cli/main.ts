#!/usr/bin/env node
import { isWeldError } from '../errors.js';
import { hoistGlobalOptions, io } from './util.js';

type Command = { run: (argv: string[]) => Promise<number>; summary: string };

// Commands load lazily: start-up time counts for `weld run`.
const COMMANDS: Record<string, { load: () => Promise<{ run: Command['run'] }>; summary: string }> = {
  import: { load: () => import('./import.js'), summary: 'read packages into the store' },
  inspect: { load: () => import('./inspect.js'), summary: 'parse a package file without storing it' },
  ls: { load: () => import('./ls.js'), summary: 'list packages in the store' },
  show: { load: () => import('./show.js'), summary: 'show one package from the store' },
  fsck: { load: () => import('./fsck.js'), summary: 'check every object and catalog reference' },
  scriptlets: { load: () => import('./scriptlets.js'), summary: 'report scriptlet actions across the store' },
  link: { load: () => import('./link.js'), summary: 'link a variant into an image (ddi, erofs, tar, dir, manifest)' },
  verify: { load: () => import('./verify.js'), summary: 'check a sealed image block by block' },
  initramfs: { load: () => import('./initramfs.js'), summary: 'compose a gzip initramfs that boots a variant\'s verity root' },
  mount: { load: () => import('./mount.js'), summary: 'serve a variant read-only over FUSE from the store' },
  umount: { load: () => import('./umount.js'), summary: 'unmount a weld mount' },
  run: { load: () => import('./run.js'), summary: 'run a command in a private view of a variant' },
  quickstart: { load: () => import('./quickstart.js'), summary: 'fetch Debian packages, import, link and verify: the main job end to end' },
};

const HELP = `weld — image assembly from packages as bricks, not robots

Usage: weld [--store DIR] [--json] COMMAND [options]

Commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`)
  .join('\n')}

Common options (before or after the command):
  --store DIR   the store (default: $WELD_STORE, else $XDG_DATA_HOME/weld)
  --json        machine-readable output on stdout (logs stay on stderr)
  -h, --help    help for a command

Exit codes: 0 success, 1 failure, 2 usage error.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = hoistGlobalOptions(argv);
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    io.out(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-V') {
    io.out('weld 0.1.0\n');
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    io.err(`weld: unknown command "${cmd}"; see weld --help\n`);
    return 2;
  }
  const mod = await c.load();
  return mod.run(rest);
}

// `weld ls | head`: a reader that closed the pipe wants no more output, as with ls or cat (killed by SIGPIPE, status 141)
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(141);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isWeldError(e)) {
      io.err(`weld: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      io.err(`weld: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
