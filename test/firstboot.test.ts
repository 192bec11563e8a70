/**
 * Machine state is made at first boot, never baked in (issue 10 §3), on real
 * Debian bookworm packages: no image holds private key material; an SSH
 * server's host keys and ssl-cert's snakeoil pair are made by units the linker
 * generates, checked with systemd-analyze verify and by running their commands
 * in a chroot of the linked tree, then with sshd -t; machine ids stay out.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, debPath, has, run, runAsync, weldAsync } from './helpers/tools.js';
import { fetchK8sDebs } from './helpers/k8s.js';
import { loadVariant } from '../src/linker/variant.js';
import { findPrivateKeys } from './helpers/private-keys.js';
import { aptUniverse } from './helpers/installer.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
const SERVICE_HOST = path.join(ROOT, 'variants/service-host.toml');
// the closure of the SSH variants below (bookworm); a missing one fails the link
const SSH_PKGS = `adduser base-files base-passwd bash coreutils dbus dbus-bin dbus-daemon dbus-session-bus-common dbus-system-bus-common
debconf debianutils dmsetup dpkg gcc-12-base grep hostname init-system-helpers libacl1 libapparmor1 libargon2-1 libattr1 libaudit-common
libaudit1 libblkid1 libbsd0 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcbor0.8 libcom-err2 libcrypt1 libcryptsetup12 libdb5.3
libdbus-1-3 libdebconfclient0 libdevmapper1.02.1 libedit2 libexpat1 libfdisk1 libffi8 libfido2-1 libgcc-s1 libgcrypt20 libgmp10
libgpg-error0 libgssapi-krb5-2 libip4tc2 libjson-c5 libk5crypto3 libkeyutils1 libkmod2 libkrb5-3 libkrb5support0 liblz4-1 liblzma5
libmd0 libmount1 libncursesw6 libnsl2 libp11-kit0 libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0 libproc2-0
libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libssl3 libsystemd-shared libsystemd0 libtinfo6
libtirpc-common libtirpc3 libudev1 libuuid1 libwrap0 libzstd1 mawk mount openssh-client openssh-server openssh-sftp-server openssl
passwd perl-base procps runit-helper sed sensible-utils ssl-cert systemd sysvinit-utils tar ucf usr-is-merged zlib1g`.split(/\s+/);

/** an SSH server (and ssl-cert) with the Essential packages make-ssl-cert runs (perl-base for debconf, hostname, sed, grep) */
const variant = (name: string, writable: string[], extra: string[] = []) => `name = "${name}"
format = "deb"
packages = ["base-files", "base-passwd", "bash", "coreutils", "libc-bin", "mawk", "dbus", "systemd", "openssh-server", "passwd", "perl-base", "hostname", "sed", "grep"${extra.map((p) => `, "${p}"`).join('')}]
exclude = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*"]
[prefer]
"awk" = "mawk"
[layout]
writable = ${JSON.stringify(writable)}
`;

const canRun = ['dpkg-deb', 'apt-get', 'chroot', 'mknod', 'systemd-analyze', 'ssh-keygen', 'openssl'].every(has) && process.getuid?.() === 0 && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));



/**
 * GnuTLS's FIPS self-tests (lib/crypto-selftests-pk.c) compile ten fixed test keys into the library:
 * public test vectors, the same in every install, not machine state. They are passed over by digest,
 * only in that library, and only when every key block in it is one of them.
 */
const GNUTLS_SELFTEST_KEYS = new Set([
  'a4d138d7ef9748464117b44fb9c0a4b5b85a1599a127d02690abaa96d03c16e6', 'fa0b06a72461ec0a963dcfccb8d5b61bd88a6074fc7271573bff68ab86b8c1af',
  'ef237ea8db4f2ae9ee100e8ced96d29b5dceb0e6a948443e6b8a00b1791f9ec9', 'f8766749b0c6f9b5661364568226af0ba7ae8d87c0073df24e440de4417521cd',
  '293216817f0d585f0b54f225582f59e7b2e2a795b5f8002e2d71c5e3d49ce9b0', 'a0b9679665e29ac220dfb0b366317e1b9dd5fe31e9def8b2e511669a041389ae',
  '934b3e9bfd9936c5e30c7f0ed7d36a05e2044f755c0aa433e1d6bef6a68d1391', '91ea1699ff6b1a34b4a1d500a9c75a808441e47b9ea68da6fb0195e01ce1dc61',
  '7c4c63ee462e0e700cd9e29c8e0f730b3f1b484c4abdd83f1e69fcd477c061fa', 'd039c8119a029ab9f9c83c04d67002d887b6bc6026c4264402ab27cdf24cf138',
]);
async function publicVectorsOnly(root: string, p: string): Promise<boolean> {
  if (!/^\/usr\/lib\/x86_64-linux-gnu\/libgnutls\.so\.30(\.[0-9.]+)?$/.test(p)) return false;
  const text = (await fs.promises.readFile(path.join(root, p))).toString('latin1');
  const blocks = [...text.matchAll(/-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g)].map((m) => crypto.createHash('sha256').update(Buffer.from(m[0], 'latin1')).digest('hex'));
  return blocks.length > 0 && blocks.every((h) => GNUTLS_SELFTEST_KEYS.has(h));
}

/** the unit's Environment= and Exec lines, as systemd would run them (weld's units quote nothing) */
function unitCommands(unit: string): { env: Record<string, string>; argvs: string[][] } {
  const env: Record<string, string> = {};
  const argvs: string[][] = [];
  for (const l of unit.split('\n')) {
    const m = /^(Environment|ExecStartPre|ExecStart)=(.*)$/.exec(l);
    if (!m) continue;
    if (m[1] === 'Environment') for (const kv of m[2]!.split(/\s+/)) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
    else argvs.push(m[2]!.split(/\s+/));
  }
  return { env, argvs };
}


/** copies a linked tree and runs a generated unit's commands in a chroot of it, as first boot would */
async function bootCopy(dir: string, copy: string, units: string[]): Promise<void> {
  expect((await runAsync('cp', ['-a', dir, copy])).status).toBe(0);
  for (const [n, minor] of [['null', 3], ['zero', 5], ['random', 8], ['urandom', 9]] as const) run('mknod', ['-m', '666', path.join(copy, 'dev', n), 'c', '1', String(minor)]);
  for (const u of units) {
    const { env, argvs } = unitCommands(fs.readFileSync(path.join(copy, 'usr/lib/systemd/system', u), 'utf8'));
    expect(argvs.length, u).toBeGreaterThan(0);
    for (const argv of argvs) {
      const r = await runAsync('chroot', [copy, ...argv], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } });
      expect(r.status, `${u}: ${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }
}

describe.skipIf(!canRun)('machine state is made at first boot, never baked in', () => {
  let work = '';
  let store = '';
  const at = (...p: string[]) => path.join(work, ...p);
  const reports: Record<string, { actions: { firstboot?: { units: string[]; hostKeys: { dir: string; keys: string[] } | null } } }> = {};

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-firstboot-'));
    store = at('store');
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...SSH_PKGS]);
    const debs = [...new Set([...SSH_PKGS.map((p) => debPath(DEB_DIR, p)), ...fetchK8sDebs()])];
    const imp = await weldAsync(['import', '--store', store, ...debs]);
    expect(imp.status, imp.stderr).toBe(0);
    fs.writeFileSync(at('sshd-etc.toml'), variant('sshd-etc', ['/etc', '/var', '/tmp', '/run', '/root'], ['ssl-cert']));
    fs.writeFileSync(at('sshd-var.toml'), variant('sshd-var', ['/var', '/tmp', '/run', '/root']));
    for (const [name, v] of [['k8s', 'k8s'], ['sshd-etc', at('sshd-etc.toml')], ['sshd-var', at('sshd-var.toml')]] as const) {
      const r = await weldAsync(['link', '--store', store, '--variant', v, '--format', 'dir', '-o', at(`${name}.dir`), '--report', at(`${name}.json`)]);
      expect(r.status, r.stderr).toBe(0);
      reports[name] = JSON.parse(fs.readFileSync(at(`${name}.json`), 'utf8'));
    }
    // the service host (issue 10 §3), from its own store: the closure apt picks for it, as the installer tier takes it
    const sh = await aptUniverse([...(await loadVariant(SERVICE_HOST)).packages, 'usr-is-merged'], work);
    const shImp = await weldAsync(['import', '--store', at('sh-store'), ...sh.map((d) => d.file)]);
    expect(shImp.status, shImp.stderr).toBe(0);
    const shLink = await weldAsync(['link', '--store', at('sh-store'), '--variant', SERVICE_HOST, '--format', 'dir', '-o', at('service-host.dir'), '--report', at('service-host.json')]);
    expect(shLink.status, shLink.stderr).toBe(0);
    reports['service-host'] = JSON.parse(fs.readFileSync(at('service-host.json'), 'utf8'));
  }, 900_000);

  // asynchronous: removing three linked trees and a store blocks the worker for long on a loaded machine
  afterAll(async () => {
    if (work) await fs.promises.rm(work, { recursive: true, force: true });
  });

  it('no image holds a private key: the k8s image, the service host, an SSH server with /etc writable, one with only /var', async () => {
    for (const name of ['k8s', 'service-host', 'sshd-etc', 'sshd-var']) {
      const found = [];
      for (const f of await findPrivateKeys(at(`${name}.dir`))) if (!(await publicVectorsOnly(at(`${name}.dir`), f.path))) found.push(f);
      expect([name, found]).toEqual([name, []]);
    }
    // the one exception is GnuTLS's compiled-in self-test keys; a key of any other digest there would count
    expect(await publicVectorsOnly(at('service-host.dir'), '/usr/lib/x86_64-linux-gnu/libgnutls.so.30')).toBe(true);
    const altered = at('gnutls-altered');
    fs.mkdirSync(path.join(altered, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
    const lib = fs.readFileSync(at('service-host.dir/usr/lib/x86_64-linux-gnu/libgnutls.so.30'));
    const i = lib.indexOf('-----BEGIN RSA PRIVATE KEY-----\nMIIE') + 40;
    lib[i] = lib[i] === 0x41 ? 0x42 : 0x41;
    fs.writeFileSync(path.join(altered, 'usr/lib/x86_64-linux-gnu/libgnutls.so.30'), lib);
    expect(await publicVectorsOnly(altered, '/usr/lib/x86_64-linux-gnu/libgnutls.so.30')).toBe(false);
    // what the scan passes over: ssh-keygen carries the PEM header as a string, and no key
    expect(fs.readFileSync(at('sshd-etc.dir/usr/bin/ssh-keygen')).includes('-----BEGIN OPENSSH PRIVATE KEY-----')).toBe(true);
  });

  it('the scan finds keys: OpenSSH, PKCS#1 RSA, SEC1 EC, PKCS#8, encrypted PEM, and host or snakeoil keys by name', async () => {
    const d = at('keys');
    fs.mkdirSync(path.join(d, 'deep/er'), { recursive: true });
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(d, 'deep/er/id')]);
    run('openssl', ['genrsa', '-traditional', '-out', path.join(d, 'rsa.pem'), '2048'], { allowFail: true });
    if (!fs.existsSync(path.join(d, 'rsa.pem'))) run('openssl', ['genrsa', '-out', path.join(d, 'rsa.pem'), '2048']);
    run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(d, 'ec.pem')]);
    run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', path.join(d, 'pkcs8.pem')]);
    run('openssl', ['rsa', '-in', path.join(d, 'rsa.pem'), '-traditional', '-aes128', '-passout', 'pass:x', '-out', path.join(d, 'enc.pem')], { allowFail: true });
    // a key inside a binary blob is still found
    fs.writeFileSync(path.join(d, 'blob.bin'), Buffer.concat([Buffer.alloc(70000, 7), fs.readFileSync(path.join(d, 'ec.pem')), Buffer.alloc(100, 0)]));
    fs.writeFileSync(path.join(d, 'ssh_host_rsa_key'), '');
    fs.writeFileSync(path.join(d, 'ssl-cert-snakeoil.key'), '');
    fs.writeFileSync(path.join(d, 'header-only'), 'x\0-----BEGIN OPENSSH PRIVATE KEY-----\n\0-----END OPENSSH PRIVATE KEY-----\n');
    const found = (await findPrivateKeys(d)).map((f) => f.path).sort();
    const want = ['/blob.bin', '/deep/er/id', '/ec.pem', '/pkcs8.pem', '/rsa.pem', '/ssh_host_rsa_key', '/ssl-cert-snakeoil.key'];
    if (fs.existsSync(path.join(d, 'enc.pem'))) want.push('/enc.pem');
    expect(found).toEqual(want.sort());
    expect(fs.readFileSync(path.join(d, 'rsa.pem'), 'utf8')).toMatch(/BEGIN (RSA )?PRIVATE KEY/);
    expect(fs.readFileSync(path.join(d, 'ec.pem'), 'utf8')).toContain('BEGIN EC PRIVATE KEY');
  });

  it("types the real scripts' machine-state steps as firstboot, none of them opaque", async () => {
    const r = await weldAsync(['scriptlets', '--store', store, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout) as { counts: Record<string, number>; opaque: { package: string; reason: string; text: string }[] };
    // openssh-server's four create_key calls, ssl-cert's snakeoil, dbus-daemon's dbus-uuidgen --ensure
    expect(rep.counts.firstboot).toBeGreaterThanOrEqual(6);
    expect(rep.opaque.filter((o) => /ssh-keygen|make-ssl-cert|dbus-uuidgen|machine-id-setup|restorecon|openssl req/.test(o.text))).toEqual([]);
  });

  it('generates units systemd-analyze verify accepts in the linked tree, enabled by links', async () => {
    for (const [name, units] of [['sshd-etc', ['weld-make-ssl-cert.service', 'weld-ssh-keygen.service']], ['sshd-var', ['weld-ssh-keygen.service']]] as const) {
      expect(reports[name]!.actions.firstboot!.units).toEqual(units);
      const r = run('systemd-analyze', ['verify', '--man=no', `--root=${at(`${name}.dir`)}`, ...units, 'ssh.service', 'ssh.socket'], { allowFail: true });
      expect([name, r.status, r.stderr.split('\n').filter((l) => l && !/Failed to parse system call/.test(l))]).toEqual([name, 0, []]);
      for (const w of ['ssh.service', 'ssh.socket']) expect(fs.readlinkSync(at(`${name}.dir/etc/systemd/system/${w}.wants/weld-ssh-keygen.service`))).toBe('/usr/lib/systemd/system/weld-ssh-keygen.service');
    }
    expect(fs.readlinkSync(at('sshd-etc.dir/etc/systemd/system/sysinit.target.wants/weld-make-ssl-cert.service'))).toBe('/usr/lib/systemd/system/weld-make-ssl-cert.service');
    // the k8s variant has no SSH server and no ssl-cert: no unit of weld's
    expect(reports.k8s!.actions.firstboot?.units ?? []).toEqual([]);
    // a unit systemd rejects fails this check (a command the tree does not have)
    const bad = at('bad.dir');
    expect((await runAsync('cp', ['-a', at('sshd-var.dir'), bad])).status).toBe(0);
    const u = path.join(bad, 'usr/lib/systemd/system/weld-ssh-keygen.service');
    fs.writeFileSync(u, fs.readFileSync(u, 'utf8').replace('ExecStart=/usr/bin/ssh-keygen', 'ExecStart=/usr/bin/no-such-keygen'));
    expect(run('systemd-analyze', ['verify', '--man=no', `--root=${bad}`, 'weld-ssh-keygen.service'], { allowFail: true }).status).not.toBe(0);
  });

  it('on a root with only /var writable, first boot makes the keys where the sshd_config.d drop-in says, and sshd loads them', async () => {
    const hk = reports['sshd-var']!.actions.firstboot!.hostKeys!;
    expect(hk.dir).toBe('/var/lib/ssh');
    const dropIn = fs.readFileSync(at('sshd-var.dir/etc/ssh/sshd_config.d/weld-host-keys.conf'), 'utf8');
    const hostKeys = dropIn.split('\n').filter((l) => l.startsWith('HostKey ')).map((l) => l.slice(8));
    expect(hostKeys).toEqual(hk.keys);
    const copy = at('sshd-var.boot');
    await bootCopy(at('sshd-var.dir'), copy, ['weld-ssh-keygen.service']);
    for (const k of hostKeys) {
      expect(fs.statSync(path.join(copy, k)).mode & 0o777, k).toBe(0o600);
      expect(fs.statSync(path.join(copy, k + '.pub')).size, k).toBeGreaterThan(0);
    }
    expect((await findPrivateKeys(copy)).map((f) => f.path).sort()).toEqual([...hostKeys].sort());
    // nothing under /etc: it is read-only there
    expect(fs.readdirSync(path.join(copy, 'etc/ssh')).filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
    // sshd reads the drop-in through Debian's `Include /etc/ssh/sshd_config.d/*.conf`; /etc/ssh/sshd_config itself is
    // ucf's, from this template (issue 10 §2), so the template is what sshd is given when the link has none
    const config = fs.existsSync(path.join(copy, 'etc/ssh/sshd_config')) ? '/etc/ssh/sshd_config' : '/usr/share/openssh/sshd_config';
    expect(fs.readFileSync(path.join(copy, config), 'utf8')).toMatch(/^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m);
    fs.mkdirSync(path.join(copy, 'run/sshd'), { recursive: true });
    const t = spawnSync('chroot', [copy, '/usr/sbin/sshd', '-T', '-f', config], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout.split('\n').filter((l) => l.startsWith('hostkey '))).toEqual(hostKeys.map((k) => `hostkey ${k}`));
    // without the drop-in, sshd finds no host key: the drop-in is what points it there
    fs.rmSync(path.join(copy, 'etc/ssh/sshd_config.d/weld-host-keys.conf'));
    expect(spawnSync('chroot', [copy, '/usr/sbin/sshd', '-t', '-f', config], { encoding: 'utf8' }).stderr).toContain('no hostkeys available');
  });

  it('with /etc writable, first boot makes the host keys in /etc/ssh and the snakeoil pair as ssl-cert would', async () => {
    expect(reports['sshd-etc']!.actions.firstboot!.hostKeys!.dir).toBe('/etc/ssh');
    expect(fs.existsSync(at('sshd-etc.dir/etc/ssh/sshd_config.d/weld-host-keys.conf'))).toBe(false);
    const copy = at('sshd-etc.boot');
    await bootCopy(at('sshd-etc.dir'), copy, ['weld-ssh-keygen.service', 'weld-make-ssl-cert.service']);
    const keys = ['rsa', 'ecdsa', 'ed25519'].map((t) => `/etc/ssh/ssh_host_${t}_key`);
    const key = '/etc/ssl/private/ssl-cert-snakeoil.key';
    expect((await findPrivateKeys(copy)).map((f) => f.path).sort()).toEqual([...keys, key].sort());
    fs.mkdirSync(path.join(copy, 'run/sshd'), { recursive: true });
    const t = spawnSync('chroot', [copy, '/usr/sbin/sshd', '-t', '-f', '/usr/share/openssh/sshd_config'], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    // make-ssl-cert's modes and owner: 0640 root:ssl-cert, the certificate 0644 with its hash link
    const gid = Number(fs.readFileSync(path.join(copy, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith('ssl-cert:'))!.split(':')[2]);
    const st = fs.statSync(path.join(copy, key));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 0, gid]);
    expect(fs.readdirSync(path.join(copy, 'etc/ssl/certs')).some((n) => /^[0-9a-f]{8}\.0$/.test(n))).toBe(true);
    // the unit's conditions now hold no more: a second boot makes nothing
    const unit = fs.readFileSync(path.join(copy, 'usr/lib/systemd/system/weld-ssh-keygen.service'), 'utf8');
    for (const m of unit.matchAll(/^ConditionFileNotEmpty=\|!(.*)$/gm)) expect(fs.statSync(path.join(copy, m[1]!)).size, m[1]).toBeGreaterThan(0);
  });

  it("leaves /etc/machine-id empty and /var/lib/dbus/machine-id to dbus's tmpfiles.d link at boot, as mmdebstrap leaves them", () => {
    for (const name of ['k8s', 'service-host', 'sshd-etc', 'sshd-var']) {
      const d = at(`${name}.dir`);
      expect([name, fs.readFileSync(path.join(d, 'etc/machine-id'), 'utf8')]).toEqual([name, '']);
      // dbus-daemon's postinst ran dbus-uuidgen --ensure; mmdebstrap's cleanup removes what it made
      expect([name, fs.existsSync(path.join(d, 'var/lib/dbus/machine-id'))]).toEqual([name, false]);
      expect(fs.readFileSync(path.join(d, 'usr/lib/tmpfiles.d/dbus.conf'), 'utf8')).toMatch(/^L \/var\/lib\/dbus\/machine-id - - - - \/etc\/machine-id$/m);
    }
  });

  it('an SSH server on a read-only root with no writable place for its keys is an error naming the variant', async () => {
    fs.writeFileSync(at('sshd-ro.toml'), variant('sshd-ro', ['/tmp', '/run']));
    const r = await weldAsync(['link', '--store', store, '--variant', at('sshd-ro.toml'), '--format', 'manifest', '-o', at('ro.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^weld: Variant sshd-ro has an SSH server, but its read-only root has no writable place for the host keys/);
  });
});
