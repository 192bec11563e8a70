/**
 * Apache's a2enmod family against the real tool: the perl script from
 * bookworm's apache2 package (run with this machine's perl, APACHE_CONFDIR and
 * APACHE_STATE_DIRECTORY pointing into a scratch root) runs the a2enmod,
 * a2enconf and a2ensite steps weld classifies in apache2's postinst, then steps
 * that exercise the rest (an mpm conflict, the mpm switch, a dependency in
 * admin mode, a refused a2dismod, a disabled conf, a missing name). weld's
 * applyApache on the same unpacked tree must leave the same links in
 * /etc/apache2 and the same state markers in /var/lib/apache2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../src/model.js';
import { classifyScriptlet } from '../src/importer/scriptlets/index.js';
import { applyApache } from '../src/linker/actions/apache.js';
import type { LinkTree } from '../src/linker/tree.js';
import { ROOT, has, run, treeOf } from './helpers/tools.js';

const DEBS = path.join(ROOT, 'fixtures/.cache/deb');
const canRun = has('dpkg-deb') && has('apt-get') && has('perl') && has('find') && process.getuid?.() === 0;
const debFile = (pkg: string) => path.join(DEBS, fs.readdirSync(DEBS).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))!);
type Step = Extract<Action, { kind: 'apache' }>;

/** symlinks (with targets), files and directories under the given roots, as `path kind [target]` */
function listing(root: string, under: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const full = path.join(root, rel);
    if (!fs.existsSync(full)) return;
    for (const name of fs.readdirSync(full).sort()) {
      const p = `${rel}/${name}`;
      const st = fs.lstatSync(path.join(root, p));
      if (st.isSymbolicLink()) out.push(`${p} -> ${fs.readlinkSync(path.join(root, p))}`);
      else if (st.isDirectory()) (out.push(`${p}/`), walk(p));
      else out.push(`${p} (${(st.mode & 0o7777).toString(8)}, ${st.size} bytes)`);
    }
  };
  for (const u of under) walk(u);
  return out;
}

function treeListing(tree: LinkTree, under: string[]): string[] {
  return [...tree.nodes]
    .filter(([p]) => under.some((u) => p.startsWith(u + '/')))
    .map(([p, n]) => (n.type === 'symlink' ? `${p} -> ${n.target}` : n.type === 'dir' ? `${p}/` : `${p} (${(n.mode & 0o7777).toString(8)}, ${n.size} bytes)`))
    .sort();
}


describe.skipIf(!canRun)('a2enmod, a2enconf, a2ensite against the real script', () => {
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-a2-'));
    run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEBS, 'apache2']);
  }, 300_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('links and marks what a2enmod does', () => {
    const root = path.join(work, 'root');
    run('dpkg-deb', ['-x', debFile('apache2'), root]);
    run('dpkg-deb', ['-e', debFile('apache2'), path.join(work, 'ctl')]);
    fs.mkdirSync(path.join(root, 'var/lib/apache2'), { recursive: true });
    const tree = treeOf(root);
    const postinst = classifyScriptlet({ format: 'deb', phase: 'postinst', interpreter: '', body: fs.readFileSync(path.join(work, 'ctl/postinst'), 'utf8') }).filter((a): a is Step => a.kind === 'apache');
    expect(postinst.length).toBe(1 + 16 + 5 + 1);
    expect(postinst[0]).toEqual({ kind: 'apache', op: 'enable', what: 'module', name: 'mpm_event', maint: true });
    expect(postinst.at(-1)).toEqual({ kind: 'apache', op: 'enable', what: 'site', name: '000-default', maint: false });
    const more = classifyScriptlet({
      format: 'deb',
      phase: 'postinst',
      interpreter: '',
      body: [
        'a2enmod -m -q mpm_worker || true', // refused: mpm_event is enabled, and they conflict
        'a2dismod -m -q mpm_event', // the mpm switch
        'a2enmod -m -q mpm_prefork',
        'a2enmod -q proxy_http', // admin mode; Depends: proxy
        'a2dismod -q proxy || true', // refused: proxy_http depends on it
        'a2disconf -m -q security',
        'a2enconf -q no-such-conf || true',
        'a2dismod -q dir || true', // essential: asks on its terminal
      ].join('\n'),
    }).filter((a): a is Step => a.kind === 'apache');
    expect(more.length).toBe(8);
    const steps = [...postinst, ...more];

    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    for (const n of ['a2enmod', 'a2dismod', 'a2enconf', 'a2disconf', 'a2ensite', 'a2dissite']) fs.symlinkSync(path.join(root, 'usr/sbin/a2enmod'), path.join(bin, n));
    const env = { ...process.env, APACHE_CONFDIR: path.join(root, 'etc/apache2'), APACHE_STATE_DIRECTORY: path.join(root, 'var/lib/apache2'), APACHE_ENVVARS: path.join(work, 'no-envvars') };
    const refused: string[] = [];
    for (const s of steps) {
      const cmd = `a2${s.op === 'enable' ? 'en' : 'dis'}${s.what === 'module' ? 'mod' : s.what}`;
      const r = run('perl', [path.join(bin, cmd), ...(s.maint ? ['-m'] : []), '-q', s.name], { env, allowFail: true, input: '' });
      if (r.status !== 0) refused.push(`${cmd} ${s.name}`);
    }
    expect(refused).toEqual(['a2enmod mpm_worker', 'a2dismod proxy', 'a2enconf no-such-conf', 'a2dismod dir']);
    const under = ['/etc/apache2/mods-enabled', '/etc/apache2/conf-enabled', '/etc/apache2/sites-enabled', '/var/lib/apache2'];
    const real = listing(root, under).sort();

    const r = applyApache(tree, steps, (p) => {
      const n = tree.get(p);
      return n?.data ? Buffer.from(n.data).toString('utf8') : undefined;
    });
    expect(treeListing(tree, under)).toEqual(real);
    expect(r.skipped.map((x) => x.step)).toEqual(['a2enmod mpm_worker', 'a2dismod proxy', 'a2enconf no-such-conf', 'a2dismod dir']);
    // dependencies come along: auth_basic needs authn_core, and its marker is the maintainer's
    expect(real).toContain('/etc/apache2/mods-enabled/authn_core.load -> ../mods-available/authn_core.load');
    expect(real).toContain('/var/lib/apache2/module/enabled_by_maint/authn_core (644, 0 bytes)');
    expect(real).toContain('/var/lib/apache2/site/enabled_by_admin/000-default (644, 0 bytes)');
    expect(real).toContain('/var/lib/apache2/module/disabled_by_maint/mpm_event (644, 0 bytes)');
    expect(real).toContain('/etc/apache2/mods-enabled/mpm_prefork.conf -> ../mods-available/mpm_prefork.conf');
  });
});
