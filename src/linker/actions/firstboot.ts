import type { Action } from '../../model.js';
import { WeldError } from '../../errors.js';
import type { LinkTree } from '../tree.js';
import type { Layout } from '../variant.js';
import { MAIL_SERVER, NEWALIASES_UNIT, newaliasesUnit } from './aliases.js';
import { MARIADB_DATADIR_UNIT, mariadbDatadirUnit, mariadbServers } from './mariadb.js';

type Firstboot = Extract<Action, { kind: 'firstboot' }>;

/** the key types `ssh-keygen -A` makes (OpenSSH 9: DSA no longer) */
export const HOST_KEY_TYPES = ['rsa', 'ecdsa', 'ed25519'] as const;
export const SSH_KEYGEN_UNIT = 'weld-ssh-keygen.service';
export const SNAKEOIL_UNIT = 'weld-make-ssl-cert.service';
/** sshd reads it through bookworm's `Include /etc/ssh/sshd_config.d/*.conf` */
export const HOST_KEY_CONFIG = '/etc/ssh/sshd_config.d/weld-host-keys.conf';
const SNAKEOIL = ['/etc/ssl/certs/ssl-cert-snakeoil.pem', '/etc/ssl/private/ssl-cert-snakeoil.key'];
const UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

export interface FirstbootResult {
  /** units weld generated, enabled by a link */
  units: string[];
  /** where sshd's host keys are made at boot, and the key files */
  hostKeys: { dir: string; keys: string[] } | null;
  /** first-boot state no unit of weld's makes, with why */
  deferred: { package: string; what: string; detail: string }[];
}

const covers = (writable: string[], p: string) => writable.some((w) => { const d = w.replace(/(.)\/+$/, '$1'); return d === '/' || p === d || p.startsWith(d + '/'); });

/**
 * Where the host keys can be made at boot. The root is a read-only erofs; a
 * layout's `writable` paths are tmpfs. With none declared, the image is taken
 * to be used as a writable root (a directory, a container): sshd's own /etc/ssh.
 */
export function hostKeyDir(layout: Pick<Layout, 'writable'>, variant: string): string {
  if (!layout.writable.length || covers(layout.writable, '/etc/ssh')) return '/etc/ssh';
  if (covers(layout.writable, '/var/lib/ssh')) return '/var/lib/ssh';
  throw new WeldError('conflict', 'E_FIRSTBOOT', `Variant ${variant} has an SSH server, but its read-only root has no writable place for the host keys made at first boot: add "/etc" or "/var" to [layout] writable`, { variant, writable: layout.writable });
}

/** the key files for a directory: /etc/ssh as sshd expects them, elsewhere under ssh-keygen -A -f's prefix */
export function hostKeyFiles(dir: string): string[] {
  const base = dir === '/etc/ssh' ? '/etc/ssh' : `${dir}/etc/ssh`;
  return HOST_KEY_TYPES.map((t) => `${base}/ssh_host_${t}_key`);
}

/** the unit file where the tree has `name` as a regular file (aliases are links) */
function unitFile(tree: LinkTree, name: string): string | undefined {
  return UNIT_DIRS.map((d) => `${d}/${name}`).find((p) => tree.get(p)?.type === 'file');
}

function sshKeygenUnit(dir: string, keys: string[], servers: string[], keygen: string, mkdir: string): string {
  const prefix = dir === '/etc/ssh' ? '' : ` -f ${dir}`;
  return [
    '# Made by weld: an image holds no host keys (every copy would share them); they are made at first boot.',
    '[Unit]',
    'Description=OpenSSH host keys, made at first boot',
    'Documentation=man:ssh-keygen(1)',
    // before ssh.socket, which sits before sockets.target: so no default dependencies on basic.target
    'DefaultDependencies=no',
    'After=local-fs.target systemd-random-seed.service',
    `Before=${[...servers, 'shutdown.target'].join(' ')}`,
    'Conflicts=shutdown.target',
    ...keys.flatMap((k) => [`ConditionFileNotEmpty=|!${k}`, `ConditionFileNotEmpty=|!${k}.pub`]),
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...(dir === '/etc/ssh' ? [] : [`ExecStartPre=${mkdir} -p ${dir}/etc/ssh`]),
    `ExecStart=${keygen} -A${prefix}`,
    '',
    '[Install]',
    `WantedBy=${servers.join(' ')}`,
    '',
  ].join('\n');
}

function snakeoilUnit(tool: string): string {
  return [
    '# Made by weld: an image holds no private key; ssl-cert\'s snakeoil pair is made at first boot.',
    '[Unit]',
    'Description=Snakeoil TLS certificate, made at first boot',
    'Documentation=man:make-ssl-cert(8)',
    // before sysinit.target, so every ordinary service (a mail or web server using it) starts after it
    'DefaultDependencies=no',
    'After=local-fs.target systemd-random-seed.service',
    'Before=sysinit.target shutdown.target',
    'Conflicts=shutdown.target',
    ...SNAKEOIL.map((p) => `ConditionFileNotEmpty=|!${p}`),
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'Environment=DEBIAN_FRONTEND=noninteractive',
    `ExecStart=${tool} generate-default-snakeoil`,
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}

/**
 * Machine state the packages' scripts would have made on the installing host
 * (classified as `firstboot`): weld makes none of it in the image. Host keys and
 * the snakeoil pair get a generated unit, enabled by a link, that makes them at
 * first boot; machine ids are systemd's (an empty /etc/machine-id, and dbus's
 * tmpfiles.d `L /var/lib/dbus/machine-id` link at boot), so /var/lib/dbus/machine-id stays out.
 */
export function applyFirstboot(
  tree: LinkTree,
  actions: { pkg: string; a: Firstboot }[],
  variant: { name: string; layout: Pick<Layout, 'writable'> },
  resolve: (p: string) => string,
): FirstbootResult {
  const res: FirstbootResult = { units: [], hostKeys: null, deferred: [] };
  const enable = (unit: string, body: string, wantedBy: string[], near: string | undefined) => {
    // beside the server's own unit, in the vendor directory: /etc/systemd/system is the administrator's
    const dir = near?.slice(0, near.lastIndexOf('/'));
    const path = `${dir && dir !== '/etc/systemd/system' ? dir : resolve('/lib/systemd/system')}/${unit}`;
    tree.writeFile(path, body, 'action:firstboot');
    const target = path.replace(/^\/lib\//, '/usr/lib/');
    for (const w of wantedBy) {
      tree.mkdir(`/etc/systemd/system/${w}.wants`, 'action:firstboot');
      tree.symlink(`/etc/systemd/system/${w}.wants/${unit}`, target, 'action:firstboot');
    }
    res.units.push(unit);
  };

  const ssh = actions.filter((x) => x.a.what === 'ssh-host-key');
  if (ssh.length) {
    const servers = ['ssh.service', 'sshd.service', 'ssh.socket', 'sshd.socket'].filter((u) => unitFile(tree, u));
    const keygen = resolve('/usr/bin/ssh-keygen');
    if (!servers.length || tree.get(keygen)?.type !== 'file') {
      for (const x of ssh) res.deferred.push({ package: x.pkg, what: x.a.what, detail: `no ${servers.length ? keygen : 'ssh.service or sshd.service'} in the image to make ${x.a.paths.join(' ') || 'host keys'} at boot` });
    } else {
      const dir = hostKeyDir(variant.layout, variant.name);
      const keys = hostKeyFiles(dir);
      enable(SSH_KEYGEN_UNIT, sshKeygenUnit(dir, keys, servers, keygen, resolve('/bin/mkdir')), servers, unitFile(tree, servers[0]!));
      if (dir !== '/etc/ssh') {
        tree.writeFile(HOST_KEY_CONFIG, `# Made by weld: the root is read-only; ${SSH_KEYGEN_UNIT} makes these at first boot.\n` + keys.map((k) => `HostKey ${k}\n`).join(''), 'action:firstboot');
      }
      res.hostKeys = { dir, keys };
    }
  }

  const snake = actions.filter((x) => x.a.what === 'ssl-snakeoil');
  if (snake.length) {
    const tool = resolve('/usr/sbin/make-ssl-cert');
    // make-ssl-cert asks debconf, whose frontend is Perl (perl-base is Essential in Debian, so no package depends on it)
    const perl = resolve('/usr/bin/perl');
    if (tree.get(tool)?.type !== 'file' || !tree.get(perl)) {
      for (const x of snake) res.deferred.push({ package: x.pkg, what: x.a.what, detail: `no ${tree.get(tool) ? `${perl} (perl-base) for debconf` : tool} in the image: no snakeoil certificate is made at boot` });
    } else {
      if (variant.layout.writable.length && !covers(variant.layout.writable, '/etc/ssl/private')) {
        throw new WeldError('conflict', 'E_FIRSTBOOT', `Variant ${variant.name} has ssl-cert's snakeoil certificate, but its read-only root cannot hold it at /etc/ssl/private at first boot: add "/etc" to [layout] writable`, { variant: variant.name });
      }
      enable(SNAKEOIL_UNIT, snakeoilUnit(tool), ['sysinit.target'], undefined);
    }
  }

  const datadir = actions.filter((x) => x.a.what === 'mariadb-datadir');
  if (datadir.length) {
    const tool = resolve('/usr/bin/mariadb-install-db');
    const servers = mariadbServers(tree, (u) => unitFile(tree, u));
    const dir = datadir[0]!.a.paths[0] ?? '/var/lib/mysql';
    if (!servers.length || tree.get(tool)?.type !== 'file') {
      for (const x of datadir) res.deferred.push({ package: x.pkg, what: x.a.what, detail: `no ${servers.length ? tool : 'mariadb.service'} in the image to make ${dir} at boot` });
    } else {
      if (variant.layout.writable.length && !covers(variant.layout.writable, dir)) {
        throw new WeldError('conflict', 'E_FIRSTBOOT', `Variant ${variant.name} has a MariaDB server, but its read-only root cannot hold the data directory ${dir} made at first boot: add "/var" to [layout] writable`, { variant: variant.name });
      }
      enable(MARIADB_DATADIR_UNIT, mariadbDatadirUnit(tool, dir, servers), servers, unitFile(tree, servers[0]!));
    }
  }

  const aliases = actions.filter((x) => x.a.what === 'mail-aliases');
  if (aliases.length) {
    const tool = resolve('/usr/bin/newaliases');
    const server = unitFile(tree, MAIL_SERVER);
    const db = aliases[0]!.a.paths[0] ?? '/etc/aliases.db';
    if (!server || !tree.get(tool)) {
      for (const x of aliases) res.deferred.push({ package: x.pkg, what: x.a.what, detail: `no ${server ? tool : MAIL_SERVER} in the image to make ${db} at boot` });
    } else {
      if (variant.layout.writable.length && !covers(variant.layout.writable, db)) {
        throw new WeldError('conflict', 'E_FIRSTBOOT', `Variant ${variant.name} has a mail server, but its read-only root cannot hold ${db} made at first boot: add "/etc" to [layout] writable`, { variant: variant.name });
      }
      enable(NEWALIASES_UNIT, newaliasesUnit(tool, db), [MAIL_SERVER], server);
    }
  }

  for (const x of actions) {
    if (x.a.what === 'private-key') res.deferred.push({ package: x.pkg, what: x.a.what, detail: `${x.a.tool} would make ${x.a.paths.join(' ') || 'a private key'}; the image holds none, the service must make it` });
  }
  // whatever ships or was made there, an image carries no machine id of its own
  if (actions.some((x) => x.a.what === 'machine-id')) {
    const dbus = resolve('/var/lib/dbus/machine-id');
    if (tree.get(dbus)) tree.delete(dbus);
  }
  res.units.sort();
  return res;
}
