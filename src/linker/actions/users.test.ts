import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyScriptlet, parseSysusers } from '../../importer/scriptlets/index.js';
import { LinkTree } from '../tree.js';
import { adduserGecos, applyAccounts, type AccountStep } from './users.js';

// base-passwd 3.6.1's masters, as bookworm ships them
const PASSWD_MASTER = 'root:*:0:0:root:/root:/bin/bash|daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin|bin:*:2:2:bin:/bin:/usr/sbin/nologin|sys:*:3:3:sys:/dev:/usr/sbin/nologin|sync:*:4:65534:sync:/bin:/bin/sync|games:*:5:60:games:/usr/games:/usr/sbin/nologin|man:*:6:12:man:/var/cache/man:/usr/sbin/nologin|lp:*:7:7:lp:/var/spool/lpd:/usr/sbin/nologin|mail:*:8:8:mail:/var/mail:/usr/sbin/nologin|news:*:9:9:news:/var/spool/news:/usr/sbin/nologin|uucp:*:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin|proxy:*:13:13:proxy:/bin:/usr/sbin/nologin|www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin|backup:*:34:34:backup:/var/backups:/usr/sbin/nologin|list:*:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin|irc:*:39:39:ircd:/run/ircd:/usr/sbin/nologin|_apt:*:42:65534::/nonexistent:/usr/sbin/nologin|nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'.split('|');
const GROUP_MASTER = 'root:*:0:|daemon:*:1:|bin:*:2:|sys:*:3:|adm:*:4:|tty:*:5:|disk:*:6:|lp:*:7:|mail:*:8:|news:*:9:|uucp:*:10:|man:*:12:|proxy:*:13:|kmem:*:15:|dialout:*:20:|fax:*:21:|voice:*:22:|cdrom:*:24:|floppy:*:25:|tape:*:26:|sudo:*:27:|audio:*:29:|dip:*:30:|www-data:*:33:|backup:*:34:|operator:*:37:|list:*:38:|irc:*:39:|src:*:40:|shadow:*:42:|utmp:*:43:|video:*:44:|sasl:*:45:|plugdev:*:46:|staff:*:50:|games:*:60:|users:*:100:|nogroup:*:65534:'.split('|');
const DAYS = 20791;

function link(steps: AccountStep[]) {
  const tree = new LinkTree(0);
  const files: Record<string, string> = {
    '/usr/share/base-passwd/passwd.master': PASSWD_MASTER.join('\n') + '\n',
    '/usr/share/base-passwd/group.master': GROUP_MASTER.join('\n') + '\n',
  };
  applyAccounts(tree, (p) => files[p], steps, { users: [], groups: [], format: 'deb' }, { users: {}, groups: {} }, DAYS * 86400);
  const text = (p: string) => Buffer.from(tree.get(p)!.data!).toString('utf8').trimEnd().split('\n');
  return { passwd: text('/etc/passwd'), group: text('/etc/group'), shadow: text('/etc/shadow'), gshadow: text('/etc/gshadow') };
}

const script = (pkg: string, body: string): AccountStep[] =>
  classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body }).flatMap((a) => (a.kind === 'user' || a.kind === 'group' ? [{ pkg, phase: 'postinst', a }] : []));
const sysusers = (pkg: string, conf: string): AccountStep[] =>
  parseSysusers(conf, 'x.conf').flatMap((a) => (a.kind === 'user' || a.kind === 'group' ? [{ pkg, phase: 'file:x.conf', a }] : []));

describe('applyAccounts', () => {
  it('makes the accounts of bookworm service packages as their tools do, in the order they ran', () => {
    // the accounts steps of cron-daemon-common, systemd, systemd-timesyncd, udev, dbus-system-bus-common,
    // openssh-client and openssh-server (bookworm), in the order mmdebstrap 1.3.5 configured them
    const steps = [
      ...script('cron-daemon-common', 'getent group crontab > /dev/null 2>&1 || addgroup --system crontab'),
      ...sysusers('systemd', 'g systemd-journal - -\nu systemd-network - "systemd Network Management"\n'),
      ...sysusers('systemd-timesyncd', 'u systemd-timesync - "systemd Time Synchronization"\n'),
      ...script('udev', 'addgroup --quiet --system input\naddgroup --quiet --system sgx\naddgroup --quiet --system kvm\naddgroup --quiet --system render'),
      ...script('dbus-system-bus-common', 'adduser --system --quiet --home /nonexistent --no-create-home --disabled-password --group messagebus'),
      ...script('openssh-client', 'addgroup --system --quiet --force-badname _ssh'),
      ...script('openssh-server', 'if ! getent passwd sshd >/dev/null; then\n adduser --quiet --system --no-create-home --home /run/sshd --shell /usr/sbin/nologin sshd\nfi'),
    ];
    const got = link(steps);
    // what that mmdebstrap install left (shadow dates set to one day)
    expect(got.passwd.slice(18)).toEqual([
      'systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin',
      'systemd-timesync:x:997:997:systemd Time Synchronization:/:/usr/sbin/nologin',
      'messagebus:x:100:106::/nonexistent:/usr/sbin/nologin',
      'sshd:x:101:65534::/run/sshd:/usr/sbin/nologin',
    ]);
    expect(got.group.slice(38)).toEqual(['crontab:x:101:', 'systemd-journal:x:999:', 'systemd-network:x:998:', 'systemd-timesync:x:997:', 'input:x:102:', 'sgx:x:103:', 'kvm:x:104:', 'render:x:105:', 'messagebus:x:106:', '_ssh:x:107:']);
    expect(got.shadow[0]).toBe(`root:*:${DAYS}:0:99999:7:::`);
    expect(got.shadow.slice(18)).toEqual([`systemd-network:!*:${DAYS}::::::`, `systemd-timesync:!*:${DAYS}::::::`, `messagebus:!:${DAYS}::::::`, `sshd:!:${DAYS}::::::`]);
    expect(got.gshadow[0]).toBe('root:*::');
    expect(got.gshadow.slice(38)).toEqual(['crontab:!::', 'systemd-journal:!*::', 'systemd-network:!*::', 'systemd-timesync:!*::', 'input:!::', 'sgx:!::', 'kvm:!::', 'render:!::', 'messagebus:!::', '_ssh:!::']);
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v useradd && command -v systemd-sysusers']).status !== 0)(
    'equals the real useradd -R, groupadd -R and systemd-sysusers --root on the same masters',
    () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-accounts-'));
      try {
        fs.mkdirSync(path.join(root, 'etc/default'), { recursive: true });
        // this machine's (Debian's) login.defs and useradd defaults: USERGROUPS_ENAB yes, SHELL=/bin/sh
        fs.copyFileSync('/etc/login.defs', path.join(root, 'etc/login.defs'));
        fs.copyFileSync('/etc/default/useradd', path.join(root, 'etc/default/useradd'));
        const base = link([]);
        for (const f of ['passwd', 'group', 'shadow', 'gshadow'] as const) fs.writeFileSync(path.join(root, 'etc', f), base[f].join('\n') + '\n');
        const env = { ...process.env, SOURCE_DATE_EPOCH: String(DAYS * 86400) };
        const cmds = ['useradd -r foo', 'groupadd -r bar', 'useradd -r -g bar -d /var/lib/baz -s /usr/sbin/nologin -c "Baz daemon" baz', 'groupadd -r qux', 'useradd -r -U quux'];
        for (const c of cmds) {
          const [tool, ...args] = c.match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"(.*)"$/, '$1'));
          const r = spawnSync(tool!, ['-R', root, ...args], { env });
          expect(r.status, r.stderr.toString()).toBe(0);
        }
        const conf = 'g grp-a -\nu usr-b - "B user"\nu usr-c 990 "C user" /var/lib/c\nm usr-b grp-a\n';
        fs.writeFileSync(path.join(root, 'x.conf'), conf);
        const r = spawnSync('systemd-sysusers', [`--root=${root}`, path.join(root, 'x.conf')], { env });
        expect(r.status, r.stderr.toString()).toBe(0);
        const got = link([...script('pkg-a', cmds.join('\n')), ...sysusers('pkg-b', conf)]);
        // shadow's third field is the day of the change, which systemd-sysusers takes from the clock
        const noDay = (rows: string[]) => rows.map((l) => l.split(':').map((f, i) => (i === 2 ? '' : f)).join(':'));
        const real = (f: string) => fs.readFileSync(path.join(root, 'etc', f), 'utf8').trimEnd().split('\n');
        expect(got.passwd).toEqual(real('passwd'));
        expect(got.group).toEqual(real('group'));
        expect(noDay(got.shadow)).toEqual(noDay(real('shadow')));
        expect(got.gshadow).toEqual(real('gshadow'));
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  );
  it('pads an adduser --gecos as chfn does ("MySQL Server" → "MySQL Server,,,")', () => {
    const got = link(script('mariadb-server', 'adduser --system --disabled-login --no-create-home --home /nonexistent --gecos "MySQL Server" --shell /bin/false mysql'));
    expect(got.passwd.find((l) => l.startsWith('mysql:'))).toBe('mysql:x:100:65534:MySQL Server,,,:/nonexistent:/bin/false');
    // useradd -c and sysusers keep the comment as given
    expect(link(script('p', 'useradd -r -c "Foo daemon" foo')).passwd.find((l) => l.startsWith('foo:'))).toBe('foo:x:999:999:Foo daemon:/home/foo:/bin/sh');
  });

  const COMMENTS = ['MySQL Server', '', 'a,b', 'a,b,c,d,e,f', 'a,,c,', 'a,b,c,d,,f', 'Name,Room,Work,Home'];
  it.skipIf(process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v adduser && command -v chfn && command -v unshare']).status !== 0)(
    "equals the real adduser's GECOS (its chfn calls) for commas and empty fields",
    () => {
      // adduser has no --root: it runs in a mount namespace whose /etc is a copy holding only the base accounts
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-gecos-'));
      try {
        const etc = path.join(dir, 'etc');
        fs.cpSync('/etc', etc, { recursive: true, verbatimSymlinks: true });
        const base = link([]);
        for (const f of ['passwd', 'group', 'shadow', 'gshadow'] as const) fs.writeFileSync(path.join(etc, f), base[f].join('\n') + '\n');
        const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
        const cmds = COMMENTS.map((c, i) => `adduser --quiet --system --no-create-home --gecos ${quote(c)} u${i}`);
        const r = spawnSync('unshare', ['-m', 'sh', '-ec', `mount --bind ${quote(etc)} /etc\n${cmds.join('\n')}`]);
        expect(r.status, r.stderr.toString()).toBe(0);
        const real = new Map(fs.readFileSync(path.join(etc, 'passwd'), 'utf8').split('\n').map((l) => l.split(':')).map((f) => [f[0], f[4]]));
        COMMENTS.forEach((c, i) => expect(adduserGecos(c), JSON.stringify(c)).toBe(real.get(`u${i}`)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
