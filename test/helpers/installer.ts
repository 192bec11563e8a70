/**
 * The installer as the oracle, for any deb variant. weld links the variant
 * (`--format dir`) from a store holding the packages apt would pick for it;
 * mmdebstrap installs exactly weld's closure from a local mirror of the same
 * .debs, running every maintainer script for real. The two trees are compared
 * path by path (type, mode, owner by name, content, link target) and every
 * difference is given the mechanism behind it. The .debs and the installer's
 * tree are cached outside the checkout, keyed by the sorted SHA256s of the
 * .debs, so a warm run only links and walks weld's side.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadVariant } from '../../src/linker/variant.js';
import { ROOT, has, runAsync, weldAsync } from './tools.js';

export const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'weld-tests/installer');
const DEBS = path.join(CACHE, 'debs');
/** at most this many differing paths per set (issue 10 §1) */
export const TARGET = 15;
/** the command that rewrites fixtures/installer/<set>.txt from what the trees give today */
export const UPDATE = 'WELD_INSTALLER_UPDATE=1 npx vitest run test/installer-*.test.ts';

export const canRunInstaller = ['mmdebstrap', 'apt-ftparchive', 'apt-get', 'dpkg-deb'].every(has) && process.getuid?.() === 0 && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

/** Part of the key: a change to how the installer runs invalidates the cached trees. */
const INSTALLER = ['mmdebstrap', '--mode=root', '--variant=essential', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr'];

/**
 * Left out of the count, by name. Everything else counts. Each entry covers
 * the path and everything under it.
 */
export const IGNORED: { path: string; why: string }[] = [
  // package-manager state
  { path: '/var/lib/dpkg', why: 'package-manager state: dpkg database' },
  { path: '/var/lib/apt', why: 'package-manager state: apt lists and marks' },
  { path: '/var/lib/ucf', why: "package-manager state: ucf's checksums of the configuration it installed" },
  { path: '/var/lib/systemd/deb-systemd-helper-enabled', why: "package-manager state: deb-systemd-helper's record for later upgrades" },
  { path: '/var/lib/systemd/deb-systemd-user-helper-enabled', why: "package-manager state: deb-systemd-helper's record for later upgrades" },
  { path: '/var/lib/pam', why: "package-manager state: pam-auth-update's record of the profiles it saw" },
  { path: '/var/lib/shells.state', why: "package-manager state: add-shell's record" },
  { path: '/etc/apt/sources.list', why: "package-manager state: the installer's mirror" },
  { path: '/etc/apt/apt.conf.d/00mmdebstrap', why: "package-manager state: the installer's apt settings" },
  { path: '/etc/apt/sources.list.d', why: "package-manager state: the installer's apt directories" },
  { path: '/etc/apt/preferences.d', why: "package-manager state: the installer's apt directories" },
  { path: '/etc/dpkg/dpkg.cfg.d/99mmdebstrap', why: "package-manager state: the installer's dpkg settings (the variant's path-exclude)" },
  { path: '/etc/.pwd.lock', why: "package-manager state: the account tools' lock file" },
  // logs and caches
  { path: '/var/log', why: 'logs' },
  { path: '/var/cache', why: 'caches (apt archives, debconf, ldconfig aux-cache)' },
  // machine state, made at first boot or by the image's own settings
  { path: '/etc/machine-id', why: 'machine-id: empty in an image, made at first boot' },
  { path: '/var/lib/dbus/machine-id', why: 'machine-id: dbus follows /etc/machine-id' },
  // the first-boot state of issue 10 §3: an image holds no private keys
  { path: '/etc/ssh/ssh_host_*_key', why: "first-boot state: the SSH server's host keys (ssh-keygen -A)" },
  { path: '/etc/ssh/ssh_host_*_key.pub', why: "first-boot state: the SSH server's host keys (ssh-keygen -A)" },
  { path: '/etc/ssl/private/ssl-cert-snakeoil.key', why: "first-boot state: ssl-cert's snakeoil key (make-ssl-cert)" },
  { path: '/etc/ssl/certs/ssl-cert-snakeoil.pem', why: "first-boot state: ssl-cert's snakeoil certificate (make-ssl-cert)" },
  { path: '/usr/lib/systemd/system/weld-*.service', why: 'first-boot state: the units weld generates to make it (weld-ssh-keygen, weld-make-ssl-cert, weld-mariadb-install-db, weld-newaliases)' },
  { path: '/etc/systemd/system/*.wants/weld-*.service', why: 'first-boot state: the links that enable those units' },
  { path: '/etc/systemd/system/ssh.service.wants', why: "first-boot state: made only for weld-ssh-keygen's link" },
  { path: '/etc/systemd/system/ssh.socket.wants', why: "first-boot state: made only for weld-ssh-keygen's link" },
  { path: '/etc/systemd/system/mariadb.service.wants', why: "first-boot state: made only for weld-mariadb-install-db's link" },
  { path: '/etc/systemd/system/postfix.service.wants', why: "first-boot state: made only for weld-newaliases' link" },
  { path: '/etc/ssh/sshd_config.d/weld-host-keys.conf', why: 'first-boot state: where sshd finds the host keys first boot makes, on a read-only /etc' },
  { path: '/etc/aliases.db', why: "first-boot state: the mail aliases database, whose Berkeley DB bytes differ between two runs (newaliases, run by weld-newaliases.service)" },
  { path: '/var/lib/mysql', why: "first-boot state: MariaDB's data directory, whose system tables hold the server's accounts (mysql_install_db, run by weld-mariadb-install-db.service)" },
  { path: '/etc/os-release', why: "os-release: the variant's own" },
  { path: '/etc/hostname', why: 'hostname: copied from the machine the installer ran on' },
  { path: '/etc/fstab', why: 'fstab: the installer writes a placeholder' },
  { path: '/etc/resolv.conf', why: 'resolv.conf: copied from the machine the installer ran on' },
  // runtime file systems: mounted over at boot; the installer makes device nodes there
  { path: '/dev', why: 'contents of /dev: devtmpfs at boot' },
  { path: '/proc', why: 'contents of /proc: procfs at boot' },
  { path: '/sys', why: 'contents of /sys: sysfs at boot' },
  { path: '/run', why: 'contents of /run: tmpfs at boot' },
  { path: '/tmp', why: 'contents of /tmp: tmpfs at boot' },
];
/**
 * Links left out by their target, wherever their name: a hash link's name is the hash of a certificate
 * first boot makes. Each covers links in DIR to TARGET.
 */
export const IGNORED_LINKS: { dir: string; target: string; why: string }[] = [
  {
    dir: '/etc/ssl/certs',
    target: 'ssl-cert-snakeoil.pem',
    why: "first-boot state: the snakeoil certificate's hash link (make-ssl-cert's create_hash_link, or update-ca-certificates' openssl rehash after it), named by the hash of its subject, CN=the installing host's name",
  },
];
const ignoredLink = (p: string, e: { type: string; target?: string }) => e.type === 'link' && IGNORED_LINKS.some((l) => p.startsWith(l.dir + '/') && !p.slice(l.dir.length + 1).includes('/') && e.target === l.target);
/** shadow dates: the last-change day (field 3) is the day of the install, not compared */
const SHADOW_DATE_FIELD = 2;
/** these are walked as directories but their contents are left out */
const CONTENTS_ONLY = new Set(['/dev', '/proc', '/sys', '/run', '/tmp']);

/** an entry's path, or a glob where `*` stands for part of one name */
const glob = (g: string) => new RegExp('^' + g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '(/.*)?$');
const IGNORED_RE = IGNORED.map((i) => ({ ...i, re: glob(i.path) }));
export const ignored = (p: string) => IGNORED_RE.some((i) => (CONTENTS_ONLY.has(i.path) ? p.startsWith(i.path + '/') : i.re.test(p)));
/** compiled Python bytecode: marshal output varies between runs, so presence, mode and owner only */
const bytecode = (p: string) => p.endsWith('.pyc') || /\/__pycache__(\/|$)/.test(p);

export interface Entry {
  type: 'file' | 'dir' | 'link' | 'other';
  mode: number;
  /** user:group by name, through the tree's own /etc/passwd and /etc/group */
  owner: string;
  /** sha256 of the content (shadow: with the last-change days blanked) */
  hash?: string;
  target?: string;
}

function idNames(root: string, file: string): Map<number, string> {
  const m = new Map<number, string>();
  const f = path.join(root, file);
  if (!fs.existsSync(f)) return m;
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && !m.has(Number(id))) m.set(Number(id), name);
  }
  return m;
}

/** sha256 of a file; /etc/shadow without its dates */
function digest(p: string, full: string): string {
  let data = fs.readFileSync(full);
  if (p === '/etc/shadow' || p === '/etc/shadow-') data = Buffer.from(maskShadow(data.toString('utf8')));
  return crypto.createHash('sha256').update(data).digest('hex');
}
const maskShadow = (text: string) =>
  text
    .split('\n')
    .map((l) => {
      const f = l.split(':');
      if (f.length > SHADOW_DATE_FIELD) f[SHADOW_DATE_FIELD] = '';
      return f.join(':');
    })
    .join('\n');

export function walk(root: string): Map<string, Entry> {
  const users = idNames(root, 'etc/passwd');
  const groups = idNames(root, 'etc/group');
  const out = new Map<string, Entry>();
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      if (ignored(p)) continue;
      const full = path.join(root, p);
      const st = fs.lstatSync(full);
      const owner = `${users.get(st.uid) ?? `#${st.uid}`}:${groups.get(st.gid) ?? `#${st.gid}`}`;
      const e: Entry = { type: st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', mode: st.mode & 0o7777, owner };
      if (e.type === 'link') e.target = fs.readlinkSync(full);
      if (ignoredLink(p, e)) continue;
      if (e.type === 'file' && !bytecode(p)) e.hash = digest(p, full);
      if (e.type === 'other') e.target = `kind ${st.mode >> 12}`;
      out.set(p, e);
      if (e.type === 'dir' && !CONTENTS_ONLY.has(p)) visit(p);
    }
  };
  visit('');
  return out;
}

/** systemd finds units under /lib and /usr/lib alike once /lib is a link to usr/lib */
const sameTarget = (a?: string, b?: string) => a === b || (a?.startsWith('/lib/') && b === `/usr${a}`) || (b?.startsWith('/lib/') && a === `/usr${b}`);

/** what differs between the installer's entry and weld's, in words; '' when they agree */
export function entryDiff(a: Entry, b: Entry): string {
  const d: string[] = [];
  if (a.type !== b.type) d.push(`type ${a.type} → ${b.type}`);
  else if (a.type === 'link' && !sameTarget(a.target, b.target)) d.push(`target ${a.target} → ${b.target}`);
  else if (a.type === 'other' && a.target !== b.target) d.push(`${a.target} → ${b.target}`);
  else if (a.hash !== b.hash) d.push('content');
  if (a.type !== 'link' && b.type !== 'link' && a.mode !== b.mode) d.push(`mode ${a.mode.toString(8)} → ${b.mode.toString(8)}`);
  if (a.owner !== b.owner) d.push(`owner ${a.owner} → ${b.owner}`);
  return d.join(', ');
}

/** The mechanism behind a difference, first match wins: the headings of the fixture files. */
const MECHANISMS: { heading: string; test: (p: string, line: string) => boolean }[] = [
  { heading: 'compiled Python bytecode: py3compile/pycompile run by postinst', test: (p) => bytecode(p) },
  { heading: 'accounts: adduser/useradd in scripts (ids, fields) and the backups the tools write', test: (p) => /^\/etc\/(passwd|group|shadow|gshadow|subuid|subgid)-?$/.test(p) },
  { heading: 'sysvinit links (update-rc.d)', test: (p) => /^\/etc\/rc[0-6S]\.d(\/|$)/.test(p) },
  { heading: 'service enablement (deb-systemd-helper)', test: (p) => /^\/etc\/systemd\/(system|user)\//.test(p) },
  { heading: 'CA hash links and bundle (update-ca-certificates)', test: (p) => p.startsWith('/etc/ssl/certs/') },
  { heading: "udev's hwdb.bin (systemd-hwdb update)", test: (p) => p.endsWith('/hwdb.bin') },
  { heading: "systemd's journal catalog (journalctl --update-catalog)", test: (p) => p.startsWith('/var/lib/systemd/catalog') },
  { heading: 'alternatives (update-alternatives)', test: (p) => p.startsWith('/etc/alternatives/') || p.startsWith('/var/lib/dpkg/alternatives') },
  { heading: "kernel postinst: initramfs and depmod's indexes", test: (p) => p.startsWith('/boot/') || p.startsWith('/var/lib/initramfs-tools') || /^\/usr\/lib\/modules\/[^/]+\/modules\./.test(p) },
  { heading: "the variant's own files and settings", test: (p) => p === '/etc/localtime' || p === '/etc/timezone' || p.startsWith('/etc/containerd/') || p === '/usr/lib/os-release' },
  { heading: 'modes and owners set by scripts (dpkg-statoverride, chown, chmod)', test: (_p, line) => line.startsWith('~ ') && /\((mode|owner)[^,]*(, (mode|owner)[^,]*)*\)$/.test(line) },
  { heading: 'configuration installed by scripts (ucf, cp, ln, generated files)', test: (p) => p.startsWith('/etc/') },
  { heading: 'state and data made by scripts (/var, /srv, /home, /root)', test: (p) => /^\/(var|srv|home|root)(\/|$)/.test(p) },
  { heading: 'other files made by scripts', test: () => true },
];
export const mechanismOf = (line: string) => MECHANISMS.find((m) => m.test(line.slice(2).replace(/ \(.*\)$/, ''), line))!.heading;

/** `- path` only the installer has it, `+ path` only weld, `~ path (what differs)` both, differently */
export function compareTrees(inst: Map<string, Entry>, ours: Map<string, Entry>): string[] {
  const out: string[] = [];
  // a cached index may predate an entry of IGNORED
  for (const [p, a] of inst) {
    if (ignored(p) || ignoredLink(p, a)) continue;
    const b = ours.get(p);
    if (!b) out.push(`- ${p}`);
    else {
      const d = entryDiff(a, b);
      if (d) out.push(`~ ${p} (${d})`);
    }
  }
  for (const [p, b] of ours) if (!inst.has(p) && !ignored(p) && !ignoredLink(p, b)) out.push(`+ ${p}`);
  return out.sort((x, y) => (x.slice(2) < y.slice(2) ? -1 : x.slice(2) > y.slice(2) ? 1 : 0));
}

const ACCOUNT_FILES = /^\/etc\/(passwd|group|shadow|gshadow)$/;

/**
 * The account databases hold the same accounts when compareAccounts finds no
 * difference in them: their bytes may still differ in dynamically allocated
 * ids, shadow dates and line order, which the issue leaves out. A content
 * difference of one counts only when one of its accounts differs; its mode and
 * owner count as for any file.
 */
export function accountFiles(differences: string[], accounts: string[]): string[] {
  const differs = new Set(accounts.map((a) => a.split(' ')[1]));
  return differences.flatMap((d) => {
    const m = /^~ (\S+) \((.*)\)$/.exec(d);
    if (!m || !ACCOUNT_FILES.test(m[1]!)) return [d];
    const parts = m[2]!.split(', ').filter((x) => x !== 'content' || differs.has(m[1]!.slice(5)));
    return parts.length ? [`~ ${m[1]} (${parts.join(', ')})`] : [];
  });
}

/** `! file name (what differs)`, `! file -name`, `! file +name`; system ids allocated dynamically (100-999) are not compared */
export function compareAccounts(instRoot: string, oursRoot: string): string[] {
  const read = (root: string, f: string) => {
    const full = path.join(root, 'etc', f);
    const m = new Map<string, string[]>();
    if (fs.existsSync(full)) for (const l of fs.readFileSync(full, 'utf8').split('\n')) if (l) m.set(l.split(':')[0], l.split(':'));
    return m;
  };
  const gname = (root: string) => {
    const g = read(root, 'group');
    return (gid: string) => [...g.values()].find((f) => f[2] === gid)?.[0] ?? `#${gid}`;
  };
  const ga = gname(instRoot);
  const gb = gname(oursRoot);
  const dynamic = (id: string) => Number(id) >= 100 && Number(id) <= 999;
  const fields: Record<string, string[]> = {
    passwd: ['name', 'password', 'uid', 'group', 'comment', 'home', 'shell'],
    group: ['name', 'password', 'gid', 'members'],
    shadow: ['name', 'password', 'last change', 'min', 'max', 'warn', 'inactive', 'expire', 'reserved'],
    gshadow: ['name', 'password', 'admins', 'members'],
  };
  const out: string[] = [];
  for (const [file, names] of Object.entries(fields)) {
    const a = read(instRoot, file);
    const b = read(oursRoot, file);
    for (const [name, fa] of a) {
      const fb = b.get(name);
      if (!fb) {
        out.push(`! ${file} -${name}`);
        continue;
      }
      const d: string[] = [];
      names.forEach((field, i) => {
        let [x, y] = [fa[i] ?? '', fb[i] ?? ''];
        if (field === 'last change') return;
        if ((field === 'uid' || field === 'gid') && dynamic(x) && dynamic(y)) return;
        if (field === 'group') [x, y] = [ga(x), gb(y)];
        if (x !== y) d.push(`${field} ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
      });
      if (d.length) out.push(`! ${file} ${name} (${d.join(', ')})`);
    }
    for (const name of b.keys()) if (!a.has(name)) out.push(`! ${file} +${name}`);
  }
  return out;
}

// ---- running weld and the installer ----

async function must(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const r = await runAsync(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 6).join(' ')}… exited ${r.status}: ${r.stderr.slice(-4000)}`);
  return r.stdout;
}

interface Deb {
  name: string;
  file: string;
}

/** What apt would install for these packages on an empty system: the universe weld resolves in. */
export async function aptUniverse(packages: string[], work: string): Promise<Deb[]> {
  const status = path.join(work, 'empty-status');
  fs.writeFileSync(status, '');
  const names = packages.map((p) => p.trim().split(/[\s(<>=]/)[0]);
  const out = await must('apt-get', ['-s', '-o', `Dir::State::status=${status}`, '-o', 'APT::Install-Recommends=0', 'install', ...names]);
  const debs: Deb[] = [];
  for (const m of out.matchAll(/^Inst (\S+) \((\S+) .*\[(\S+)\]\)/gm)) {
    const [, name, version, arch] = m;
    debs.push({ name, file: path.join(DEBS, `${name}_${version.replace(':', '%3a')}_${arch}.deb`) });
  }
  if (!debs.length) throw new Error(`apt-get -s found nothing to install for ${names.join(' ')}`);
  const need = debs.filter((d) => !fs.existsSync(d.file));
  if (need.length) {
    fs.mkdirSync(DEBS, { recursive: true });
    const versions = need.map((d) => `${d.name}=${path.basename(d.file).split('_')[1].replace('%3a', ':')}`);
    await must('apt-get', ['download', ...versions], { cwd: DEBS });
  }
  for (const d of debs) if (!fs.existsSync(d.file)) throw new Error(`apt-get download gave no ${d.file}`);
  return debs;
}

const sha256File = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** dpkg's path-exclude for the variant's exclude globs, also under the unmerged /lib, /bin, /sbin the .debs ship */
function dpkgExcludes(exclude: string[]): string[] {
  const out: string[] = [];
  for (const g of exclude) {
    const forms = [g, g.replace(/^\/usr\/(lib|bin|sbin|lib64)\//, '/$1/')];
    for (const f of new Set(forms)) out.push(`--dpkgopt=path-exclude=${f}`, ...(f.endsWith('*') ? [] : [`--dpkgopt=path-exclude=${f}/*`]));
  }
  return out;
}

/** Debian's Essential packages (those of minbase marked `Essential: yes`): dpkg and the scripts need them to run */
async function essentialNames(): Promise<string[]> {
  const v = await loadVariant(path.join(ROOT, 'bench/variants/minbase.toml'));
  const out = await must('apt-cache', ['show', '--no-all-versions', ...v.packages.map((p) => p.trim())]);
  return out
    .split('\n\n')
    .filter((s) => /^Essential: yes$/m.test(s))
    .map((s) => /^Package: (\S+)$/m.exec(s)![1])
    .sort();
}

/** a path as it is after /usr is merged: dpkg lists /bin/diff, the tree holds /usr/bin/diff */
const merged = (p: string) => (/^\/(bin|sbin|lib|lib32|lib64|libx32)(\/|$)/.test(p) ? `/usr${p}` : p);

/**
 * Installs `closure` with mmdebstrap from a mirror of exactly those .debs
 * (plus `helpers`), or takes the cached tree.
 */
async function installerTree(closure: Deb[], helpers: Deb[], exclude: string[], work: string): Promise<{ key: string; tree: string; index: Map<string, Entry>; cold: boolean }> {
  const args = [...INSTALLER, ...dpkgExcludes(exclude)];
  const all = [...closure, ...helpers];
  const key = crypto
    .createHash('sha256')
    .update(all.map((d) => sha256File(d.file)).sort().join('\n') + '\n' + args.join(' '))
    .digest('hex');
  const dir = path.join(CACHE, key);
  const tree = path.join(dir, 'tree');
  // the whole tree, helpers' files too: weld links the helpers as well (an index.json of an older
  // helper left them out; the tree beside it is whole, so it is walked again)
  const indexFile = path.join(dir, 'index-full.json');
  if (fs.existsSync(indexFile)) {
    return { key, tree, index: new Map(JSON.parse(fs.readFileSync(indexFile, 'utf8'))), cold: false };
  }
  if (fs.existsSync(path.join(dir, 'index.json')) && fs.existsSync(tree)) {
    const index = walk(tree);
    fs.writeFileSync(indexFile + '.tmp', JSON.stringify([...index]));
    fs.renameSync(indexFile + '.tmp', indexFile);
    return { key, tree, index, cold: false };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const mirror = path.join(work, 'mirror');
  const pool = path.join(mirror, 'pool/main');
  fs.mkdirSync(pool, { recursive: true });
  fs.mkdirSync(path.join(mirror, 'dists/bookworm/main/binary-amd64'), { recursive: true });
  for (const d of all) fs.copyFileSync(d.file, path.join(pool, path.basename(d.file)));
  await must('bash', ['-c', 'cd "$1" && apt-ftparchive packages pool > dists/bookworm/main/binary-amd64/Packages && apt-ftparchive -o APT::FTPArchive::Release::Suite=bookworm -o APT::FTPArchive::Release::Codename=bookworm -o APT::FTPArchive::Release::Components=main -o APT::FTPArchive::Release::Architectures=amd64 release dists/bookworm > Release.tmp && mv Release.tmp dists/bookworm/Release', 'mirror', mirror]);
  const [cmd, ...rest] = args;
  const r = await runAsync(cmd, [...rest, `--include=${closure.map((d) => d.name).join(',')}`, 'bookworm', tree, `deb [trusted=yes] copy://${mirror} bookworm main`]);
  if (r.status !== 0) throw new Error(`mmdebstrap exited ${r.status}: ${r.stderr.slice(-6000)}`);
  const index = walk(tree);
  fs.writeFileSync(indexFile + '.tmp', JSON.stringify([...index]));
  fs.renameSync(indexFile + '.tmp', indexFile);
  return { key, tree, index, cold: true };
}

export interface Outcome {
  set: string;
  packages: number;
  /** every difference line, sorted by path */
  differences: string[];
  accounts: string[];
  /** distinct differing paths */
  count: number;
  /** scriptlet steps of the closure: all, and the non-trivial ones (no `noop`) */
  typed: { steps: number; opaque: number; noop: number; percent: number; nontrivialPercent: number };
  /** Essential packages outside the variant's closure the installer needed to run: weld links them too */
  helpers: string[];
  /** dpkg's diversions, as the installer's /var/lib/dpkg/diversions has them and as weld's report gives them: `PATH → DIVERT (PACKAGE)` */
  diversions: { installer: string[]; weld: string[] };
  key: string;
  cold: boolean;
  ms: number;
}

/** dpkg's diversions file: triples of diverted path, divert name, package (`:` for --local) */
function dpkgDiversions(tree: string): string[] {
  const f = path.join(tree, 'var/lib/dpkg/diversions');
  const l = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n') : [];
  const out: string[] = [];
  for (let i = 0; i + 2 < l.length; i += 3) out.push(`${l[i]} → ${l[i + 1]} (${l[i + 2] === ':' ? 'local' : l[i + 2]})`);
  return out.sort();
}

/**
 * Links `variantFile` with weld and compares it with the installer's tree of
 * the same closure. `work` is scratch (weld's store and tree, the mirror).
 */
export async function compareWithInstaller(set: string, variantFile: string, work: string): Promise<Outcome> {
  const t0 = Date.now();
  const v = await loadVariant(variantFile);
  // Debian's installers set up merged /usr with usr-is-merged; asked for, apt picks it over usrmerge for "usrmerge | usr-is-merged"
  const universe = await aptUniverse([...v.packages, ...(v.mergedUsr ? ['usr-is-merged'] : [])], work);
  let store = path.join(work, 'store');
  const imp = await weldAsync(['import', '--store', store, ...universe.map((d) => d.file)]);
  if (imp.status !== 0) throw new Error(`weld import: ${imp.stderr}`);
  const ours = path.join(work, 'weld');
  const report = path.join(work, 'report.json');
  const link = async (variant: string): Promise<Set<string>> => {
    fs.rmSync(ours, { recursive: true, force: true });
    const l = await weldAsync(['link', '--store', store, '--variant', variant, '--format', 'dir', '-o', ours, '--report', report]);
    if (l.status !== 0) throw new Error(`weld link: ${l.stderr}`);
    return new Set((JSON.parse(fs.readFileSync(report, 'utf8')) as { packages: { name: string }[] }).packages.map((p) => p.name));
  };
  const picked = await link(variantFile);
  const closure = universe.filter((d) => picked.has(d.name));
  if (closure.length !== picked.size) throw new Error(`weld's closure has packages apt did not pick: ${[...picked].filter((n) => !closure.some((d) => d.name === n)).join(' ')}`);
  // an installer cannot run without Debian's Essential set: what the closure lacks of it is installed
  // too, and weld links it as well, so that both sides hold the same packages
  const have = new Set(closure.map((d) => d.name));
  const missing = (await essentialNames()).filter((n) => !have.has(n));
  const helpers = missing.length ? (await aptUniverse([...closure.map((d) => d.name), ...missing], work)).filter((d) => !have.has(d.name)) : [];
  const linked = [...closure, ...helpers];
  if (linked.length !== universe.length) {
    // the scriptlet count is over what is linked alone
    store = path.join(work, 'closure-store');
    const again = await weldAsync(['import', '--store', store, ...linked.map((d) => d.file)]);
    if (again.status !== 0) throw new Error(`weld import: ${again.stderr}`);
  }
  if (helpers.length) {
    const text = fs.readFileSync(variantFile, 'utf8');
    if (!/^packages = \[/m.test(text)) throw new Error(`${variantFile}: no top-level packages = [ line to add the installer's helpers to`);
    const withHelpers = path.join(work, 'variant-with-helpers.toml');
    fs.writeFileSync(withHelpers, text.replace(/^packages = \[/m, `packages = [${helpers.map((d) => JSON.stringify(d.name)).join(', ')}, `));
    const again = await link(withHelpers);
    const want = new Set(linked.map((d) => d.name));
    const odd = [...again].filter((n) => !want.has(n)).concat([...want].filter((n) => !again.has(n)));
    if (odd.length) throw new Error(`weld's link with the installer's helpers holds other packages than the installer's: ${odd.join(' ')}`);
  }
  const inst = await installerTree(closure, helpers, v.exclude, work);
  const accounts = compareAccounts(inst.tree, ours);
  const differences = accountFiles(compareTrees(inst.index, walk(ours)), accounts);
  const sc = await weldAsync(['scriptlets', '--json', '--store', store]);
  if (sc.status !== 0) throw new Error(`weld scriptlets: ${sc.stderr}`);
  const r = JSON.parse(sc.stdout) as { counts: Record<string, number>; opaque: unknown[] };
  const steps = Object.values(r.counts).reduce((a, b) => a + b, 0);
  const opaque = r.counts.opaque ?? 0;
  const noop = r.counts.noop ?? 0;
  return {
    set,
    packages: linked.length,
    differences,
    accounts,
    count: new Set(differences.map((d) => d.slice(2).replace(/ \(.*\)$/, ''))).size,
    typed: { steps, opaque, noop, percent: steps ? (100 * (steps - opaque)) / steps : 100, nontrivialPercent: steps - noop ? (100 * (steps - noop - opaque)) / (steps - noop) : 100 },
    helpers: helpers.map((d) => d.name),
    diversions: {
      installer: dpkgDiversions(inst.tree),
      weld: ((JSON.parse(fs.readFileSync(report, 'utf8')) as { actions: { system?: { diversions: { path: string; divert: string; package?: string }[] } } }).actions.system?.diversions ?? [])
        .map((d) => `${d.path} → ${d.divert} (${d.package ?? 'local'})`)
        .sort(),
    },
    key: inst.key,
    cold: inst.cold,
    ms: Date.now() - t0,
  };
}

// ---- the pinned list per set ----

export const fixtureFile = (set: string) => path.join(ROOT, 'fixtures/installer', `${set}.txt`);

/** The fixture text: a header, then the differences grouped under their mechanism, then the accounts. */
export function renderFixture(o: Outcome): string {
  const groups = new Map<string, string[]>();
  for (const d of o.differences) {
    const h = mechanismOf(d);
    groups.set(h, [...(groups.get(h) ?? []), d]);
  }
  const lines = [
    `# weld link --format dir against mmdebstrap's install of the same ${o.packages} .debs: set ${o.set}`,
    `# ${o.count} differing paths (target at most ${TARGET}); \`-\` only the installer has it, \`+\` only weld, \`~\` both, differently (installer → weld)`,
    `# regenerate with: ${UPDATE}`,
    `# ${typedLine(o)} (target at least 98%)`,
    ...(o.helpers.length ? [`# the installer also installed ${o.helpers.join(' ')} (Essential packages outside the closure, so dpkg and the scripts can run); weld's link here holds them too`] : []),
    '',
  ];
  for (const m of MECHANISMS) {
    const g = groups.get(m.heading);
    if (!g) continue;
    lines.push(`## ${m.heading} (${g.length})`, ...g, '');
  }
  lines.push('## accounts by name: /etc/passwd, group, shadow, gshadow (dynamic system ids and shadow dates not compared)', ...o.accounts, '');
  return lines.join('\n');
}

const typedLine = (o: Outcome) =>
  `typed scriptlet steps ${o.typed.percent.toFixed(1)}% of all (${o.typed.steps - o.typed.opaque}/${o.typed.steps}), ` +
  `${o.typed.nontrivialPercent.toFixed(1)}% of the non-trivial (${o.typed.steps - o.typed.noop - o.typed.opaque}/${o.typed.steps - o.typed.noop}, noop left out)`;

/** the difference lines of a fixture file (headings and comments dropped) */
export function readFixture(set: string): string[] | null {
  const f = fixtureFile(set);
  if (!fs.existsSync(f)) return null;
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => /^[-+~!] /.test(l));
}

/** per mechanism: how many difference lines */
export function byMechanism(o: Outcome): Record<string, number> {
  const c: Record<string, number> = {};
  for (const d of o.differences) c[mechanismOf(d)] = (c[mechanismOf(d)] ?? 0) + 1;
  return c;
}


/**
 * One set's test: its differences must be exactly the pinned list in
 * fixtures/installer/<set>.txt (a new one and one that went away both fail);
 * with WELD_INSTALLER_UPDATE=1 the list is rewritten instead.
 */
export async function installerSuite(set: string, variantFile: string, t: typeof import('vitest')): Promise<void> {
  const { afterAll, beforeAll, describe, expect, it } = t;
  describe.skipIf(!canRunInstaller)(`weld link of ${set} against mmdebstrap's install of the same .debs`, () => {
    let work = '';
    let o: Outcome;
    beforeAll(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), `weld-installer-${set}-`));
      o = await compareWithInstaller(set, variantFile, work);
      if (process.env.WELD_INSTALLER_UPDATE) {
        fs.mkdirSync(path.dirname(fixtureFile(set)), { recursive: true });
        fs.writeFileSync(fixtureFile(set), renderFixture(o));
      }
      const mech = Object.entries(byMechanism(o))
        .map(([k, n]) => `    ${String(n).padStart(5)}  ${k}`)
        .join('\n');
      console.log(
        `installer oracle, ${set}: ${o.count} differing paths (target at most ${TARGET}), ${o.accounts.length} account differences, ` +
          `${o.packages} packages, ${typedLine(o)}, ` +
          `${o.cold ? 'cold' : 'warm'} (installer tree ${o.key.slice(0, 12)}), ${(o.ms / 1000).toFixed(0)} s\n${mech}`,
      );
    }, 1_800_000);
    afterAll(() => {
      if (!work) return;
      if (process.env.WELD_KEEP) console.error(`kept ${work}`);
      else fs.rmSync(work, { recursive: true, force: true });
    });

    it('differs from the installer in exactly the pinned paths, each under its mechanism', () => {
      const pinned = readFixture(set);
      expect(pinned, `no ${fixtureFile(set)}: run ${UPDATE}`).not.toBeNull();
      const now = [...o.differences, ...o.accounts];
      const appeared = now.filter((d) => !pinned!.includes(d));
      const gone = pinned!.filter((d) => !now.includes(d));
      // a difference that went away is good news: refresh the list with the update mode
      expect({ appeared, gone }, `differences changed (refresh with ${UPDATE})`).toEqual({ appeared: [], gone: [] });
    });

    it('holds the same accounts in passwd, group, shadow and gshadow as the installer', () => {
      // holds today: no account missing or extra; the differing fields are pinned in the fixture
      expect(o.accounts.filter((a) => / [-+][^ ]+$/.test(a))).toEqual([]);
    });

    it("records the diversions the installer's dpkg has (dpkg-divert in the scripts)", () => {
      expect(o.diversions.weld).toEqual(o.diversions.installer);
    });

    it('left out of the count only what the helper lists by name', () => {
      for (const d of o.differences) expect(ignored(d.slice(2).replace(/ \(.*\)$/, '')), d).toBe(false);
    });
  });
}
