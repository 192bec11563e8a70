/**
 * weld mount / weld umount: the FUSE view checked from outside with GNU find
 * and cmp against the manifest `weld link --format manifest` writes and the
 * store objects; a crashed server's stale mount is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, has, run, stageDebs, weld } from './helpers/tools.js';
import type { ManifestNode } from '../src/linker/output/manifest.js';

const DEBS = ['base-files', 'base-passwd', 'busybox-static', 'libc6', 'libgcc-s1', 'gcc-12-base', 'mawk', 'libdebconfclient0', 'libselinux1', 'libpcre2-8-0'];
const DEB_CACHE = path.join(ROOT, 'fixtures/.cache/deb');
const canRun = process.geteuid?.() === 0 && has('apt-get') && has('cc') && fs.existsSync('/dev/fuse') && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

let tmp = '';
let mp = '';
let env: NodeJS.ProcessEnv = {};
let serverPid = 0;
const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => mp && l.split(' ')[4] === mp);


describe.skipIf(!canRun)('weld mount (FUSE)', () => {
  let nodes: ManifestNode[] = [];
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-fuse-'));
    mp = path.join(tmp, 'mp');
    fs.mkdirSync(mp);
    env = { ...process.env, WELD_STORE: path.join(tmp, 'store'), WELD_CACHE: path.join(tmp, 'cache') };
    const debs = stageDebs(DEB_CACHE, DEBS, path.join(tmp, 'debs'));
    const r = weld(['import', debs], { env });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = path.join(tmp, 'm.json');
    const l = weld(['link', '--variant', 'minimal', '--format', 'manifest', '-o', out], { env });
    if (l.status !== 0) throw new Error(l.stderr);
    nodes = (JSON.parse(fs.readFileSync(out, 'utf8')) as { nodes: ManifestNode[] }).nodes;
  }, 120_000);

  afterAll(() => {
    for (let i = 0; i < 3 && mounted().length; i++) run('umount', ['-l', mp], { allowFail: true });
    const left = mounted().length;
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    expect(left).toBe(0);
  });

  it('serves the manifest: types, modes, owners, sizes, mtimes, targets, stable shared inodes', () => {
    const m = weld(['mount', '--daemon', '--variant', 'minimal', mp], { env });
    expect(m.status, m.stderr).toBe(0);
    expect(mounted()[0]).toContain(' - fuse.weld weld ro');
    const find = run('find', [mp, '-printf', '%P\\0%y\\0%m\\0%U\\0%G\\0%s\\0%T@\\0%i\\0%l\\0']).stdout.toString().split('\0');
    const seen = new Map<string, string[]>();
    for (let i = 0; i + 9 <= find.length; i += 9) seen.set('/' + find[i], find.slice(i + 1, i + 9));
    const Y: Record<string, string> = { file: 'f', dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p', socket: 's' };
    expect(seen.size).toBe(nodes.length);
    const inodeOfLink = new Map<number, string>();
    for (const n of nodes) {
      const key = n.path === '/' ? '/' : n.path;
      const f = seen.get(key === '/' ? '/' : key);
      expect(f, n.path).toBeDefined();
      const [y, mode, uid, gid, size, mtime, ino, target] = f!;
      expect(y, n.path).toBe(Y[n.type]);
      expect(parseInt(mode!, 8), n.path).toBe(n.mode & 0o7777);
      expect([Number(uid), Number(gid)], n.path).toEqual([n.uid, n.gid]);
      if (n.type !== 'dir') expect(Number(size), n.path).toBe(n.type === 'symlink' ? Buffer.byteLength(n.target!) : n.size);
      expect(Math.floor(Number(mtime)), n.path).toBe(n.mtime);
      if (n.type === 'symlink') expect(target, n.path).toBe(n.target);
      if (n.hardlink) {
        if (inodeOfLink.has(n.hardlink)) expect(ino, n.path).toBe(inodeOfLink.get(n.hardlink));
        else inodeOfLink.set(n.hardlink, ino!);
      }
    }
    // inode numbers are the same on the next mount of the same manifest
    const inoBefore = fs.statSync(path.join(mp, 'usr/bin/busybox')).ino;
    expect(weld(['umount', mp], { env }).status).toBe(0);
    const again = weld(['mount', '--daemon', '--variant', 'minimal', mp], { env });
    expect(again.status).toBe(0);
    serverPid = Number(again.stdout.toString().trim());
    expect(fs.statSync(path.join(mp, 'usr/bin/busybox')).ino).toBe(inoBefore);
  });

  it('reads every regular file byte-identical to its store object', () => {
    let files = 0;
    for (const n of nodes) {
      if (n.type !== 'file') continue;
      const got = fs.readFileSync(path.join(mp, n.path));
      const want = n.object ? fs.readFileSync(path.join(tmp, 'store/objects', n.object.slice(0, 2), n.object.slice(2))) : Buffer.alloc(0);
      expect(got.equals(want), n.path).toBe(true);
      files++;
    }
    expect(files).toBeGreaterThan(200);
    // reads at odd offsets and past the end, as cmp and dd do them
    const big = nodes.find((n) => n.path === '/usr/bin/busybox')!;
    const fd = fs.openSync(path.join(mp, big.path), 'r');
    const buf = Buffer.alloc(100_000);
    const n = fs.readSync(fd, buf, 0, buf.length, big.size - 1234);
    fs.closeSync(fd);
    expect(n).toBe(1234);
    expect(run('cmp', [path.join(mp, big.path), path.join(tmp, 'store/objects', big.object!.slice(0, 2), big.object!.slice(2))]).status).toBe(0);
  });

  it('is read-only and answers statfs', () => {
    expect(() => fs.writeFileSync(path.join(mp, 'etc/hostname'), 'x')).toThrow(/EROFS|read-only/i);
    const df = run('stat', ['-f', '-c', '%b %c', mp]).stdout.toString().trim().split(' ').map(Number);
    expect(df[0]).toBeGreaterThan(0);
    expect(df[1]).toBeGreaterThanOrEqual(nodes.length);
  });

  it('refuses to mount over a live weld mount, and replaces a crashed one', () => {
    const again = weld(['mount', '--daemon', '--variant', 'minimal', mp], { env });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already served by a running weld mount');
    // the server's pid as weld mount --daemon printed it (a refused mount's child may still be exiting)
    expect(serverPid).toBeGreaterThan(1);
    process.kill(serverPid, 'SIGKILL');
    for (let i = 0; i < 50; i++) {
      try {
        fs.statfsSync(mp);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOTCONN') break;
      }
      run('sleep', ['0.05']);
    }
    expect(() => fs.statfsSync(mp)).toThrow(/ENOTCONN/);
    const m = weld(['mount', '--daemon', '--verbose', '--variant', 'minimal', mp], { env });
    expect(m.status, m.stderr).toBe(0);
    expect(mounted()).toHaveLength(1);
    expect(fs.readFileSync(path.join(mp, 'etc/hostname'), 'utf8')).toBe('weld-minimal\n');
  });

  it('unmounts with weld umount, and the server exits', () => {
    const r = weld(['umount', mp], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(mounted()).toHaveLength(0);
    const again = weld(['umount', mp], { env });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('Nothing is mounted');
  });
});
