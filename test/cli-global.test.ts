/**
 * --store, --json and -h work before the command as after it, as git,
 * podman and kubectl users expect: `weld --store DIR import …`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hoistGlobalOptions } from '../src/cli/util.js';
import { isWeldError } from '../src/errors.js';
import { has, ROOT, run, weld } from './helpers/tools.js';

describe('hoistGlobalOptions', () => {
  it.each([
    [['import', 'a.deb'], ['import', 'a.deb']],
    [['--store', 'S', 'import', 'a.deb'], ['import', '--store', 'S', 'a.deb']],
    [['--store=S', 'ls'], ['ls', '--store=S']],
    [['--json', '--store', 'S', 'ls', '--store', 'T'], ['ls', '--json', '--store', 'S', '--store', 'T']],
    [['-h', 'import'], ['import', '-h']],
    [['--help', 'link'], ['link', '--help']],
    [['-h'], ['--help']],
    [['--store', 'S'], []],
    [['--version'], ['--version']],
    // after the command nothing moves, `--` included
    [['run', '--store', 'S', '--', 'sh', '--json'], ['run', '--store', 'S', '--', 'sh', '--json']],
    [['--store', 'S', 'run', '--', 'ls', '-h'], ['run', '--store', 'S', '--', 'ls', '-h']],
  ])('%j → %j', (argv, want) => {
    expect(hoistGlobalOptions(argv)).toEqual(want);
  });

  it('refuses --store without a value', () => {
    for (const argv of [['--store'], ['--store', '--json', 'ls']]) {
      let err: unknown;
      try {
        hoistGlobalOptions(argv);
      } catch (e) {
        err = e;
      }
      expect(isWeldError(err) && err.kind === 'usage').toBe(true);
    }
  });
});

const canRun = has('dpkg-deb') && existsSync(path.join(ROOT, 'dist/cli/main.js'));
const dir = mkdtempSync(path.join(tmpdir(), 'weld-cli-global-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!canRun)('weld with global options before the command', () => {
  it('imports and lists with --store and --json in front', () => {
    const pkg = path.join(dir, 'pkg');
    mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
    mkdirSync(path.join(pkg, 'usr/share/hello'), { recursive: true });
    writeFileSync(path.join(pkg, 'usr/share/hello/greeting'), 'hello\n');
    writeFileSync(path.join(pkg, 'DEBIAN/control'), 'Package: hello-global\nVersion: 1.0\nArchitecture: all\nMaintainer: weld <weld@example.org>\nDescription: global options test\n');
    const deb = path.join(dir, 'hello-global_1.0_all.deb');
    run('dpkg-deb', ['--root-owner-group', '-b', pkg, deb]);
    const store = path.join(dir, 'store');

    const imp = weld(['--store', store, 'import', deb]);
    expect(imp.status, imp.stderr).toBe(0);
    const before = weld(['--json', '--store', store, 'ls']);
    expect(before.status, before.stderr).toBe(0);
    const after = weld(['ls', '--store', store, '--json']);
    expect(after.status, after.stderr).toBe(0);
    expect(before.stdout.toString()).toBe(after.stdout.toString());
    expect(JSON.parse(before.stdout.toString())).toEqual([expect.objectContaining({ name: 'hello-global', version: '1.0' })]);
    // the option after the command wins
    const empty = weld(['--store', store, 'ls', '--json', '--store', path.join(dir, 'other')]);
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain(`No weld store at ${path.join(dir, 'other')}`);
  });

  it('gives a command its help with -h in front', () => {
    const r = weld(['-h', 'import']);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/^weld import /);
  });

  it('answers a usage error, not "unknown command", for a missing value or command', () => {
    const noValue = weld(['--store']);
    expect(noValue.status).toBe(2);
    expect(noValue.stderr).toMatch(/--store needs a value/);
    const noCommand = weld(['--store', dir]);
    expect(noCommand.status).toBe(2);
    expect(noCommand.stdout.toString()).toMatch(/^weld — /);
    expect(noCommand.stderr).not.toMatch(/unknown command/);
  });
});

describe('a reader that closed the pipe', () => {
  it('ends weld quietly, as SIGPIPE ends ls: no stack trace, status 141', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the read end is gone before weld writes
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  });
});
