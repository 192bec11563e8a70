import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeldError, usageError } from '../errors.js';

export interface VariantUser {
  name: string;
  uid?: number;
  group?: string;
  groups?: string[];
  home?: string;
  shell?: string;
  comment?: string;
}
export interface VariantGroup {
  name: string;
  gid?: number;
  members?: string[];
}
export interface VariantFile {
  content: string;
  mode: number;
  user: string;
  group: string;
}

export interface Layout {
  filesystem: 'erofs';
  partitions: 'ddi' | 'none';
  verity: boolean;
  /** fixed image size in bytes, or null for "just big enough" */
  size: number | null;
  /** paths mounted as tmpfs at boot (Bottlerocket keeps /etc as tmpfs) */
  writable: string[];
  /** dm-verity optional args, e.g. restart_on_corruption */
  verityOptions: string[];
}

export interface Variant {
  name: string;
  description: string;
  /** where it was read from */
  source: string;
  format: 'rpm' | 'deb';
  arch: string;
  mergedUsr: boolean;
  strict: boolean;
  packages: string[];
  exclude: string[];
  /** virtual name → preferred provider */
  prefer: Record<string, string>;
  /** path → package that wins a file conflict */
  winners: Record<string, string>;
  /** packages whose declared Conflicts/Breaks/Obsoletes the resolver does not enforce */
  ignoreConflicts: string[];
  users: VariantUser[];
  groups: VariantGroup[];
  files: Record<string, VariantFile>;
  /** path → symlink target, created after the actions (e.g. busybox applets) */
  symlinks: Record<string, string>;
  osRelease: Record<string, string>;
  /** /etc/localtime and /etc/timezone, when tzdata is in the image; null: tzdata's own default (Etc/UTC) */
  timezone: string | null;
  kernel: string | null;
  layout: Layout;
  /** units enabled and disabled after the packages' own enablement ([services]); each must be shipped by a package */
  services: { enable: string[]; disable: string[] };
  notes: string;
}

const PROJECT_VARIANTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../variants');

/** A variant name (variants/NAME.toml in the project) or a path to a TOML file. */
export function variantPath(spec: string): string {
  if (spec.includes('/') || spec.endsWith('.toml')) return path.resolve(spec);
  return path.join(PROJECT_VARIANTS, `${spec}.toml`);
}

export async function loadVariant(spec: string): Promise<Variant> {
  const file = variantPath(spec);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    const known = fs.existsSync(PROJECT_VARIANTS) ? fs.readdirSync(PROJECT_VARIANTS).filter((f) => f.endsWith('.toml')).map((f) => f.slice(0, -5)) : [];
    throw new WeldError('notfound', 'E_NO_VARIANT', `No variant ${spec} (looked for ${file}); known variants: ${known.join(', ') || 'none'}`, { spec });
  }
  const { parse } = await import('smol-toml');
  let raw: Record<string, unknown>;
  try {
    raw = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new WeldError('format', 'E_VARIANT', `Cannot read variant ${file}: ${(e as Error).message.split('\n')[0]}`, { file });
  }
  return parseVariant(raw, file);
}

type Raw = Record<string, unknown>;

export function parseVariant(raw: Raw, file: string): Variant {
  const bad = (field: string, why: string) => new WeldError('format', 'E_VARIANT', `Invalid variant ${file}: ${field} ${why}`, { file, field });
  const str = (v: unknown, field: string, dflt?: string): string => {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string') throw bad(field, 'must be a string');
    return v;
  };
  const strs = (v: unknown, field: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(field, 'must be a list of strings');
    return v as string[];
  };
  const bool = (v: unknown, field: string, dflt: boolean): boolean => {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw bad(field, 'must be true or false');
    return v;
  };
  const table = (v: unknown, field: string): Raw => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'must be a table');
    return v as Raw;
  };
  const known = new Set(['name', 'description', 'format', 'arch', 'merged-usr', 'strict', 'packages', 'exclude', 'prefer', 'conflicts', 'ignore-conflicts', 'users', 'groups', 'files', 'symlinks', 'os-release', 'timezone', 'kernel', 'layout', 'services', 'notes']);
  for (const k of Object.keys(raw)) if (!known.has(k)) throw bad(k, `is not a variant key (known: ${[...known].join(', ')})`);
  const format = str(raw.format, 'format');
  if (format !== 'rpm' && format !== 'deb') throw bad('format', 'must be "rpm" or "deb"');
  const packages = strs(raw.packages, 'packages');
  if (!packages.length) throw bad('packages', 'must name at least one package');
  const users = (Array.isArray(raw.users) ? raw.users : raw.users === undefined ? [] : null) as Raw[] | null;
  if (!users) throw bad('users', 'must be an array of tables ([[users]])');
  const groups = (Array.isArray(raw.groups) ? raw.groups : raw.groups === undefined ? [] : null) as Raw[] | null;
  if (!groups) throw bad('groups', 'must be an array of tables ([[groups]])');
  const files: Record<string, VariantFile> = {};
  for (const [p, v] of Object.entries(table(raw.files, 'files'))) {
    if (!p.startsWith('/')) throw bad(`files."${p}"`, 'must be an absolute path');
    if (typeof v === 'string') files[p] = { content: v, mode: 0o644, user: 'root', group: 'root' };
    else {
      const t = table(v, `files."${p}"`);
      const mode = t.mode === undefined ? 0o644 : typeof t.mode === 'string' ? parseInt(t.mode, 8) : (t.mode as number);
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw bad(`files."${p}".mode`, 'must be an octal string like "0644"');
      files[p] = { content: str(t.content, `files."${p}".content`), mode, user: str(t.user, 'user', 'root'), group: str(t.group, 'group', 'root') };
    }
  }
  const symlinks: Record<string, string> = {};
  for (const [p, v] of Object.entries(table(raw.symlinks, 'symlinks'))) {
    if (!p.startsWith('/')) throw bad(`symlinks."${p}"`, 'must be an absolute path');
    symlinks[p] = str(v, `symlinks."${p}"`);
  }
  const osRelease: Record<string, string> = {};
  for (const [k, v] of Object.entries(table(raw['os-release'], 'os-release'))) osRelease[k] = str(v, `os-release.${k}`);
  const lay = table(raw.layout, 'layout');
  const verity = bool(lay.verity, 'layout.verity', true);
  const partitions = str(lay.partitions, 'layout.partitions', verity ? 'ddi' : 'none');
  if (partitions !== 'ddi' && partitions !== 'none') throw bad('layout.partitions', 'must be "ddi" or "none"');
  const fsName = str(lay.filesystem, 'layout.filesystem', 'erofs');
  if (fsName !== 'erofs') throw bad('layout.filesystem', 'must be "erofs" (the only filesystem weld writes)');
  let size: number | null = null;
  if (lay.size !== undefined && lay.size !== 'auto') {
    const m = /^(\d+)\s*([KMG]i?B?)?$/i.exec(String(lay.size));
    if (!m) throw bad('layout.size', 'must be "auto" or a size like "512MiB"');
    const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').charAt(0).toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
    size = Number(m[1]) * mult;
  }
  const verityOptions = strs(lay['verity-options'], 'layout.verity-options');
  for (const o of verityOptions) if (!['restart_on_corruption', 'panic_on_corruption', 'ignore_corruption', 'ignore_zero_blocks', 'check_at_most_once'].includes(o)) throw bad('layout.verity-options', `has unknown option ${o}`);
  const timezoneOf = (v: unknown): string | null => {
    if (v === undefined) return null;
    const tz = str(v, 'timezone');
    if (!/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(tz)) throw bad('timezone', `must be a zoneinfo name like "Europe/Paris", not ${JSON.stringify(tz)}`);
    return tz;
  };
  const svc = table(raw.services, 'services');
  for (const k of Object.keys(svc)) if (k !== 'enable' && k !== 'disable') throw bad(`services.${k}`, 'is not a services key (known: enable, disable)');
  const unitsOf = (k: 'enable' | 'disable') => {
    const us = strs(svc[k], `services.${k}`);
    for (const u of us) if (!/^[A-Za-z0-9:_.\\@-]+$/.test(u) || u.startsWith('.')) throw bad(`services.${k}`, `has ${JSON.stringify(u)}, which is not a unit name`);
    return us;
  };
  const services = { enable: unitsOf('enable'), disable: unitsOf('disable') };
  for (const u of services.enable) if (services.disable.includes(u)) throw bad('services', `both enables and disables ${u}`);
  const prefer: Record<string, string> = {};
  for (const [k, v] of Object.entries(table(raw.prefer, 'prefer'))) prefer[k] = str(v, `prefer.${k}`);
  const winners: Record<string, string> = {};
  for (const [k, v] of Object.entries(table(raw.conflicts, 'conflicts'))) winners[k] = str(v, `conflicts."${k}"`);
  return {
    name: str(raw.name, 'name', path.basename(file, '.toml')),
    description: str(raw.description, 'description', ''),
    source: file,
    format,
    arch: str(raw.arch, 'arch', format === 'deb' ? 'amd64' : 'x86_64'),
    mergedUsr: bool(raw['merged-usr'], 'merged-usr', format === 'deb'),
    strict: bool(raw.strict, 'strict', false),
    packages,
    exclude: strs(raw.exclude, 'exclude'),
    prefer,
    winners,
    ignoreConflicts: strs(raw['ignore-conflicts'], 'ignore-conflicts'),
    timezone: timezoneOf(raw.timezone),
    users: users.map((u, i) => ({
      name: str(u.name, `users[${i}].name`),
      uid: u.uid as number | undefined,
      group: u.group as string | undefined,
      groups: u.groups as string[] | undefined,
      home: u.home as string | undefined,
      shell: u.shell as string | undefined,
      comment: u.comment as string | undefined,
    })),
    groups: groups.map((g, i) => ({ name: str(g.name, `groups[${i}].name`), gid: g.gid as number | undefined, members: g.members as string[] | undefined })),
    files,
    symlinks,
    osRelease,
    kernel: raw.kernel === undefined ? null : str(raw.kernel, 'kernel'),
    layout: { filesystem: 'erofs', partitions, verity, size, writable: strs(lay.writable, 'layout.writable'), verityOptions },
    services,
    notes: str(raw.notes, 'notes', ''),
  };
}

/** A default variant for `weld run --pkg` without --variant. */
export function adhocVariant(packages: string[], format: 'rpm' | 'deb'): Variant {
  if (!packages.length) throw usageError('--pkg needs at least one package name');
  return parseVariant({ name: 'adhoc', format, packages, layout: { verity: false } }, '(--pkg)');
}
