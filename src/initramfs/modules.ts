/**
 * Which kernel modules an initramfs carries, and in what order it loads them:
 * the closure of the wanted modules over `depends=` (hard) and `softdep=`
 * (best effort, as modprobe treats them), dependencies first. Built-in modules
 * (modules.builtin) need no file. Pure: module metadata comes from callbacks,
 * which may be async (a compressed module is unpacked to read its modinfo).
 */
import { notFound } from '../errors.js';
import { moduleDepends, moduleSoftdeps, normalizeModuleName, type Modinfo } from './modinfo.js';

export interface ModuleFile {
  /** normalised module name (dm_mod) */
  name: string;
  /** path in the kernel package (/lib/modules/V/kernel/drivers/md/dm-mod.ko) */
  path: string;
  info: Modinfo;
}

export interface ModuleSources {
  /** the module file for a normalised name, or null */
  byName(name: string): ModuleFile | null | Promise<ModuleFile | null>;
  /** module names declaring `alias=NAME` (softdeps may name an alias, e.g. crc32c) */
  byAlias(alias: string): string[] | Promise<string[]>;
  /** normalised names of modules built into the kernel */
  builtin: Set<string>;
}

export interface ModulePlanEntry {
  name: string;
  path: string;
  /** pulled in only by a softdep: a load failure is not fatal */
  optional: boolean;
  /** why it is here: "wanted" or "dep of X" / "softdep of X" */
  reason: string;
}

export interface ModulePlan {
  /** load order: every module after its dependencies */
  load: ModulePlanEntry[];
  /** wanted or depended-on names that are built into the kernel */
  builtin: string[];
  /** softdeps with no module (modprobe ignores them too) */
  unresolvedSoftdeps: string[];
}

/** Prefers the portable implementation when several modules offer an alias (crc32c_generic over crc32c_intel). */
function pickAlias(names: string[]): string | null {
  if (!names.length) return null;
  const sorted = [...names].sort();
  return sorted.find((n) => n.endsWith('_generic')) ?? sorted[0]!;
}

export async function planModules(wanted: string[], src: ModuleSources, kernel: string): Promise<ModulePlan> {
  const load: ModulePlanEntry[] = [];
  const builtin = new Set<string>();
  const unresolved = new Set<string>();
  const done = new Set<string>();
  const active = new Set<string>();

  const visit = async (raw: string, optional: boolean, reason: string, chain: string[]): Promise<void> => {
    let name = normalizeModuleName(raw);
    if (src.builtin.has(name)) return void builtin.add(name);
    let file = await src.byName(name);
    if (!file && optional) {
      const alias = pickAlias(await src.byAlias(raw));
      if (alias) {
        name = alias;
        if (src.builtin.has(name)) return void builtin.add(name);
        file = await src.byName(name);
      }
    }
    if (done.has(name) || active.has(name)) return; // a softdep loop: the first visit wins
    if (!file) {
      if (optional) return void unresolved.add(raw);
      const via = chain.length ? ` (needed by ${chain.join(' → ')})` : '';
      throw notFound(`Kernel ${kernel} has no module ${name}${via}: neither a .ko file nor built in`, { module: name, kernel });
    }
    active.add(name);
    const soft = moduleSoftdeps(file.info);
    for (const d of soft.pre) await visit(d, true, `softdep of ${name}`, [...chain, name]);
    for (const d of moduleDepends(file.info)) await visit(d, optional, `dep of ${name}`, [...chain, name]);
    active.delete(name);
    done.add(name);
    load.push({ name, path: file.path, optional, reason });
    for (const d of soft.post) await visit(d, true, `softdep of ${name}`, [...chain, name]);
  };
  for (const w of wanted) await visit(w, false, 'wanted', []);
  return { load, builtin: [...builtin].sort(), unresolvedSoftdeps: [...unresolved].sort() };
}
