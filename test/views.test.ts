/**
 * weld run against real Debian packages: programs run inside views composed
 * by the kernel (EROFS metadata + overlayfs data-only layer) and by FUSE.
 * Oracles: SHA-256 of the store objects computed outside the view, the
 * host's /proc/self/mountinfo, the programs' own exit statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, has, run, stageDebs, weld } from './helpers/tools.js';

const DEBS = ['base-files', 'base-passwd', 'busybox-static', 'libc6', 'libgcc-s1', 'gcc-12-base', 'coreutils', 'libacl1', 'libattr1', 'libgmp10', 'libselinux1', 'libpcre2-8-0', 'mawk', 'libdebconfclient0'];
const DEB_CACHE = path.join(ROOT, 'fixtures/.cache/deb');
const VA = path.join(ROOT, 'test/variants/views-a.toml');
const VB = path.join(ROOT, 'test/variants/views-b.toml');

const isRoot = process.geteuid?.() === 0;
const canRun = isRoot && has('apt-get') && has('cc') && fs.existsSync('/dev/fuse') && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let tmp = '';
let env: NodeJS.ProcessEnv = {};
/** host mounts that could be ours: anything under the test dir, any weld FUSE mount, any overlay on the store (other engineers mount unrelated things meanwhile) */
const mountinfo = () =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l && ((tmp && l.includes(tmp)) || l.includes(' fuse.weld ') || l.includes('weld-views-'))).length;
let mountsBefore = 0;

interface ManifestNode {
  path: string;
  type: string;
  size: number;
  object?: string;
}

function wrun(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return weld(['run', ...args], { env: opts.env ?? env, input: opts.input ?? '', timeout: 60_000 });
}

/** Many weld runs at once, as separate processes. */
function wrunAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

function manifestOf(variant: string): ManifestNode[] {
  const out = path.join(tmp, `${path.basename(variant)}.manifest.json`);
  const r = weld(['link', '--variant', variant, '--format', 'manifest', '-o', out], { env });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(fs.readFileSync(out, 'utf8')) as { nodes: ManifestNode[] }).nodes;
}

const objectPath = (id: string) => path.join(tmp, 'store/objects', id.slice(0, 2), id.slice(2));

describe.skipIf(!canRun)('weld run (kernel view and FUSE view)', () => {
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-views-'));
    env = { ...process.env, WELD_STORE: path.join(tmp, 'store'), WELD_CACHE: path.join(tmp, 'cache') };
    const debs = stageDebs(DEB_CACHE, DEBS, path.join(tmp, 'debs'));
    const r = weld(['import', debs], { env });
    if (r.status !== 0) throw new Error(r.stderr);
    mountsBefore = mountinfo();
  }, 120_000);

  afterAll(() => {
    // nothing of ours may stay mounted on the host, whatever failed
    expect(mountinfo()).toBe(mountsBefore);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('runs sh -c with stdin, stdout, stderr and the exit status passed through', () => {
    const r = wrun(['--variant', VA, '--verbose', '--', 'sh', '-c', 'read x; echo "got $x $((6*7))"; echo oops >&2; exit 3'], { input: 'hello\n' });
    expect(r.stderr).toContain('view composed by the kernel');
    expect(r.stdout.toString()).toBe('got hello 42\n');
    expect(r.stderr).toContain('oops');
    expect(r.status).toBe(3);
    expect(mountinfo()).toBe(mountsBefore);
  });

  it('gives the command /, a read-only root, /proc, /sys, a writable /tmp and a minimal /dev', () => {
    const script = [
      'pwd',
      'ls /dev | sort | tr "\\n" " "; echo',
      'test -r /proc/self/status && echo proc',
      'test -d /sys/kernel && echo sys',
      'echo x > /tmp/f && cat /tmp/f',
      'touch /etc/nope 2>/dev/null || echo rofs',
      'head -c 4 /dev/zero | od -An -tx1',
      'awk "\\$5 == \\"/\\" {print \\$9}" /proc/self/mountinfo 2>/dev/null || grep " / / " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1',
    ].join('; ');
    const r = wrun(['--variant', VA, '--', 'sh', '-c', script], { env: { ...env, PATH: '/usr/bin' } });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.toString().split('\n');
    expect(lines[0]).toBe('/');
    for (const d of ['full', 'null', 'random', 'tty', 'urandom', 'zero']) expect(lines[1]).toContain(d);
    expect(lines).toContain('proc');
    expect(lines).toContain('sys');
    expect(lines).toContain('x');
    expect(lines).toContain('rofs');
    expect(lines.some((l) => l.trim() === '00 00 00 00')).toBe(true);
    expect(lines).toContain('overlay');
  });

  it('sets a default PATH when the caller has none', () => {
    const e = { ...env };
    delete e.PATH;
    const r = wrun(['--variant', VA, '--', 'sh', '-c', 'echo $PATH'], { env: e });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString().trim()).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });

  it('runs a dynamically linked ls -lR / that loads libc, libselinux and libpcre2 from the view', () => {
    const r = wrun(['--variant', VA, '--', '/usr/bin/ls', '-lR', '/usr', '/etc']);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/-rwxr-xr-x 1 root root +\d+ .* busybox\n/);
    expect(out).toContain('libselinux.so.1');
    // the dynamic loader maps the view's libraries: ldd-like check via /proc/self/maps
    const maps = wrun(['--variant', VA, '--', '/usr/bin/cat', '/proc/self/maps']).stdout.toString();
    expect(maps).toContain('/usr/lib/x86_64-linux-gnu/libc.so.6');
  });

  for (const mode of ['kernel', 'fuse'] as const) {
    it(`reads every regular file byte-identical to its store object (${mode}; sha256sum inside vs SHA-256 outside)`, () => {
      const nodes = manifestOf(VA).filter((n) => n.type === 'file' && !/[\\\n]/.test(n.path));
      expect(nodes.length).toBeGreaterThan(300);
      const want = new Map(nodes.map((n) => [n.path, n.object ? crypto.createHash('sha256').update(fs.readFileSync(objectPath(n.object))).digest('hex') : crypto.createHash('sha256').digest('hex')]));
      const list = path.join(tmp, 'files.txt');
      fs.writeFileSync(list, nodes.map((n) => n.path).join('\n') + '\n');
      const r = wrun([...(mode === 'fuse' ? ['--fuse'] : []), '--verbose', '--variant', VA, '--bind', `${list}:/files.txt:ro`, '--', 'sh', '-c', 'xargs /usr/bin/sha256sum < /files.txt']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(mode === 'fuse' ? 'served by FUSE' : 'composed by the kernel');
      const got = new Map(
        r.stdout
          .toString()
          .trim()
          .split('\n')
          .map((l) => [l.slice(66), l.slice(0, 64)] as const),
      );
      expect(got.size).toBe(want.size);
      for (const [p, h] of want) expect(got.get(p), p).toBe(h);
    }, 60_000);
  }

  it('serves two variants to two processes at once: same path, different files', async () => {
    const script = 'cat /etc/which; sleep 0.3; cat /etc/which';
    const [a, b] = await Promise.all([wrunAsync(['--variant', VA, '--', 'sh', '-c', script]), wrunAsync(['--variant', VB, '--', 'sh', '-c', script])]);
    expect(a.stdout).toBe('A\nA\n');
    expect(b.stdout).toBe('B\nB\n');
    expect(fs.existsSync('/etc/which')).toBe(false);
  });

  it('runs 20 weld runs concurrently', async () => {
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => wrunAsync(['--variant', i % 2 ? VA : VB, '--', 'sh', '-c', `cat /etc/which; exit ${i % 3}`])));
    rs.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(i % 3);
      expect(r.stdout).toBe(i % 2 ? 'A\n' : 'B\n');
    });
    expect(mountinfo()).toBe(mountsBefore);
  }, 60_000);

  it('limits the view to the closure of --pkg, generated files included', () => {
    const r = wrun(['--pkg', 'coreutils', '--', '/usr/bin/ls', '/usr/bin']);
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout.toString().trim().split('\n');
    expect(names).toContain('ls');
    expect(names).toContain('sha256sum');
    expect(names).not.toContain('busybox');
    // /etc/passwd is generated by the users action for this closure, and served from the store too
    const etc = wrun(['--pkg', 'coreutils', '--', '/usr/bin/cat', '/etc/passwd']);
    expect(etc.status, etc.stderr).toBe(0);
    expect(etc.stdout.toString()).toMatch(/^root:x:0:0:/m);
  });

  it('repeats a run from the cache without resolving again', () => {
    wrun(['--variant', VA, '--', 'sh', '-c', 'true']);
    const r = wrun(['--variant', VA, '--verbose', '--timing', '--', 'sh', '-c', 'true']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('view cache hit');
    expect(r.stderr).not.toMatch(/\bresolve \d/);
    expect(r.stderr).toMatch(/\bview [\d.]+/);
  });

  it('exits 128+N when signal N ends the command', () => {
    const r = wrun(['--variant', VA, '--', 'sh', '-c', 'kill -TERM $$']);
    expect(r.status).toBe(143);
  });

  it('exits 127 for a command not in the view and 126 for one that cannot run', () => {
    const nf = wrun(['--variant', VA, '--', '/usr/bin/no-such-command']);
    expect(nf.status).toBe(127);
    expect(nf.stderr).toContain('no-such-command: command not found');
    const na = wrun(['--variant', VA, '--', '/etc/passwd']);
    expect(na.status).toBe(126);
    expect(na.stderr).toMatch(/Cannot run \/etc\/passwd: Permission denied/);
    expect(mountinfo()).toBe(mountsBefore);
  });

  it('exits 125 with a clear message when not root', () => {
    const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, path.join(ROOT, 'dist/cli/main.js'), 'run', '--variant', VA, '--', 'sh', '-c', 'true'], { env, allowFail: true });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('needs root');
    expect(mountinfo()).toBe(mountsBefore);
  });

  it('exits 125 naming the missing store object, and mounts nothing', () => {
    const node = manifestOf(VA).find((n) => n.path === '/usr/bin/busybox')!;
    const p = objectPath(node.object!);
    const aside = p + '.aside';
    fs.renameSync(p, aside);
    try {
      const r = wrun(['--variant', VA, '--', 'sh', '-c', 'true'], { env: { ...env, WELD_CACHE: path.join(tmp, 'cache-missing') } });
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('missing 1 object the view needs: /usr/bin/busybox');
    } finally {
      fs.renameSync(aside, p);
    }
    expect(mountinfo()).toBe(mountsBefore);
  });

  it('rejects a --bind whose host path does not exist (125)', () => {
    const r = wrun(['--variant', VA, '--bind', '/no/such/dir:/x', '--', 'sh', '-c', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('/no/such/dir: no such file or directory');
  });

  it('leaves nothing behind when weld run is killed with SIGKILL (kernel and FUSE)', async () => {
    for (const fuse of [false, true]) {
      const c = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'run', ...(fuse ? ['--fuse'] : []), '--variant', VA, '--', 'sh', '-c', 'echo $$; exec sleep 60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const pid = await new Promise<number>((resolve) => c.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
      expect(pid).toBeGreaterThan(1);
      c.kill('SIGKILL');
      const gone = async () => {
        for (let i = 0; i < 100; i++) {
          try {
            process.kill(pid, 0);
          } catch {
            return true;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
        return false;
      };
      expect(await gone()).toBe(true);
      // the FUSE server lived in the namespace: no weld process may survive
      const left = run('sh', ['-c', `ps -eo args | grep -c "[f]use/serve.js .*${tmp}" || true`]).stdout.toString().trim();
      expect(left).toBe('0');
    }
    expect(mountinfo()).toBe(mountsBefore);
  }, 30_000);
});
