import { describe, expect, it } from 'vitest';
import { LinkTree } from '../tree.js';
import { usrPath } from '../usrmerge.js';
import { applyFirstboot, hostKeyDir, HOST_KEY_CONFIG, SNAKEOIL_UNIT, SSH_KEYGEN_UNIT } from './firstboot.js';
import type { Action } from '../../model.js';

type Fb = Extract<Action, { kind: 'firstboot' }>;
const hostKey: Fb = { kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: ['/etc/ssh/ssh_host_rsa_key'] };
const snakeoil: Fb = { kind: 'firstboot', what: 'ssl-snakeoil', tool: 'make-ssl-cert', paths: [] };

function sshTree(): LinkTree {
  const t = new LinkTree(0);
  t.writeFile('/usr/lib/systemd/system/ssh.service', '[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\n', 'openssh-server');
  t.writeFile('/usr/lib/systemd/system/ssh.socket', '[Socket]\nListenStream=22\n', 'openssh-server');
  t.writeFile('/usr/bin/ssh-keygen', 'elf', 'openssh-client', 0o755);
  t.writeFile('/usr/sbin/make-ssl-cert', '#!/bin/bash\n', 'ssl-cert', 0o755);
  t.writeFile('/usr/bin/perl', 'elf', 'perl-base', 0o755);
  return t;
}
const text = (t: LinkTree, p: string) => Buffer.from(t.get(p)!.data!).toString();

describe('first-boot machine state', () => {
  it.each([
    [[], '/etc/ssh'],
    [['/etc', '/var'], '/etc/ssh'],
    [['/etc/ssh/'], '/etc/ssh'],
    [['/var', '/tmp'], '/var/lib/ssh'],
    [['/var/lib'], '/var/lib/ssh'],
    [['/'], '/etc/ssh'],
  ])('host keys with writable %j go to %s', (writable, dir) => {
    expect(hostKeyDir({ writable }, 'v')).toBe(dir);
  });

  it('a read-only root with no writable place for the keys is an error naming the variant', () => {
    expect(() => hostKeyDir({ writable: ['/tmp', '/run'] }, 'tiny')).toThrow(/Variant tiny has an SSH server.*add "\/etc" or "\/var" to \[layout\] writable/);
  });

  it('generates a keygen unit before the SSH server, enabled by links, and no keys', () => {
    const t = sshTree();
    const r = applyFirstboot(t, [{ pkg: 'openssh-server', a: hostKey }], { name: 'v', layout: { writable: ['/etc', '/var'] } }, usrPath);
    expect(r.units).toEqual([SSH_KEYGEN_UNIT]);
    const unit = text(t, `/usr/lib/systemd/system/${SSH_KEYGEN_UNIT}`);
    expect(unit).toContain('Before=ssh.service ssh.socket shutdown.target\n');
    expect(unit).toContain('ExecStart=/usr/bin/ssh-keygen -A\n');
    expect(unit).toContain('ConditionFileNotEmpty=|!/etc/ssh/ssh_host_ed25519_key\n');
    for (const w of ['ssh.service', 'ssh.socket']) expect(t.get(`/etc/systemd/system/${w}.wants/${SSH_KEYGEN_UNIT}`)?.target).toBe(`/usr/lib/systemd/system/${SSH_KEYGEN_UNIT}`);
    // /etc/ssh is sshd's default: no configuration of weld's
    expect(t.get(HOST_KEY_CONFIG)).toBeUndefined();
    expect([...t.nodes.keys()].filter((p) => /ssh_host_/.test(p))).toEqual([]);
  });

  it('on a root with only /var writable, keys go under /var/lib/ssh and sshd is told where', () => {
    const t = sshTree();
    const r = applyFirstboot(t, [{ pkg: 'openssh-server', a: hostKey }], { name: 'v', layout: { writable: ['/var'] } }, usrPath);
    expect(r.hostKeys).toEqual({ dir: '/var/lib/ssh', keys: ['rsa', 'ecdsa', 'ed25519'].map((k) => `/var/lib/ssh/etc/ssh/ssh_host_${k}_key`) });
    const unit = text(t, `/usr/lib/systemd/system/${SSH_KEYGEN_UNIT}`);
    expect(unit).toContain('ExecStartPre=/usr/bin/mkdir -p /var/lib/ssh/etc/ssh\nExecStart=/usr/bin/ssh-keygen -A -f /var/lib/ssh\n');
    expect(text(t, HOST_KEY_CONFIG).split('\n').filter((l) => l.startsWith('HostKey '))).toEqual(r.hostKeys!.keys.map((k) => `HostKey ${k}`));
  });

  it("orders before sshd.service where the server's unit has that name (Fedora's)", () => {
    const t = new LinkTree(0);
    t.writeFile('/usr/lib/systemd/system/sshd.service', '[Service]\n', 'openssh-server');
    t.writeFile('/usr/bin/ssh-keygen', 'elf', 'openssh', 0o755);
    applyFirstboot(t, [{ pkg: 'openssh-server', a: hostKey }], { name: 'v', layout: { writable: [] } }, (p) => p);
    expect(text(t, `/usr/lib/systemd/system/${SSH_KEYGEN_UNIT}`)).toContain('Before=sshd.service shutdown.target\n');
    expect(t.get(`/etc/systemd/system/sshd.service.wants/${SSH_KEYGEN_UNIT}`)?.type).toBe('symlink');
  });

  it('without an SSH unit or ssh-keygen, nothing is generated and the report says why', () => {
    const t = new LinkTree(0);
    const r = applyFirstboot(t, [{ pkg: 'p', a: hostKey }], { name: 'v', layout: { writable: [] } }, usrPath);
    expect(r.units).toEqual([]);
    expect(r.deferred).toEqual([{ package: 'p', what: 'ssh-host-key', detail: expect.stringContaining('no ssh.service or sshd.service') }]);
  });

  it('makes the snakeoil pair at first boot before sysinit.target, only where /etc can hold it', () => {
    const t = sshTree();
    const r = applyFirstboot(t, [{ pkg: 'ssl-cert', a: snakeoil }], { name: 'v', layout: { writable: ['/etc'] } }, usrPath);
    expect(r.units).toEqual([SNAKEOIL_UNIT]);
    expect(text(t, `/usr/lib/systemd/system/${SNAKEOIL_UNIT}`)).toContain('ExecStart=/usr/sbin/make-ssl-cert generate-default-snakeoil\n');
    expect(t.get(`/etc/systemd/system/sysinit.target.wants/${SNAKEOIL_UNIT}`)?.type).toBe('symlink');
    expect(() => applyFirstboot(sshTree(), [{ pkg: 'ssl-cert', a: snakeoil }], { name: 'ro', layout: { writable: ['/var'] } }, usrPath)).toThrow(/Variant ro has ssl-cert's snakeoil certificate/);
    const noPerl = sshTree();
    noPerl.delete('/usr/bin/perl');
    const n = applyFirstboot(noPerl, [{ pkg: 'ssl-cert', a: snakeoil }], { name: 'v', layout: { writable: [] } }, usrPath);
    expect(n.units).toEqual([]);
    expect(n.deferred[0]!.detail).toContain('perl-base');
  });

  it('takes out a dbus machine id, whatever put it there', () => {
    const t = new LinkTree(0);
    t.writeFile('/var/lib/dbus/machine-id', '0123456789abcdef0123456789abcdef\n', 'x');
    applyFirstboot(t, [{ pkg: 'dbus-daemon', a: { kind: 'firstboot', what: 'machine-id', tool: 'dbus-uuidgen', paths: ['/var/lib/dbus/machine-id'] } }], { name: 'v', layout: { writable: [] } }, usrPath);
    expect(t.get('/var/lib/dbus/machine-id')).toBeUndefined();
  });
});
