/**
 * The comparison of test/helpers/installer.ts on small trees made here: what
 * it counts, what it leaves out by name, and how owners and accounts compare.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accountFiles, compareAccounts, compareTrees, ignored, mechanismOf, walk } from './helpers/installer.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-installer-helper-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>, passwd: string, group: string): string {
  const root = path.join(work, name);
  for (const [p, content] of Object.entries({ ...files, '/etc/passwd': passwd, '/etc/group': group })) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content);
  }
  return root;
}

describe('the installer comparison', () => {
  const isRoot = process.getuid?.() === 0;

  it.skipIf(!isRoot)('compares owners by name through each tree\'s own account files, bytecode without its content', () => {
    // crontab is gid 101 on one side and 999 on the other: the same group by name
    const a = tree('a', { '/usr/bin/crontab': 'x', '/usr/lib/python3/__pycache__/m.cpython-311.pyc': 'one', '/etc/shadow': 'root:*:19000:0:99999:7:::\n' }, 'root:x:0:0::/root:/bin/sh\n', 'root:x:0:\ncrontab:x:101:\n');
    const b = tree('b', { '/usr/bin/crontab': 'x', '/usr/lib/python3/__pycache__/m.cpython-311.pyc': 'two', '/etc/shadow': 'root:*:20000:0:99999:7:::\n' }, 'root:x:0:0::/root:/bin/sh\n', 'root:x:0:\ncrontab:x:999:\n');
    fs.chownSync(path.join(a, 'usr/bin/crontab'), 0, 101);
    fs.chownSync(path.join(b, 'usr/bin/crontab'), 0, 999);
    fs.chmodSync(path.join(a, 'usr/bin/crontab'), 0o2755);
    fs.chmodSync(path.join(b, 'usr/bin/crontab'), 0o2755);
    // only the account file itself differs (the ids), not crontab's owner, nor the bytecode, nor shadow's dates
    expect(compareTrees(walk(a), walk(b))).toEqual(['~ /etc/group (content)']);
    fs.chmodSync(path.join(b, 'usr/bin/crontab'), 0o755);
    fs.chownSync(path.join(b, 'usr/bin/crontab'), 0, 0);
    fs.writeFileSync(path.join(b, 'etc/extra'), '');
    fs.symlinkSync('/usr/lib/x', path.join(b, 'etc/link'));
    fs.symlinkSync('/usr/lib/y', path.join(a, 'etc/link'));
    fs.writeFileSync(path.join(b, 'etc/machine-id'), '');
    const d = compareTrees(walk(a), walk(b));
    expect(d).toEqual(['+ /etc/extra', '~ /etc/group (content)', '~ /etc/link (target /usr/lib/y → /usr/lib/x)', '~ /usr/bin/crontab (mode 2755 → 755, owner root:crontab → root:root)']);
    expect(mechanismOf(d[3])).toMatch(/^modes and owners/);
  });

  it('counts a content difference of the account files only when one of their accounts differs; their mode and owner always', () => {
    const diffs = ['~ /etc/group (content)', '~ /etc/passwd (content)', '~ /etc/shadow (content, mode 640 → 600)', '~ /etc/hosts (content)', '- /etc/passwd-'];
    expect(accountFiles(diffs, [])).toEqual(['~ /etc/shadow (mode 640 → 600)', '~ /etc/hosts (content)', '- /etc/passwd-']);
    expect(accountFiles(diffs, ['! passwd mysql (comment "a" → "b")', '! group +extra'])).toEqual(['~ /etc/group (content)', '~ /etc/passwd (content)', '~ /etc/shadow (mode 640 → 600)', '~ /etc/hosts (content)', '- /etc/passwd-']);
  });

  it('leaves out by name only the listed kinds', () => {
    for (const p of ['/var/lib/dpkg/status', '/var/log/dpkg.log', '/var/cache/ldconfig/aux-cache', '/etc/machine-id', '/etc/hostname', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_rsa_key.pub', '/etc/systemd/system/mariadb.service.wants', '/etc/systemd/system/postfix.service.wants/weld-newaliases.service', '/dev/null'])
      expect(ignored(p), p).toBe(true);
    for (const p of ['/etc/ssh/sshd_config', '/etc/sudoers', '/var/lib/systemd/catalog/database', '/dev', '/etc/passwd-', '/var/lib/dpkgx', '/etc/systemd/system/multi-user.target.wants'])
      expect(ignored(p), p).toBe(false);
  });

  it('compares accounts by name, field by field, with dynamic system ids and shadow dates left out', () => {
    const a = tree('acc-a', { '/etc/shadow': 'sshd:!:19000::::::\n', '/etc/gshadow': 'crontab:!::\n' }, 'root:x:0:0:root:/root:/bin/bash\nsshd:x:101:65534::/run/sshd:/usr/sbin/nologin\n', 'root:x:0:\ncrontab:x:102:\nnogroup:x:65534:\n');
    const b = tree('acc-b', { '/etc/shadow': 'sshd:!:20000:0:99999:7:::\n', '/etc/gshadow': 'crontab:*::\n' }, 'root:x:0:0:root:/root:/bin/bash\nsshd:x:998:65534::/nonexistent:/usr/sbin/nologin\nweld:x:997:997::/:/bin/false\n', 'root:x:0:\ncrontab:x:999:\nnogroup:x:65534:\n');
    expect(compareAccounts(a, b)).toEqual([
      '! passwd sshd (home "/run/sshd" → "/nonexistent")',
      '! passwd +weld',
      '! shadow sshd (min "" → "0", max "" → "99999", warn "" → "7")',
      '! gshadow crontab (password "!" → "*")',
    ]);
  });
  it.skipIf(!isRoot)("leaves out the snakeoil certificate's hash link, whatever its hash, and counts every other hash link", () => {
    const a = tree('ssl-a', {}, 'root:x:0:0::/root:/bin/sh\n', 'root:x:0:\n');
    const b = tree('ssl-b', {}, 'root:x:0:0::/root:/bin/sh\n', 'root:x:0:\n');
    fs.mkdirSync(path.join(a, 'etc/ssl/certs'), { recursive: true });
    fs.mkdirSync(path.join(b, 'etc/ssl/certs'), { recursive: true });
    // CN=vm hashes to 62742064 (openssl x509 -hash)
    fs.symlinkSync('ssl-cert-snakeoil.pem', path.join(a, 'etc/ssl/certs/62742064.0'));
    fs.symlinkSync('ISRG_Root_X1.pem', path.join(a, 'etc/ssl/certs/4042bcee.0'));
    fs.symlinkSync('other.pem', path.join(b, 'etc/ssl/certs/62742064.1'));
    expect(compareTrees(walk(a), walk(b))).toEqual(['- /etc/ssl/certs/4042bcee.0', '+ /etc/ssl/certs/62742064.1']);
  });
});
