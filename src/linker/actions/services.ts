import type { LinkTree } from '../tree.js';

const UNIT_DIRS = ['/etc/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];
const USER_UNIT_DIRS = ['/etc/systemd/user', '/usr/lib/systemd/user', '/lib/systemd/user'];

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
    out[k] = [...(out[k] ?? []), ...l.slice(eq + 1).trim().split(/\s+/).filter(Boolean)];
  }
  return out;
}

/** Preset policy: the first matching line across *.preset files (sorted by name) wins; default enable. */
function presetPolicy(tree: LinkTree, read: (p: string) => string | undefined): (unit: string) => boolean {
  const rules: { enable: boolean; re: RegExp }[] = [];
  const files: string[] = [];
  for (const d of ['/etc/systemd/system-preset', '/usr/lib/systemd/system-preset']) {
    for (const p of tree.nodes.keys()) if (p.startsWith(d + '/') && p.endsWith('.preset')) files.push(p);
  }
  files.sort((a, b) => (a.split('/').pop()! < b.split('/').pop()! ? -1 : 1));
  for (const f of files) {
    for (const l of (read(f) ?? '').split('\n')) {
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

/** systemctl enable/preset at link time: [Install] WantedBy/RequiredBy/Alias/Also become symlinks. */
export function applyServices(tree: LinkTree, requests: { op: string; units: string[]; user?: boolean }[], read: (p: string) => string | undefined): ServiceResult {
  const res: ServiceResult = { enabled: [], missing: [], disabled: [] };
  const preset = presetPolicy(tree, read);
  const done = new Set<string>();
  // `systemctl --global enable` links into /etc/systemd/user, from the user unit dirs
  const enable = (unit: string, user = false) => {
    const key = (user ? 'user:' : '') + unit;
    if (done.has(key)) return;
    done.add(key);
    const unitDirs = user ? USER_UNIT_DIRS : UNIT_DIRS;
    const etc = user ? '/etc/systemd/user' : '/etc/systemd/system';
    let instance = '';
    let file = unit;
    const at = /^([^@]+@)([^.]*)(\.\w+)$/.exec(unit);
    if (at && at[2]) (file = at[1]! + at[3]), (instance = at[2]);
    const dir = unitDirs.find((d) => tree.get(`${d}/${file}`));
    if (!dir) return void res.missing.push(unit);
    let path = `${dir}/${file}`;
    // an alias shipped as a symlink (udev.service -> systemd-udevd.service): systemctl enables its target
    for (let hop = 0; hop < 8 && tree.get(path)?.type === 'symlink'; hop++) {
      const t = tree.get(path)!.target!;
      path = t.startsWith('/') ? t : `${path.slice(0, path.lastIndexOf('/'))}/${t}`;
    }
    if (path === '/dev/null') return void res.disabled.push(`${unit} (masked)`);
    if (tree.get(path)?.type !== 'file') return void res.missing.push(unit);
    if (path.split('/').pop() !== file) {
      const real = path.split('/').pop()!;
      if (real !== file) return enable(real, user);
    }
    const inst = parseInstall(read(path) ?? '');
    if (at && !instance) instance = inst.DefaultInstance?.[0] ?? '';
    if (at && !instance) return void res.missing.push(`${unit} (template without instance)`);
    const name = at ? `${at[1]}${instance}${at[3]}` : unit;
    const target = path.replace(/^\/lib\//, '/usr/lib/');
    for (const t of [...(inst.WantedBy ?? []), ...(inst.RequiredBy ?? [])].sort()) {
      const kind = (inst.WantedBy ?? []).includes(t) ? 'wants' : 'requires';
      tree.mkdir(`${etc}/${t}.${kind}`, 'action:services');
      tree.symlink(`${etc}/${t}.${kind}/${name}`, target, 'action:services');
    }
    for (const a of inst.Alias ?? []) tree.symlink(`${etc}/${a}`, target, 'action:services');
    res.enabled.push(user ? `${name} (user)` : name);
    for (const also of inst.Also ?? []) enable(also, user);
  };
  for (const r of requests) {
    for (const u of r.units) {
      // sysv names (invoke-rc.d cron, update-rc.d cron defaults) name the init script: cron → cron.service
      const unit = /\.(service|socket|timer|target|path|mount|automount|swap|slice|scope|device)$/.test(u) ? u : `${u}.service`;
      if (r.op === 'enable') enable(unit, r.user);
      else if (r.op === 'preset') preset(unit) ? enable(unit, r.user) : res.disabled.push(unit);
      else if (r.op === 'mask') tree.symlink(`${r.user ? '/etc/systemd/user' : '/etc/systemd/system'}/${unit}`, '/dev/null', 'action:services');
      else if (r.op === 'disable') res.disabled.push(unit);
    }
  }
  res.enabled.sort();
  res.missing.sort();
  res.disabled.sort();
  return res;
}
