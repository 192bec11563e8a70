import { WeldError } from '../../errors.js';
import { realpath, type LinkTree } from '../tree.js';

/**
 * Unit lookup as deb-systemd-helper's find_unit does it (/etc, then /lib, then
 * /usr/lib); systemctl --root on Debian (rootprefix /) searches the same
 * order and drops /usr/lib when /lib is the same directory. A link's target
 * names the directory the unit was found in, so on merged /usr it is /lib/….
 */
const UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
const USER_UNIT_DIRS = ['/etc/systemd/user', '/lib/systemd/user', '/usr/lib/systemd/user'];
const UNIT_SUFFIX = /\.(service|socket|timer|target|path|mount|automount|swap|slice|scope|device)$/;

/** [Install] keys, values split on blanks with quotes stripped, as deb-systemd-helper reads them */
function parseInstall(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let inInstall = false;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('[')) {
      inInstall = l === '[Install]';
      continue;
    }
    if (!inInstall || !l || l.startsWith('#') || l.startsWith(';')) continue;
    const eq = l.indexOf('=');
    if (eq < 0) continue;
    const k = l.slice(0, eq).trim();
    const vals = l.slice(eq + 1).trim().split(/\s+/).filter(Boolean).map((v) => v.replace(/^(["'])(.*)\1$/, '$2'));
    out[k] = [...(out[k] ?? []), ...vals];
  }
  return out;
}

/** Preset policy: the first matching line across *.preset files (sorted by name) wins; default enable. */
function presetPolicy(tree: LinkTree, read: (p: string) => string | undefined, user: boolean): (unit: string) => boolean {
  const rules: { enable: boolean; re: RegExp }[] = [];
  const files: string[] = [];
  const kind = user ? 'user' : 'system';
  for (const d of [`/etc/systemd/${kind}-preset`, `/lib/systemd/${kind}-preset`, `/usr/lib/systemd/${kind}-preset`]) {
    for (const p of tree.nodes.keys()) if (p.startsWith(d + '/') && p.endsWith('.preset')) files.push(p);
  }
  // a file in an earlier directory masks the one of the same name in a later one
  const byName = new Map<string, string>();
  for (const f of files) if (!byName.has(f.split('/').pop()!)) byName.set(f.split('/').pop()!, f);
  for (const name of [...byName.keys()].sort()) {
    for (const l of (read(byName.get(name)!) ?? '').split('\n')) {
      const m = /^\s*(enable|disable)\s+(\S+)/.exec(l);
      if (m) rules.push({ enable: m[1] === 'enable', re: new RegExp('^' + m[2]!.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$') });
    }
  }
  return (unit) => rules.find((r) => r.re.test(unit))?.enable ?? true;
}

export interface ServiceResult {
  enabled: string[];
  missing: string[];
  disabled: string[];
}

/**
 * systemctl enable/preset and deb-systemd-helper enable at link time:
 * [Install] WantedBy/RequiredBy/Alias/Also become symlinks, as the real tools
 * make them on a fresh install. `preset` is what deb-systemd-helper enable
 * and rpm's %systemd_post ask for: with systemctl in the image it runs
 * `systemctl preset --preset-mode=enable-only` (the preset files decide, and
 * an alias name is skipped); without, deb-systemd-helper links the unit itself.
 */
export function applyServices(tree: LinkTree, requests: { op: string; units: string[]; user?: boolean }[], read: (p: string) => string | undefined): ServiceResult {
  const res: ServiceResult = { enabled: [], missing: [], disabled: [] };
  const presets = { system: presetPolicy(tree, read, false), user: presetPolicy(tree, read, true) };
  const get = (p: string) => {
    const r = realpath((x) => tree.get(x), p);
    return r === null ? undefined : tree.get(r);
  };
  const systemctl = ['/bin/systemctl', '/usr/bin/systemctl'].some((p) => get(p)?.type === 'file');
  const done = new Set<string>();

  /** the unit's path as found (a shipped alias symlink stays as found), or null */
  const find = (file: string, user: boolean) => {
    for (const d of user ? USER_UNIT_DIRS : UNIT_DIRS) if (get(`${d}/${file}`)?.type === 'file') return `${d}/${file}`;
    return null;
  };
  const enable = (unit: string, user: boolean, viaPreset: boolean): void => {
    const key = (user ? 'user:' : '') + unit;
    if (done.has(key)) return;
    done.add(key);
    const etc = user ? '/etc/systemd/user' : '/etc/systemd/system';
    const at = /^([^@]+@)([^.]*)(\.\w+)$/.exec(unit);
    const file = at && at[2] ? at[1]! + at[3] : unit;
    const masked = (user ? USER_UNIT_DIRS : UNIT_DIRS).map((d) => tree.get(`${d}/${file}`)).find((n) => n?.type === 'symlink' && n.target === '/dev/null');
    if (masked) return void res.disabled.push(`${unit} (masked)`);
    const path = find(file, user);
    if (!path) return void res.missing.push(unit);
    // an alias shipped as a symlink (udev.service -> systemd-udevd.service): systemctl enable follows it
    // to the unit it names, systemctl preset passes over it, deb-systemd-helper links it as found
    const node = tree.get(realpath((x) => tree.get(x), path.slice(0, path.lastIndexOf('/')))! + '/' + file);
    const real = node?.type === 'symlink' ? node.target!.split('/').pop()! : file;
    if (systemctl && real !== file) {
      if (viaPreset) return void res.disabled.push(`${unit} (an alias of ${real})`);
      return enable(at && at[2] ? real.replace(/@/, `@${at[2]}`) : real, user, viaPreset);
    }
    if (viaPreset && systemctl && !(user ? presets.user : presets.system)(unit)) return void res.disabled.push(`${unit} (preset)`);
    const inst = parseInstall(read(realpath((x) => tree.get(x), path)!) ?? '');
    let instance = at?.[2] ?? '';
    if (at && !instance) instance = inst.DefaultInstance?.[0] ?? '';
    const name = at && instance ? `${at[1]}${instance}${at[3]}` : unit;
    const wanted = [...(inst.WantedBy ?? []).map((t) => `${t}.wants`), ...(inst.RequiredBy ?? []).map((t) => `${t}.requires`)];
    if (at && !instance && wanted.length) res.missing.push(`${unit} (template without instance)`);
    else {
      for (const w of wanted.sort()) {
        tree.mkdir(`${etc}/${w}`, 'action:services');
        tree.symlink(`${etc}/${w}/${name}`, path, 'action:services');
      }
    }
    for (const a of inst.Alias ?? []) if (a !== file) tree.symlink(`${etc}/${a}`, path, 'action:services');
    if (wanted.length || inst.Alias?.length) res.enabled.push(user ? `${name} (user)` : name);
    // Also= units come along, whatever their own preset says
    for (const also of inst.Also ?? []) if (also !== file) enable(also, user, false);
  };
  /**
   * systemctl disable (and deb-systemd-helper disable, update-rc.d disable through it): the
   * links in /etc naming the unit's file go, with those of its Also= units
   */
  const disable = (unit: string, user: boolean, seen = new Set<string>()): void => {
    if (seen.has(unit)) return;
    seen.add(unit);
    const etc = user ? '/etc/systemd/user/' : '/etc/systemd/system/';
    const at = /^([^@]+@)([^.]*)(\.\w+)$/.exec(unit);
    const file = at && at[2] ? at[1]! + at[3] : unit;
    let removed = false;
    for (const [p, n] of [...tree.nodes]) {
      if (!p.startsWith(etc) || n.type !== 'symlink' || n.target === '/dev/null') continue;
      const name = p.slice(p.lastIndexOf('/') + 1);
      if (n.target!.slice(n.target!.lastIndexOf('/') + 1) !== file || (at && at[2] && name !== unit)) continue;
      tree.delete(p);
      removed = true;
    }
    done.delete((user ? 'user:' : '') + unit);
    const i = res.enabled.indexOf(user ? `${unit} (user)` : unit);
    if (i >= 0) res.enabled.splice(i, 1);
    res.disabled.push(removed ? unit : `${unit} (not enabled)`);
    const path = find(file, user);
    if (path) for (const also of parseInstall(read(realpath((x) => tree.get(x), path)!) ?? '').Also ?? []) if (also !== file) disable(also, user, seen);
  };
  for (const r of requests) {
    for (const u of r.units) {
      // sysv names (invoke-rc.d cron, update-rc.d cron defaults) name the init script: cron → cron.service
      const unit = UNIT_SUFFIX.test(u) ? u : `${u}.service`;
      const user = r.user === true;
      if (r.op === 'enable') enable(unit, user, false);
      else if (r.op === 'preset') enable(unit, user, true);
      else if (r.op === 'mask') tree.symlink(`${user ? '/etc/systemd/user' : '/etc/systemd/system'}/${unit}`, '/dev/null', 'action:services');
      else if (r.op === 'disable') disable(unit, user);
    }
  }
  res.enabled.sort();
  res.missing.sort();
  res.disabled.sort();
  return res;
}

/**
 * The variant's [services]: `enable` and `disable`, as systemctl enable/disable, after the
 * packages' own enablement. A unit no package in the closure ships is an error naming it.
 */
export function applyVariantServices(tree: LinkTree, services: { enable: string[]; disable: string[] }, read: (p: string) => string | undefined, variant: string, into: ServiceResult): void {
  const get = (p: string) => {
    const r = realpath((x) => tree.get(x), p);
    return r === null ? undefined : tree.get(r);
  };
  for (const [op, units] of [['enable', services.enable], ['disable', services.disable]] as const) {
    for (const u of units) {
      const unit = UNIT_SUFFIX.test(u) ? u : `${u}.service`;
      const at = /^([^@]+@)([^.]*)(\.\w+)$/.exec(unit);
      const file = at && at[2] ? at[1]! + at[3] : unit;
      if (!UNIT_DIRS.some((d) => get(`${d}/${file}`)?.type === 'file')) {
        throw new WeldError('notfound', 'E_UNIT', `Variant ${variant} ${op}s unit ${unit}, which no package in its closure ships (no ${file} in ${UNIT_DIRS.join(', ')})`, { unit, op });
      }
    }
    const r = applyServices(tree, [{ op, units: [...units] }], read);
    if (op === 'disable') for (const u of r.disabled) into.enabled = into.enabled.filter((e) => e !== u.replace(/ \(.*\)$/, ''));
    into.enabled = [...new Set([...into.enabled, ...r.enabled])].sort();
    into.missing = [...new Set([...into.missing, ...r.missing])].sort();
    into.disabled = [...new Set([...into.disabled, ...r.disabled])].sort();
  }
}
