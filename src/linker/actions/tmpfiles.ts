import { field, splitConfigLine } from '../../importer/scriptlets/fields.js';
import { modeOf, realpath, type LinkTree } from '../tree.js';
import type { Owners } from './files.js';

/**
 * What `systemd-tmpfiles --create CONFIG…` does when a package's postinst
 * runs it (debhelper's dh_installtmpfiles snippet), applied to the link tree:
 * the creation lines (d D v q Q f F L C p) and the adjusting ones (z Z e) of
 * the named configs. Lines that only make sense on a running system (boot-only
 * `!`, credentials `^`, specifiers such as %m, runtime mounts, ACLs,
 * attributes, xattrs, devices, writes into existing files) are left to the
 * image's own systemd-tmpfiles at boot and listed.
 */
export interface TmpfilesResult {
  applied: number;
  /** lines left to boot, with why */
  deferred: { config: string; line: string; reason: string }[];
}

/** tmpfs or kernel mounts at run time: their contents are made at boot */
const RUNTIME = /^\/(run|tmp|var\/run|var\/tmp|var\/lock|dev|proc|sys)(\/|$)/;

/** systemd's search path for tmpfiles.d, first match wins (merged /usr: /lib is /usr/lib) */
const SEARCH = ['/etc/tmpfiles.d', '/run/tmpfiles.d', '/usr/local/lib/tmpfiles.d', '/usr/lib/tmpfiles.d', '/lib/tmpfiles.d'];

/** item types that own their path: a second such line for a path is ignored, as systemd-tmpfiles warns "Duplicate line" */
const CREATES = new Set(['f', 'F', 'w', 'd', 'D', 'v', 'q', 'Q', 'p', 'L', 'c', 'b', 'C']);

interface Item {
  config: string;
  line: string;
  type: string;
  mods: string;
  path: string;
  mode?: string;
  user?: string;
  group?: string;
  arg?: string;
}

/** A config named on the command line, as systemd-tmpfiles --root looks it up. */
function findConfig(tree: LinkTree, name: string, text: (p: string) => string | undefined): { path: string; text: string } | null {
  const cands = name.startsWith('/') ? [name] : SEARCH.map((d) => `${d}/${name}`);
  for (const p of cands) {
    // a link to /dev/null masks the config of that name further down the path
    if (tree.get(p)?.target === '/dev/null') return { path: p, text: '' };
    const t = text(p);
    if (t !== undefined) return { path: p, text: t };
  }
  return null;
}

/** the argument: the raw rest of the line after the six fields, unescaped later (not split, so `\\n` survives) */
function argumentOf(line: string): string | undefined {
  const m = /^(?:\S+\s+){6}(.*)$/.exec(line);
  return m && m[1] !== '' ? m[1] : undefined;
}

/** C escapes in an argument, as tmpfiles.d(5) reads them (`\n`, `\t`, `\\`, `\xNN`) */
function cunescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[ntr\\"'abfv0])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' } as Record<string, string>)[e]!;
  });
}

/**
 * A mode field: `:` means only when creating, `~` masks by the bits the
 * existing file has; null when not octal.
 */
function modeField(s: string | undefined): { mode: number; onlyCreate: boolean; masked: boolean } | undefined | null {
  const f = field(s);
  if (f === undefined) return undefined;
  const m = /^([~:]*)([0-7]{1,4})$/.exec(f);
  if (!m) return null;
  return { mode: parseInt(m[2]!, 8), onlyCreate: m[1]!.includes(':'), masked: m[1]!.includes('~') };
}

/** `~MODE` on an existing entry: drop the x, r or w bits the entry has none of, and set[ug]id/sticky on non-directories */
function maskMode(mode: number, existing: number, isDir: boolean): number {
  let m = mode;
  if ((existing & 0o111) === 0) m &= ~0o111;
  if ((existing & 0o444) === 0) m &= ~0o444;
  if ((existing & 0o222) === 0) m &= ~0o222;
  if (!isDir) m &= ~0o7000;
  return m;
}

export function applyTmpfiles(tree: LinkTree, configs: { pkg: string; names: string[] }[], text: (p: string) => string | undefined, owners: Owners): TmpfilesResult {
  const result: TmpfilesResult = { applied: 0, deferred: [] };
  const items: Item[] = [];
  const seen = new Set<string>();
  for (const { names } of configs) {
    for (const name of names) {
      // a second run of a config (two packages' snippets) changes nothing
      if (seen.has(name)) continue;
      seen.add(name);
      const isLine = /\s/.test(name.trim());
      const cfg = isLine ? { path: 'here-document', text: name } : findConfig(tree, name, text);
      if (!cfg) {
        // systemd-tmpfiles fails, and the snippet's `|| true` hides it
        result.deferred.push({ config: name, line: '', reason: 'no such tmpfiles.d config in the image' });
        continue;
      }
      for (const raw of cfg.text.split('\n')) {
        const line = raw.trim();
        if (!line || line.startsWith('#')) continue;
        const f = splitConfigLine(line);
        const m = f && f.length >= 2 ? /^([a-zA-Z])([-+=~^!$]*)$/.exec(f[0]!) : null;
        if (!f || !m) {
          result.deferred.push({ config: cfg.path, line, reason: 'cannot parse the line' });
          continue;
        }
        items.push({ config: cfg.path, line, type: m[1]!, mods: m[2]!, path: f[1]!, mode: f[2], user: f[3], group: f[4], arg: argumentOf(line) });
      }
    }
  }
  const defer = (it: Item, reason: string) => result.deferred.push({ config: it.config, line: it.line, reason });
  const owns = new Set<string>();
  const create: Item[] = [];
  const adjust: Item[] = [];
  for (const it of items) {
    if (it.mods.includes('!')) continue; // boot-only: not run by --create alone
    if (it.mods.includes('^')) { defer(it, 'reads a credential, which exists only on a running system'); continue; }
    if (it.path.includes('%') || /[*?[]/.test(it.path)) { defer(it, 'its path has a specifier or a glob, known only on a running system'); continue; }
    if (RUNTIME.test(it.path)) continue; // made at boot, on a tmpfs
    if (CREATES.has(it.type)) {
      if (owns.has(it.path)) continue; // systemd-tmpfiles: "Duplicate line for path, ignoring"
      owns.add(it.path);
      create.push(it);
    } else if ('zZe'.includes(it.type)) adjust.push(it);
    else if ('xXrR'.includes(it.type)) continue; // cleanup and removal: not asked for by --create
    else defer(it, `${it.type} lines (ACLs, attributes, xattrs) are not kept in the image`);
  }

  const ownerOf = (it: Item, which: 'user' | 'group'): { name: string; onlyCreate: boolean } | undefined | null => {
    const v = field(it[which]);
    if (v === undefined) return undefined;
    const name = v.replace(/^:/, '');
    if (!(which === 'user' ? owners.user(name) : owners.group(name))) return null;
    return { name, onlyCreate: v.startsWith(':') };
  };
  /** sets what the line names on an entry; `made`: the line just created it */
  const own = (it: Item, p: string, made: boolean): boolean => {
    const n = tree.get(p)!;
    const mode = modeField(it.mode);
    const user = ownerOf(it, 'user');
    const group = ownerOf(it, 'group');
    if (mode === null) { defer(it, `mode "${it.mode}" is not octal`); return false; }
    if (user === null || group === null) { defer(it, `owner ${it.user}:${it.group} is not defined in the image`); return false; }
    if (mode && (made || !mode.onlyCreate)) {
      const perm = mode.masked && !made ? maskMode(mode.mode, n.mode, n.type === 'dir') : mode.mode;
      n.mode = modeOf(n.type, perm);
    }
    if (user && (made || !user.onlyCreate)) n.user = user.name;
    if (group && (made || !group.onlyCreate)) n.group = group.name;
    return true;
  };

  for (const it of create.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    // a path under a symlink (/var/run -> /run) is where the link leads
    const dir = realpath((p) => tree.get(p), it.path.slice(0, it.path.lastIndexOf('/')) || '/');
    if (dir === null || RUNTIME.test(dir)) continue;
    const p = `${dir === '/' ? '' : dir}${it.path.slice(it.path.lastIndexOf('/'))}`;
    const cur = tree.get(p);
    const origin = `action:tmpfiles ${it.config}`;
    switch (it.type) {
      case 'd':
      case 'D':
      case 'v':
      case 'q':
      case 'Q': {
        if (cur && cur.type !== 'dir') { defer(it, `${p} exists and is a ${cur.type}`); continue; }
        if (!cur) tree.mkdir(p, origin, 0o755);
        if (own(it, p, !cur)) result.applied++;
        break;
      }
      case 'f':
      case 'F': {
        if (cur && cur.type !== 'file') { defer(it, `${p} exists and is a ${cur.type}`); continue; }
        const truncate = it.type === 'F' || it.mods.includes('+');
        if (!cur || truncate) {
          const body = field(it.arg) === undefined ? '' : it.mods.includes('~') ? Buffer.from(it.arg!, 'base64').toString('latin1') : cunescape(it.arg!);
          tree.writeFile(p, Buffer.from(body, 'latin1'), origin, 0o644, cur?.user ?? 'root', cur?.group ?? 'root');
          if (cur) tree.get(p)!.mode = cur.mode;
        }
        if (own(it, p, !cur)) result.applied++;
        break;
      }
      case 'L': {
        const target = field(it.arg) ?? `/usr/share/factory${it.path}`;
        if (cur && !it.mods.includes('+')) continue; // an existing path stays
        if (cur?.type === 'dir') { defer(it, `${p} is a directory`); continue; }
        tree.symlink(p, target, origin);
        result.applied++;
        break;
      }
      case 'C': {
        const from = field(it.arg) ?? `/usr/share/factory${it.path}`;
        const src = tree.get(from);
        if (cur) continue;
        if (!src) { defer(it, `copies ${from}, which the image does not have`); continue; }
        if (src.type !== 'file') { defer(it, `copies ${from}, a ${src.type}: only files are copied at link time`); continue; }
        tree.set({ ...src, path: p, origin });
        if (own(it, p, true)) result.applied++;
        break;
      }
      case 'p': {
        if (cur) continue;
        tree.set({ path: p, type: 'fifo', mode: modeOf('fifo', 0o644), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: 0, origin });
        if (own(it, p, true)) result.applied++;
        break;
      }
      default:
        defer(it, `${it.type} lines (writes into files, devices) are left to boot`);
    }
  }
  for (const it of adjust) {
    const base = tree.get(it.path);
    if (!base) continue; // z/Z/e touch only what exists
    // e adjusts the directory itself, like z (its age-based cleanup is not asked for)
    const paths = it.type !== 'Z' ? [it.path] : [...tree.nodes.keys()].filter((k) => k === it.path || k.startsWith(it.path + '/')).sort();
    let ok = true;
    for (const p of paths) if (tree.get(p)!.type !== 'symlink') ok = own(it, p, false) && ok;
    if (ok) result.applied++;
  }
  return result;
}
