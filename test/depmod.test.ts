/**
 * depmod's indexes as a generator: the kernel package's postinst runs
 * `depmod VERSION`, and weld runs the image's own depmod (kmod) in a
 * sandboxed view of the link. The oracle is the real depmod (the host's kmod,
 * the same version bookworm ships) over the same tree, writing elsewhere
 * (`-b ROOT -o OUT`); modprobe's dry run then resolves a module from the
 * linked tree's indexes, without booting it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, weldAsync } from './helpers/tools.js';
import { fetchK8sDebs, kernelPackage } from './helpers/k8s.js';
import { DEPMOD_OUTPUTS } from '../src/importer/scriptlets/system.js';

const canRun = process.getuid?.() === 0 && ['dpkg-deb', 'apt-get', 'depmod', 'modprobe', 'cmp'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

interface Report {
  actions: { generators?: { generator: string; tool: string; args: string[]; packages: string[]; outputs: { path: string }[] }[] };
}

describe.skipIf(!canRun)('depmod indexes', () => {
  let work = '';
  let version = '';
  const at = (...p: string[]) => path.join(work, ...p);

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-depmod-'));
    version = kernelPackage().replace(/^linux-image-/, '');
    const imp = await weldAsync(['import', '--store', at('store'), ...fetchK8sDebs()]);
    expect(imp.status, imp.stderr).toBe(0);
    fs.writeFileSync(at('kernel.toml'), `name = "kernel"\nformat = "deb"\nmerged-usr = true\npackages = ["${kernelPackage()}", "kmod", "base-files", "base-passwd"]\n[prefer]\n"awk" = "mawk"\n`);
    const r = await weldAsync(['link', '--store', at('store'), '--variant', at('kernel.toml'), '--format', 'dir', '-o', at('root'), '--report', at('r.json')]);
    expect(r.status, r.stderr).toBe(0);
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("runs the image's depmod for the kernel package's postinst step", () => {
    const rep = JSON.parse(fs.readFileSync(at('r.json'), 'utf8')) as Report;
    const g = rep.actions.generators!.find((x) => x.generator === 'depmod')!;
    expect(g).toMatchObject({ args: [version], packages: [expect.stringMatching(new RegExp(`^linux-image-${version}`))] });
    expect(g.tool).toMatch(/\/depmod$/);
    // modules.builtin.alias.bin needs modules.builtin.modinfo, which Debian's kernel ships
    expect(g.outputs.map((o) => path.posix.basename(o.path)).sort()).toEqual([...DEPMOD_OUTPUTS].sort());
  });

  it('writes indexes byte-equal to the real depmod over the same tree', () => {
    const ours = at('root/usr/lib/modules', version);
    // the same tree as hard links, without weld's indexes (kmod 30's depmod has no -o)
    const theirs = at('oracle/lib/modules', version);
    fs.mkdirSync(path.dirname(theirs), { recursive: true });
    run('cp', ['-al', ours, theirs]);
    for (const d of ['etc/depmod.d', 'usr/lib/depmod.d']) if (fs.existsSync(at('root', d))) run('cp', ['-a', '--parents', d, at('oracle')], { cwd: at('root') });
    for (const f of DEPMOD_OUTPUTS) fs.rmSync(path.join(theirs, f), { force: true });
    const before = new Set(fs.readdirSync(theirs));
    run('depmod', ['-b', at('oracle'), version]);
    expect(fs.readdirSync(theirs).filter((n) => !before.has(n)).sort()).toEqual([...DEPMOD_OUTPUTS].sort());
    for (const f of DEPMOD_OUTPUTS) {
      const st = fs.lstatSync(path.join(ours, f));
      expect([f, st.mode & 0o7777, st.uid, st.gid]).toEqual([f, 0o644, 0, 0]);
      expect(run('cmp', [path.join(ours, f), path.join(theirs, f)], { allowFail: true }).status, f).toBe(0);
    }
    expect(fs.statSync(path.join(ours, 'modules.dep')).size).toBeGreaterThan(100_000);
  });

  it("lets modprobe resolve overlay and its dependencies from the linked tree's indexes", () => {
    const r = run('modprobe', ['-n', '-v', '--show-depends', '-d', at('root'), '-S', version, 'overlay'], { allowFail: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(new RegExp(`insmod .*/lib/modules/${version.replace(/[.+]/g, '\\$&')}/kernel/fs/overlayfs/overlay\\.ko`));
    // dm-verity's dependencies come from modules.dep, not from guessing
    const v = run('modprobe', ['-n', '--show-depends', '-d', at('root'), '-S', version, 'dm-verity'], { allowFail: true }).stdout.toString();
    expect(v).toMatch(/dm-bufio\.ko/);
    expect(v).toMatch(/dm-verity\.ko/);
  });
});
