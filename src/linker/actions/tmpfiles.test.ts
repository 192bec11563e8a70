import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasTool, runTool } from '../../util/exec.js';
import { LinkTree, modeOf, type LinkNode } from '../tree.js';
import { applyTmpfiles } from './tmpfiles.js';

// accounts both the scratch root and the tree know (systemd-tmpfiles --root reads the root's passwd/group)
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nmail:x:8:8:mail:/var/mail:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\ndaemon:x:1:\nmail:x:8:\nutmp:x:43:\n';
const names = { user: { 0: 'root', 1: 'daemon', 8: 'mail' } as Record<number, string>, group: { 0: 'root', 1: 'daemon', 8: 'mail', 43: 'utmp' } as Record<number, string> };

/** what the packages ship before the postinst runs: the same in the scratch root and in the tree */
const SHIPPED: { path: string; type: 'dir' | 'file' | 'symlink'; perm?: number; user?: string; group?: string; body?: string; target?: string }[] = [
  { path: '/etc', type: 'dir' },
  { path: '/etc/passwd', type: 'file', body: PASSWD },
  { path: '/etc/group', type: 'file', body: GROUP },
  { path: '/etc/old', type: 'file', perm: 0o600, user: 'mail', body: 'kept' },
  { path: '/etc/trunc', type: 'file', perm: 0o640, body: 'old body' },
  { path: '/etc/link', type: 'symlink', target: 'kept' },
  { path: '/etc/masked.d', type: 'dir' },
  { path: '/etc/tmpfiles.d', type: 'dir' },
  { path: '/etc/tmpfiles.d/masked.conf', type: 'symlink', target: '/dev/null' },
  { path: '/usr', type: 'dir' },
  { path: '/usr/share', type: 'dir' },
  { path: '/usr/share/factory', type: 'dir' },
  { path: '/usr/share/factory/etc', type: 'dir' },
  { path: '/usr/share/factory/etc/copied', type: 'file', perm: 0o600, body: 'from the factory\n' },
  { path: '/var', type: 'dir' },
  { path: '/var/lib', type: 'dir' },
  { path: '/var/lib/adjust', type: 'dir', perm: 0o700 },
  { path: '/var/lib/keepowner', type: 'dir', user: 'mail', group: 'mail' },
  { path: '/var/lib/deep', type: 'dir', perm: 0o700 },
  { path: '/var/lib/deep/f', type: 'file', perm: 0o600, body: 'x' },
  { path: '/var/lib/masked', type: 'dir', perm: 0o700 },
  { path: '/var/log', type: 'dir' },
  { path: '/var/log/exec', type: 'file', perm: 0o755, body: 'x' },
  { path: '/var/run', type: 'symlink', target: '../run' },
];

const CONFIGS: Record<string, string> = {
  'a.conf': [
    '# creation lines',
    'd /var/lib/new 0750 daemon mail 3d',
    'd /var/lib/adjust - - - -',
    'd /var/lib/keepowner 0711 - - -',
    'D /var/lib/made/deeper 0700 - - -',
    'q /srv 0755 - - -',
    'f /etc/old 0644 - - - ignored',
    'f /etc/new 0640 root mail - hello\\nworld',
    'f+ /etc/trunc - - - - new body',
    'F /etc/empty 0600',
    'f~ /etc/b64 0644 - - - aGVsbG8K',
    'L /etc/link - - - - replaced',
    'L+ /etc/mtab - - - - ../proc/self/mounts',
    'L /etc/factory-link',
    'C /etc/copied - - - -',
    'p /var/lib/fifo 0600 daemon - -',
    'd! /var/lib/bootonly 0755 - - -',
    'd /run/runtime 0755 - - -',
    'd /var/run/also-runtime 0755 - - -',
    'f /var/log/wtmp 0664 root utmp -',
    '# adjusting lines',
    'z /var/lib/adjust 0711 daemon -',
    'Z /var/lib/deep 0750 - mail',
    'z /var/log/exec ~0666 - - -',
    'd /var/lib/new 0777 - - -',
  ].join('\n'),
  'b.conf': 'd /var/lib/new 0700 - - -\nd /var/lib/fromb :0700 - :mail -\nz /var/lib/keepowner :0700 daemon -\n',
  'masked.conf': 'd /var/lib/masked 0755 - - -\n',
};

function scratch(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-tmpfiles-'));
  fs.chmodSync(root, 0o755);
  for (const e of SHIPPED) {
    const p = path.join(root, e.path);
    if (e.type === 'dir') fs.mkdirSync(p);
    else if (e.type === 'file') fs.writeFileSync(p, e.body ?? '');
    else fs.symlinkSync(e.target!, p);
    const uid = Number(Object.entries(names.user).find(([, n]) => n === (e.user ?? 'root'))![0]);
    const gid = Number(Object.entries(names.group).find(([, n]) => n === (e.group ?? 'root'))![0]);
    fs.lchownSync(p, uid, gid);
    if (e.type !== 'symlink') fs.chmodSync(p, e.perm ?? (e.type === 'dir' ? 0o755 : 0o644));
  }
  fs.mkdirSync(path.join(root, 'usr/lib/tmpfiles.d'), { recursive: true });
  for (const [n, t] of Object.entries(CONFIGS)) fs.writeFileSync(path.join(root, 'usr/lib/tmpfiles.d', n), t);
  return root;
}

function linkTree(): LinkTree {
  const t = new LinkTree(1000);
  for (const e of SHIPPED) {
    if (e.type === 'dir') t.mkdir(e.path, 'pkg', e.perm ?? 0o755, e.user ?? 'root', e.group ?? 'root');
    else if (e.type === 'file') t.writeFile(e.path, e.body ?? '', 'pkg', e.perm ?? 0o644, e.user ?? 'root', e.group ?? 'root');
    else t.symlink(e.path, e.target!, 'pkg');
  }
  for (const [n, body] of Object.entries(CONFIGS)) t.writeFile(`/usr/lib/tmpfiles.d/${n}`, body, 'pkg');
  return t;
}

type Seen = { type: string; perm: number; user: string; group: string; target?: string; body?: string };

function walkDir(root: string): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const visit = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'file';
    out.set(rel || '/', {
      type, perm: st.mode & 0o7777, user: names.user[st.uid]!, group: names.group[st.gid]!,
      ...(type === 'symlink' ? { target: fs.readlinkSync(p) } : {}), ...(type === 'file' ? { body: fs.readFileSync(p, 'latin1') } : {}),
    });
    if (type === 'dir') for (const n of fs.readdirSync(p).sort()) visit(`${rel}/${n}`);
  };
  visit('');
  return out;
}

function walkTree(t: LinkTree): Map<string, Seen> {
  const out = new Map<string, Seen>();
  for (const n of t.sorted() as LinkNode[]) {
    out.set(n.path, {
      type: n.type, perm: n.mode & 0o7777, user: n.user, group: n.group,
      ...(n.type === 'symlink' ? { target: n.target } : {}), ...(n.type === 'file' ? { body: Buffer.from(n.data ?? new Uint8Array()).toString('latin1') } : {}),
    });
  }
  return out;
}

describe.skipIf(!hasTool('systemd-tmpfiles') || process.getuid?.() !== 0)('applyTmpfiles against systemd-tmpfiles --root --create', () => {
  it('makes the tree the real tool makes: creation, adjusting, masking, duplicates, boot-only and runtime lines', () => {
    const root = scratch();
    try {
      const order = ['a.conf', 'b.conf', 'masked.conf'];
      const r = runTool(['systemd-tmpfiles', `--root=${root}`, '--create', ...order]);
      expect(r.status, r.stderr).toBe(0);
      // the tool leaves runtime paths to boot as well when the root has no /run
      fs.rmSync(path.join(root, 'run'), { recursive: true, force: true });
      const t = linkTree();
      const text = (p: string) => {
        const n = t.get(p);
        return n?.type === 'file' ? Buffer.from(n.data!).toString('utf8') : undefined;
      };
      const res = applyTmpfiles(t, [{ pkg: 'systemd', names: order }], text, { user: (n) => Object.values(names.user).includes(n), group: (n) => Object.values(names.group).includes(n) });
      expect(walkTree(t)).toEqual(walkDir(root));
      expect(res.deferred).toEqual([]);
      // the checks that matter most, spelled out
      expect(t.get('/etc/mtab')).toMatchObject({ type: 'symlink', target: '../proc/self/mounts' });
      expect(t.get('/var/lib/new')).toMatchObject({ mode: modeOf('dir', 0o750), user: 'daemon', group: 'mail' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists what it leaves to boot: credentials, specifiers, ACLs and attributes', () => {
    const t = linkTree();
    const res = applyTmpfiles(
      t,
      [{ pkg: 'systemd', names: ['f^ /etc/hosts - - - - network.hosts\nh /var/log/journal/%m - - - - +C\na+ /var/log - - - - group:adm:r-x', 'missing.conf'] }],
      () => undefined,
      { user: () => true, group: () => true },
    );
    expect(res.deferred.map((d) => d.reason)).toEqual([
      'no such tmpfiles.d config in the image',
      'reads a credential, which exists only on a running system',
      'its path has a specifier or a glob, known only on a running system',
      'a lines (ACLs, attributes, xattrs) are not kept in the image',
    ]);
    expect(t.get('/etc/hosts')).toBeUndefined();
  });
});
