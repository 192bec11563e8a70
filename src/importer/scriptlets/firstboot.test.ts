import { describe, expect, it } from 'vitest';
import { classifyScriptlet } from './index.js';
import type { Action } from '../../model.js';

const classify = (body: string, phase = 'postinst'): Action[] => classifyScriptlet({ format: 'deb', phase, interpreter: '/bin/sh', body }).filter((a) => a.kind !== 'noop');

describe('first-boot state in scriptlets', () => {
  it.each([
    ['ssh-keygen -A', [{ kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: [] }]],
    ["ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519", [{ kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: ['/etc/ssh/ssh_host_ed25519_key'] }]],
    ["ssh-keygen -q -t rsa -N '' -f /var/lib/foo/id_rsa", [{ kind: 'firstboot', what: 'private-key', tool: 'ssh-keygen', paths: ['/var/lib/foo/id_rsa'] }]],
    ['ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub', []],
    ['make-ssl-cert generate-default-snakeoil', [{ kind: 'firstboot', what: 'ssl-snakeoil', tool: 'make-ssl-cert', paths: ['/etc/ssl/certs/ssl-cert-snakeoil.pem', '/etc/ssl/private/ssl-cert-snakeoil.key'] }]],
    ['make-ssl-cert /usr/share/ssl-cert/ssleay.cnf /etc/foo/foo.pem', [{ kind: 'firstboot', what: 'private-key', tool: 'make-ssl-cert', paths: ['/etc/foo/foo.pem'] }]],
    ['openssl req -new -x509 -days 3650 -nodes -out /etc/foo/cert.pem -keyout /etc/foo/key.pem -subj /CN=x', [{ kind: 'firstboot', what: 'private-key', tool: 'openssl', paths: ['/etc/foo/key.pem'] }]],
    ['openssl genrsa -out /etc/foo/key.pem 2048', [{ kind: 'firstboot', what: 'private-key', tool: 'openssl', paths: ['/etc/foo/key.pem'] }]],
    ['openssl ecparam -name prime256v1 -genkey -out /etc/foo/ec.pem', [{ kind: 'firstboot', what: 'private-key', tool: 'openssl', paths: ['/etc/foo/ec.pem'] }]],
    ['dbus-uuidgen --ensure', [{ kind: 'firstboot', what: 'machine-id', tool: 'dbus-uuidgen', paths: ['/var/lib/dbus/machine-id'] }]],
    ['dbus-uuidgen --ensure=/etc/machine-id', [{ kind: 'firstboot', what: 'machine-id', tool: 'dbus-uuidgen', paths: ['/etc/machine-id'] }]],
    ['systemd-machine-id-setup', [{ kind: 'firstboot', what: 'machine-id', tool: 'systemd-machine-id-setup', paths: ['/etc/machine-id'] }]],
  ])('%s', (body, want) => {
    expect(classify(body)).toEqual(want);
  });

  it('other openssl commands stay opaque', () => {
    expect(classify('openssl x509 -hash -noout -in /etc/ssl/certs/a.pem').map((a) => a.kind)).toEqual(['opaque']);
  });

  it("openssh-server's create_key loop: one host key per call, the fingerprint and relabel are no steps", () => {
    const body = `
create_key() {
	msg="$1"; shift
	hostkeys="$1"; shift
	file="$1"; shift
	if echo "$hostkeys" | grep -x "$file" >/dev/null && [ ! -f "$file" ] ; then
		ssh-keygen -q -f "$file" -N '' "$@"
		if command -v restorecon >/dev/null 2>&1; then restorecon "$file" "$file.pub"; fi
		ssh-keygen -l -f "$file.pub"
	fi
}
hostkeys="$(cat /etc/ssh/keys)"
create_key "RSA" "$hostkeys" /etc/ssh/ssh_host_rsa_key -t rsa
create_key "ED25519" "$hostkeys" /etc/ssh/ssh_host_ed25519_key -t ed25519
`;
    expect(classify(body)).toEqual([
      { kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: ['/etc/ssh/ssh_host_rsa_key'] },
      { kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: ['/etc/ssh/ssh_host_ed25519_key'] },
    ]);
  });

  it('an unknown key file is still a host key when -f names no other key', () => {
    expect(classify('keyfile="$(cat /etc/foo)"\nssh-keygen -q -f "$keyfile" -N ""')).toEqual([{ kind: 'firstboot', what: 'ssh-host-key', tool: 'ssh-keygen', paths: [] }]);
  });
});
