import type { Action, Guard, LikeShipped, SedEdit } from '../../model.js';
import { modeOf, realpath, type LinkNode, type LinkTree } from '../tree.js';

export type FileOp = Extract<Action, { kind: 'symlink' | 'copy' | 'file' | 'write' | 'rename' | 'rmdir' | 'remove' }>;
export const FILE_OP_KINDS: readonly FileOp['kind'][] = ['symlink', 'copy', 'file', 'write', 'rename', 'rmdir', 'remove'];

/**
 * sed's `s` commands, applied line by line in script order (the classifier took only
 * expressions whose JavaScript form matches exactly what sed's does). Bytes are read as
 * latin1, one character each, as sed does in the C locale; a last line without a newline keeps none.
 */
/** one `s` on one line; with g, like GNU sed, an empty match right where the previous match ended is not taken */
function substitute(line: string, re: RegExp, global: boolean, repl: readonly (string | number)[]): string {
  let out = '';
  let pos = 0;
  let lastEnd = -1;
  re.lastIndex = 0;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const empty = m[0] === '';
    if (empty && m.index === lastEnd) {
      if (++re.lastIndex > line.length) break;
      continue;
    }
    const groups = m;
    out += line.slice(pos, m.index) + repl.map((p) => (typeof p === 'number' ? (groups[p] ?? '') : p)).join('');
    pos = lastEnd = m.index + m[0].length;
    if (!global) break;
    if (empty && ++re.lastIndex > line.length) break;
  }
  return out + line.slice(pos);
}

export function applySedSubsts(data: Uint8Array, substs: readonly SedEdit[]): Uint8Array {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (!text || !substs.length) return data;
  const endsNl = text.endsWith('\n');
  const res = substs.map((x) => ({ re: new RegExp(x.re, 'g'), edit: x }));
  const lines = (endsNl ? text.slice(0, -1) : text).split('\n');
  let out = '';
  lines.forEach((line, i) => {
    for (const { re, edit } of res) {
      if ('delete' in edit) {
        re.lastIndex = 0;
        // `d` drops the line and starts the next cycle: nothing of it is printed
        if (re.test(line)) return;
      } else line = substitute(line, re, edit.global, edit.repl);
    }
    // each printed line keeps the newline it was read with (only a last one may have none)
    out += line + (i < lines.length - 1 || endsNl ? '\n' : '');
  });
  return Buffer.from(out, 'latin1');
}

/**
 * An action's `like` fields answered from the tree as the packages ship it: the mode, owner or group
 * of the path each names, its links followed (stat -L). Null when a named path is missing: stat
 * prints nothing there and the command it feeds fails.
 */
export function resolveLike<A extends { mode?: number; user?: string; group?: string; like?: LikeShipped }>(tree: LinkTree, a: A, resolve: (p: string) => string): A | null {
  if (!a.like) return a;
  const out: A = { ...a };
  delete out.like;
  for (const [field, p] of Object.entries(a.like) as [keyof LikeShipped, string][]) {
    const real = realpath((q) => tree.get(q), resolve(p));
    const n = real === null ? undefined : tree.get(real);
    if (!n) return null;
    if (field === 'mode') out.mode = n.mode & 0o7777;
    else if (field === 'user') out.user = n.user;
    else out.group = n.group;
  }
  return out;
}

export interface FileOpsResult {
  applied: number;
  /** operations inside a script branch whose file test the shipped tree answers "no" */
  notTaken: number;
  /**
   * operations whose path the tree already has: scripts guard these with
   * `[ ! -e … ]` and the like, which only the finished tree can answer, so the
   * packaged file stays
   */
  unchanged: { package: string; kind: string; path: string }[];
  /** operations the script would have failed at, or done differently than the model: listed, not guessed */
  skipped: { package: string; phase: string; kind: string; path: string; reason: string }[];
}

/** install-time phases in the order a package manager runs them */
export const PHASE_RANK: Record<string, number> = { pretrans: 0, preinst: 1, pre: 1, triggerprein: 1, postinst: 2, post: 2, posttrans: 3, triggerin: 4, filetriggerin: 4, transfiletriggerin: 5 };

/** umask 022, as package managers run scriptlets */
const UMASK = 0o022;

const parentOf = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

/** The node p leads to, links followed; null when dangling or looping. */
function follow(get: (p: string) => LinkNode | undefined, p: string): LinkNode | null {
  const r = realpath(get, p);
  return r === null ? null : (get(r) ?? null);
}

/**
 * Answers scriptlet guards (`[ ! -d /var/mail ]`) from the tree as the
 * packages ship it, before any action: what the scripts of a fresh install
 * would find, whatever order the actions are applied in.
 */
/** Which accounts a step may name. */
export interface Owners {
  user: (name: string) => boolean;
  group: (name: string) => boolean;
}

/** Why a chown to these names would fail (an account no package defines), or null. */
export function missingOwner(a: { user?: string; group?: string }, owners: Owners): string | null {
  if (a.user !== undefined && !owners.user(a.user)) return `user ${a.user} is not defined`;
  if (a.group !== undefined && !owners.group(a.group)) return `group ${a.group} is not defined`;
  return null;
}

export function guardsFrom(tree: LinkTree): (when: readonly Guard[] | undefined) => boolean {
  const shipped = new Map(tree.nodes);
  const get = (p: string) => shipped.get(p);
  // test(1) follows links in every component but, for -L, the last (/bin/sh under a /bin -> usr/bin link)
  const last = (p: string): LinkNode | null => {
    const dir = realpath(get, parentOf(p));
    const base = p.slice(p.lastIndexOf('/') + 1);
    return dir === null ? null : (get(dir === '/' ? `/${base}` : `${dir}/${base}`) ?? null);
  };
  const holds = (g: Guard): boolean => {
    const n = g.test === '-L' ? (last(g.path)?.type === 'symlink' ? last(g.path) : null) : follow(get, g.path);
    let v: boolean;
    switch (g.test) {
      case '-L':
      case '-e':
        v = n !== null;
        break;
      case '-f':
        v = n?.type === 'file';
        break;
      case '-d':
        v = n?.type === 'dir';
        break;
      case '-s':
        v = n !== null && n.size > 0;
        break;
      case '-x':
        v = n !== null && (n.mode & 0o111) !== 0;
        break;
    }
    return g.negate ? !v : v;
  };
  return (when) => !when || when.every(holds);
}

/**
 * Applies the file operations scriptlets asked for (ln -s, cp, `: > f` with
 * chown/chmod, rmdir) in the order the package manager would run them:
 * package by package, phase by phase, line by line; only from scripts weld
 * understood whole. Where the real command
 * would fail or do something else (a missing parent, a non-empty directory,
 * a link onto an existing directory), nothing is guessed: it is skipped and listed.
 */
export function applyFileOps(
  tree: LinkTree,
  ops: { pkg: string; phase: string; a: FileOp }[],
  resolve: (p: string) => string,
  owners: Owners,
  /** `package\0phase` of scriptlets with steps weld could not model */
  partial: Set<string>,
  taken: (when: readonly Guard[] | undefined) => boolean = () => true,
  /** the content of a regular file in the tree as it is now */
  read: (p: string) => Uint8Array | undefined = () => undefined,
): FileOpsResult {
  const res: FileOpsResult = { applied: 0, notTaken: 0, unchanged: [], skipped: [] };
  const order = ops.map((o, i) => ({ ...o, i })).sort((x, y) => (x.pkg < y.pkg ? -1 : x.pkg > y.pkg ? 1 : (PHASE_RANK[x.phase] ?? 9) - (PHASE_RANK[y.phase] ?? 9) || x.i - y.i));
  for (const { pkg, phase, a } of order) {
    const path = resolve(a.kind === 'copy' || a.kind === 'rename' ? a.to : a.path);
    const skip = (reason: string) => void res.skipped.push({ package: pkg, phase, kind: a.kind, path, reason });
    const keep = () => void res.unchanged.push({ package: pkg, kind: a.kind, path });
    const origin = `action:${a.kind}`;
    if (!taken(a.when)) {
      res.notTaken++;
      continue;
    }
    if (partial.has(`${pkg}\0${phase}`)) {
      // e.g. dash's `ln -sf dash /bin/sh.tmp` without the `mv` that follows it: half a script is worse than none
      skip('the same script has steps weld cannot model, so none of its file operations are applied');
      continue;
    }
    const cur = tree.get(path);
    const parent = tree.get(parentOf(path));
    if (a.kind === 'remove') {
      // what rm -f would find: nothing (a fresh image has no leftovers of older versions), or a packaged file
      if (!cur) keep();
      // a file an earlier script step made (the kernel's preinst touches .fresh-install, its postinst removes it)
      else if (cur.type === 'file' && cur.origin.startsWith('action:')) {
        tree.delete(path);
        res.applied++;
      } else skip(`rm would remove the ${cur.type} ${cur.origin} ships, which weld does not model`);
      continue;
    }
    if (a.kind === 'rename') {
      // mv FROM TO: the script made FROM (X.dpkg-new, then mv X.dpkg-new X); rename(2) replaces a file or link at TO
      const from = resolve(a.from);
      const src = tree.get(from);
      if (!src) {
        skip(`${a.from} is missing (mv would fail)`);
        continue;
      }
      if (cur?.type === 'dir') {
        skip('a directory is there (mv would move into it)');
        continue;
      }
      if (src.type === 'dir') {
        skip(`${a.from} is a directory, which weld does not move`);
        continue;
      }
      if (parent?.type !== 'dir') {
        skip(`its parent ${parentOf(path)} is ${parent ? `a ${parent.type}` : 'missing'}`);
        continue;
      }
      tree.delete(from);
      tree.set({ ...src, path });
      res.applied++;
      continue;
    }
    if (a.kind !== 'rmdir' && parent?.type !== 'dir') {
      skip(`its parent ${parentOf(path)} is ${parent ? `a ${parent.type}` : 'missing'}`);
      continue;
    }
    switch (a.kind) {
      case 'symlink':
        if (cur && !a.force) {
          keep();
          continue;
        }
        if (cur?.type === 'dir') {
          skip('a directory is there (ln -f would make the link inside it)');
          continue;
        }
        tree.symlink(path, a.target, origin);
        break;
      case 'copy': {
        const from = follow((p) => tree.get(p), resolve(a.from));
        if (!from || from.type !== 'file') {
          skip(`${a.from} is ${from ? `a ${from.type}` : 'missing or a dangling link'}, not a regular file`);
          continue;
        }
        if (cur) {
          // scripts copy defaults only where nothing is (install_from_default): a packaged file wins
          keep();
          continue;
        }
        const n: LinkNode = {
          path,
          type: 'file',
          mode: modeOf('file', a.preserve ? from.mode & 0o7777 : from.mode & 0o777 & ~UMASK),
          uid: a.preserve ? from.uid : 0,
          gid: a.preserve ? from.gid : 0,
          user: a.preserve ? from.user : 'root',
          group: a.preserve ? from.group : 'root',
          mtime: tree.mtime,
          size: from.size,
          origin,
        };
        if (a.edits?.length) {
          const data = read(resolve(a.from));
          if (!data) {
            skip(`the content of ${a.from} cannot be read`);
            continue;
          }
          n.data = applySedSubsts(data, a.edits);
          n.size = n.data.length;
        } else {
          if (from.object) n.object = from.object;
          if (from.data) n.data = from.data;
        }
        tree.set(n);
        break;
      }
      case 'write': {
        if (cur && cur.type !== 'file') {
          skip(`a ${cur.type} is there`);
          continue;
        }
        const chunks: Uint8Array[] = [];
        if (a.append && cur) {
          const old = read(path);
          if (!old) {
            skip(`the content of ${path} cannot be read`);
            continue;
          }
          chunks.push(old);
        }
        let missing: string | null = null;
        for (const part of a.parts) {
          if ('text' in part) chunks.push(Buffer.from(part.text, 'utf8'));
          else {
            const f = follow((p) => tree.get(p), resolve(part.file));
            const data = f?.type === 'file' ? read(f.path) : undefined;
            if (!data) {
              missing = part.file;
              break;
            }
            chunks.push(part.edits?.length ? applySedSubsts(data, part.edits) : data);
          }
        }
        if (missing !== null) {
          skip(`${missing} is missing or not a readable regular file (cat would fail)`);
          continue;
        }
        const data = Buffer.concat(chunks);
        // `>` and `>>` keep an existing file's mode and owner; a new one gets 0666 less the umask
        const n: LinkNode = cur
          ? { ...cur, data, size: data.length, origin }
          : { path, type: 'file', mode: modeOf('file', a.createMode ?? 0o666 & ~UMASK), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: data.length, data, origin };
        delete n.object;
        tree.set(n);
        break;
      }
      case 'file': {
        if (cur && cur.type !== 'file') {
          skip(`a ${cur.type} is there`);
          continue;
        }
        // chown to an account no package defines would fail the script
        const undefinedOwner = missingOwner(a, owners);
        if (undefinedOwner) {
          skip(undefinedOwner);
          continue;
        }
        // an existing file keeps its content (scripts guard `: > f` with `[ ! -f f ]`); owner and mode still apply
        const n: LinkNode = cur
          ? { ...cur }
          : { path, type: 'file', mode: modeOf('file', a.createMode ?? 0o666 & ~UMASK), uid: 0, gid: 0, user: 'root', group: 'root', mtime: tree.mtime, size: 0, data: new Uint8Array(0), origin };
        if (cur && a.mode === undefined && a.user === undefined && a.group === undefined) {
          keep();
          continue;
        }
        if (a.mode !== undefined) n.mode = modeOf('file', a.mode);
        if (a.user !== undefined) n.user = a.user;
        if (a.group !== undefined) n.group = a.group;
        tree.set(n);
        break;
      }
      case 'rmdir': {
        if (!cur || cur.type !== 'dir') {
          skip(cur ? `a ${cur.type} is there, not a directory` : 'no directory is there');
          continue;
        }
        const prefix = path === '/' ? '/' : path + '/';
        let empty = true;
        for (const k of tree.nodes.keys())
          if (k.startsWith(prefix)) {
            empty = false;
            break;
          }
        if (!empty) {
          skip('the directory is not empty (rmdir would fail)');
          continue;
        }
        tree.delete(path);
        break;
      }
    }
    res.applied++;
  }
  return res;
}
