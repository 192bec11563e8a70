/**
 * The domain model shared by importer, store and linker. The JSON shape of
 * `inspect --json` and `show --files --json` is `PackageJson` below; keep it stable.
 */

export type PackageFormat = 'rpm' | 'deb';
export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** One dependency atom. `op` is spelled as the format spells it ('' when unversioned). */
export interface Dep {
  name: string;
  op: string;
  evr: string;
  /** raw RPMSENSE_* flags for rpm (pre, interp, rich...); absent for deb */
  sense?: number;
  /** an rpm rich dependency (`name` starts with '('), parsed: set in the store's derived resolver data */
  rich?: RichDep;
}
/** A deb alternative `a | b` becomes `{anyOf: [...]}`. */
export interface AnyOf {
  anyOf: Dep[];
}
export type DepEntry = Dep | AnyOf;

/** Parsed rpm rich/boolean dependency, kept beside its raw text. */
export type RichDep =
  | { op: 'atom'; dep: Dep }
  | { op: 'and' | 'or' | 'with' | 'without'; args: RichDep[] }
  | { op: 'if' | 'unless'; cond: RichDep; then: RichDep; else?: RichDep };

export interface FileEntry {
  /** absolute path; valid UTF-8 as is, other bytes as \xNN */
  path: string;
  /** raw path bytes, only when they are not valid UTF-8 */
  pathBytes?: Uint8Array;
  type: FileType;
  /** full st_mode */
  mode: number;
  user: string;
  group: string;
  uid?: number;
  gid?: number;
  size: number;
  mtime: number;
  /** the package's own digest of the content, lowercase hex; '' when none */
  digest: string;
  digestAlgo: string;
  /** symlink target; '' otherwise */
  target: string;
  /** sorted lowercase names: config, doc, ghost, license, missingok, noreplace, readme, artifact, specfile, pubkey */
  flags: string[];
  /** as rpm --qf '%{FILECAPS}' prints them; '' when none */
  caps: string;
  /** BLAKE3 hex of the content; '' for anything but a regular file with content */
  object: string;
  /** hardlink group within the package: files sharing a non-zero value are one inode */
  hardlink?: number;
  /** device number for char/block nodes (major << 8 | minor, Linux old_encode_dev is not used: store major/minor) */
  rdevMajor?: number;
  rdevMinor?: number;
  /** extra xattrs (name → value bytes), besides security.capability which `caps` implies */
  xattrs?: Record<string, Uint8Array>;
}

export type SignatureKind = 'rsa' | 'dsa' | 'ecdsa' | 'eddsa' | 'mldsa' | 'unknown';
export interface Signature {
  /** header tag name it came from: RSAHEADER, DSAHEADER, PGP, GPG, OPENPGP, … */
  tag: string;
  kind: SignatureKind;
  hashAlgo: string;
  keyId: string;
}

/** the tool that makes an account (adduser/addgroup, useradd/groupadd, systemd-sysusers): it decides id range, direction and defaults */
export type AccountTool = 'adduser' | 'useradd' | 'sysusers';

export type Action =
  | { kind: 'user'; name: string; uid?: number; group?: string; groups?: string[]; home?: string; shell?: string; comment?: string; system: boolean; tool?: AccountTool }
  | { kind: 'group'; name: string; gid?: number; system: boolean; members?: string[]; tool?: AccountTool }
  | { kind: 'ldconfig' }
  | { kind: 'alternative'; link: string; name: string; path: string; priority: number; slaves?: { link: string; name: string; path: string }[] }
  | { kind: 'service'; op: 'enable' | 'preset' | 'disable' | 'mask' | 'unmask' | 'start' | 'stop' | 'restart' | 'reload' | 'daemon-reload'; units: string[]; user?: boolean }
  /** update-rc.d's sysvinit links /etc/rcN.d/[SK]01SCRIPT from the init script's LSB Default-Start/Stop (no insserv) */
  | { kind: 'rclinks'; op: 'defaults' | 'defaults-disabled' | 'enable' | 'disable' | 'remove'; script: string; levels?: string[] }
  /** a2enmod/a2dismod, a2enconf/a2disconf, a2ensite/a2dissite: NAME's links in /etc/apache2/*-enabled and the state a2enmod keeps (`maint`: -m) */
  | { kind: 'apache'; op: 'enable' | 'disable'; what: 'module' | 'conf' | 'site'; name: string; maint: boolean }
  | { kind: 'directory'; path: string; mode?: number; user?: string; group?: string; when?: Guard[]; like?: LikeShipped }
  /** ln -s TARGET PATH; `force` replaces an existing link (-f) */
  | { kind: 'symlink'; path: string; target: string; force: boolean; when?: Guard[] }
  /** cp FROM TO of a regular file (following links); `preserve` keeps mode and owner (-p); `noClobber` leaves an existing TO (-n); `edits`: sed s/// applied to the copy (a template a script edits, then installs with ucf) */
  | { kind: 'copy'; from: string; to: string; preserve: boolean; noClobber: boolean; when?: Guard[]; edits?: SedEdit[] }
  /** a file written with content the script fixes (`cat > F <<EOF`, `echo … >> F`, `cat A >> F`): `parts` in order, `append` for >>; `createMode` as for `file` */
  | { kind: 'write'; path: string; append: boolean; parts: WritePart[]; when?: Guard[]; createMode?: number }
  /** mv [-f] FROM TO of a single path (rename(2) semantics: TO is replaced) */
  | { kind: 'rename'; from: string; to: string; when?: Guard[] }
  /** a regular file that must exist (`: > f`, touch, …), with the owner and mode later chown/chmod gave it; `truncate`: made by `>` rather than `>>`/touch; `createMode`: its mode if made here under a umask other than 022 */
  | { kind: 'file'; path: string; truncate: boolean; mode?: number; user?: string; group?: string; when?: Guard[]; createMode?: number }
  /** rmdir PATH: removes the directory when it is empty (otherwise rmdir fails, and so does the script) */
  | { kind: 'rmdir'; path: string; when?: Guard[] }
  /** rm [-f] PATH: nothing to do where nothing is; removing what a package ships is not modelled (listed instead) */
  | { kind: 'remove'; path: string; when?: Guard[] }
  /**
   * the owner and mode a script gives a path it did not make itself (dpkg-statoverride --update, chown,
   * chgrp, chmod), owners by name; `tool` decides what a missing path means and whether chown's
   * clearing of setuid/setgid applies
   */
  | { kind: 'statoverride'; tool: 'dpkg-statoverride' | 'chown' | 'chmod'; path: string; user?: string; group?: string; mode?: number; when?: Guard[]; like?: LikeShipped }
  | { kind: 'tmpfiles'; configs: string[] }
  | { kind: 'cache'; tool: string; args: string[] }
  /**
   * A generated index the image's own TOOL makes from what packages ship (udev's hwdb.bin…): run at
   * link time with ARGS in a sandboxed view of the linked tree, where only the directory of OUTPUTS
   * is writable. TOOL is a name looked up on the image's PATH, or an absolute path; INPUTS say what it reads;
   * `when`: run only if these hold (pypy3compile under `command -v pypy3compile`).
   */
  | { kind: 'generate'; generator: string; tool: string; args: string[]; inputs: string[]; outputs: string[]; when?: Guard[] }
  | { kind: 'shell'; op: 'add' | 'remove'; path: string }
  /**
   * machine state a script makes on the installing host (host keys, a snakeoil certificate, a
   * private key, a machine id): never baked into an image, made at first boot instead;
   * `paths` are the files it makes, where the script names them
   */
  | { kind: 'firstboot'; what: FirstbootWhat; tool: string; paths: string[] }
  /** setcap CAPS PATH (libcap's text form, as FileEntry.caps holds it); '' for setcap -r */
  | { kind: 'caps'; path: string; caps: string }
  /** dpkg-divert --add/--remove: with `rename` the file moves to (or back from) DIVERT; `package` is --package (absent: --local) */
  | { kind: 'divert'; op: 'add' | 'remove'; path: string; divert?: string; rename: boolean; package?: string; when?: Guard[] }
  /** usermod -g GROUP USER: an account's primary group, changed once the accounts exist */
  | { kind: 'usermod'; name: string; group: string }
  /** postconf -e KEY=VALUE…: postconf's edit of main.cf in DIR (-c, default /etc/postfix): replace the `KEY =` line, or append it */
  | { kind: 'postconf'; dir: string; settings: [string, string][] }
  | { kind: 'noop'; what: string }
  /** a step weld does not model; `when`: it runs only under these file tests */
  | { kind: 'opaque'; text: string; reason: string; when?: Guard[] };

/**
 * Fields a script gives from another path as the image ships it (`mkdir -m $(stat -L -c %a /usr/local)`,
 * `chown $(stat -L -c %u P):$(stat -L -c %g P)`): each names the path whose mode, owner or group the
 * linker copies, following links; the path missing, stat prints nothing and the command fails
 */
export interface LikeShipped {
  mode?: string;
  user?: string;
  group?: string;
}

/** literal text, or the content of a file in the image (with `edits`: as `sed` printed it) */
export type WritePart = { text: string } | { file: string; edits?: SedEdit[] };

/** one sed `s/RE/REPL/[g]`, applied line by line: `re` is JavaScript RegExp source translated exactly from sed's; `repl` literal text and group numbers (0: sed's &) */
export interface SedSubst {
  re: string;
  global: boolean;
  repl: (string | number)[];
}

/** sed `/RE/d`: a line `re` matches is dropped, and the commands after it do not see it */
export interface SedDelete {
  re: string;
  delete: true;
}

/** one command of a sed script weld applies exactly, in script order */
export type SedEdit = SedSubst | SedDelete;

/** ssh-host-key: ssh-keygen of a host key; ssl-snakeoil: make-ssl-cert's default certificate; private-key: any other key (openssl req -keyout, genrsa…); machine-id: dbus-uuidgen --ensure, systemd-machine-id-setup; mariadb-datadir: mysql_install_db's system tables in /var/lib/mysql; mail-aliases: newaliases' /etc/aliases.db (not reproducible) */
export type FirstbootWhat = 'ssh-host-key' | 'ssl-snakeoil' | 'private-key' | 'machine-id' | 'mariadb-datadir' | 'mail-aliases';

/**
 * A file test a scriptlet's branch depends on (`if [ ! -d /var/mail ]`),
 * unknown when the package is imported: the linker answers it from the
 * tree the packages ship, and applies the guarded action only when it holds.
 */
export interface Guard {
  /** test(1) operator: -e -f -d -L (-h is -L) -s -x */
  test: '-e' | '-f' | '-d' | '-L' | '-s' | '-x';
  path: string;
  negate: boolean;
}

export interface Scriptlet {
  /** rpm: pre post preun postun pretrans posttrans preuntrans postuntrans verify triggerprein triggerin triggerun triggerpostun filetriggerin …; deb: preinst postinst prerm postrm triggers */
  phase: string;
  interpreter: string;
  body: string;
  /** trigger conditions, for trigger phases */
  triggers?: Dep[];
  actions: Action[];
}

export interface PackageMeta {
  format: PackageFormat;
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  /** source package (.src.rpm) */
  isSource: boolean;
  summary: string;
  description: string;
  license: string;
  url: string;
  vendor: string;
  packager: string;
  group: string;
  buildTime: number | null;
  buildHost: string;
  sourceRpm: string;
  installedSize: number;
  requires: DepEntry[];
  provides: DepEntry[];
  conflicts: DepEntry[];
  obsoletes: DepEntry[];
  recommends: DepEntry[];
  suggests: DepEntry[];
  supplements: DepEntry[];
  enhances: DepEntry[];
  /** deb only; [] for rpm */
  preDepends: DepEntry[];
  breaks: DepEntry[];
  replaces: DepEntry[];
  scriptlets: Scriptlet[];
  /** deb: the debconf answers a fresh noninteractive install gets (template defaults its config script does not set) */
  debconf?: Record<string, string>;
  /** version of weld's scriptlet classifier that produced the scriptlets' actions (absent: 1) */
  classifier?: number;
  files: FileEntry[];
  signatures: Signature[];
  payload: { format: 'cpio' | 'tar'; compressor: string; digest: string; digestAlgo: string; size: number | null };
  /** rpm header format version: 4 or 6 (rpm-6); deb: the debian-binary version */
  formatVersion: string;
}

/** The stable JSON contract of `inspect --json` / `show --files --json`. */
export interface PackageJson extends Omit<PackageMeta, 'files'> {
  files: FileJson[];
}
export type FileJson = Omit<FileEntry, 'pathBytes' | 'xattrs' | 'hardlink' | 'rdevMajor' | 'rdevMinor' | 'uid' | 'gid'>;

/**
 * Where importers put file content. The store implements it; tests can use an
 * in-memory one. Content is streamed: `open()` returns a writer, chunks go in,
 * `close()` returns the BLAKE3 object id once the data is durable-pending.
 */
export interface ContentSink {
  open(): ObjectWriter;
}
export interface ObjectWriter {
  write(chunk: Uint8Array): void | Promise<void>;
  /** finishes the object and returns its BLAKE3 hex id */
  close(): Promise<string>;
  /** drops a half-written object */
  abort(): Promise<void>;
}

/** Limits on hostile input, passed to codecs as arguments. */
export interface Limits {
  /** largest header/metadata blob accepted, bytes */
  maxHeaderBytes: number;
  /** largest number of index entries in one header */
  maxHeaderEntries: number;
  /** largest decompressed payload, bytes, when the package does not declare one */
  maxPayloadBytes: number;
  /** largest ratio decompressed/compressed tolerated past the declared size */
  maxRatio: number;
  maxPathLength: number;
  maxPathDepth: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxHeaderBytes: 256 * 1024 * 1024,
  maxHeaderEntries: 65536,
  maxPayloadBytes: 64 * 1024 * 1024 * 1024,
  maxRatio: 1000,
  maxPathLength: 4096,
  maxPathDepth: 256,
};

/**
 * One node of a resolved tree, as image writers (erofs, tar, dir, FUSE) take it.
 * A tree is an array of nodes sorted by path bytes, parents before children,
 * with '/' first.
 */
export interface TreeNode {
  /** absolute path; '/' for the root */
  path: string;
  pathBytes?: Uint8Array;
  type: FileType;
  /** full st_mode (type bits included) */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** regular files: content length; symlinks: target length; others 0 */
  size: number;
  /** symlink target */
  target?: string;
  rdevMajor?: number;
  rdevMinor?: number;
  /** all xattrs, security.capability included (raw vfs_cap_data bytes) */
  xattrs?: Record<string, Uint8Array>;
  /** content by store object id (regular files) */
  object?: string;
  /** content given inline (files that link-time actions generate) */
  data?: Uint8Array;
  /** nodes with the same non-zero value are one inode (hardlinks) */
  hardlink?: number;
}

/**
 * What an image writer emits: a stream of extents. Object extents are filled
 * from the store by the I/O shell, so writers stay pure and the verity sealer
 * can reuse per-object leaf hashes (objects start on block boundaries).
 */
export type Extent =
  | { kind: 'bytes'; offset: number; data: Uint8Array }
  | { kind: 'object'; offset: number; object: string; size: number }
  | { kind: 'zero'; offset: number; size: number };
