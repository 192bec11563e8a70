/**
 * linkImage, the one place that writes a link's outputs (weld link and weld
 * quickstart both use it): image, lock, report and SBOM land whole, agree
 * with each other, and verify in process; a failed link leaves none of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { linkImage } from '../src/linker/output/index.js';
import { verifyImage } from '../src/verity/image.js';
import { has, ROOT, run, weld } from './helpers/tools.js';

const canRun = has('dpkg-deb') && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));
let tmp = '';
let store: Store;
const at = (...p: string[]) => path.join(tmp, ...p);

function deb(name: string, files: Record<string, string>): string {
  const root = at('src', name);
  fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  for (const [p, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), body);
  }
  fs.writeFileSync(path.join(root, 'DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: amd64\nMaintainer: weld <weld@example.org>\nDescription: ${name}\n`);
  const out = at(`${name}_1.0_amd64.deb`);
  run('dpkg-deb', ['--root-owner-group', '-b', root, out]);
  return out;
}

const variant = (name: string, packages: string[]) => {
  const file = at(`${name}.toml`);
  fs.writeFileSync(file, `name = "${name}"\nformat = "deb"\narch = "amd64"\npackages = ${JSON.stringify(packages)}\n[layout]\nfilesystem = "erofs"\npartitions = "ddi"\nverity = true\n`);
  return file;
};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-link-output-'));
  if (!canRun) return;
  const files = [deb('hello-out', { 'usr/share/hello/greeting': 'hello\n', 'usr/share/hello/big': 'x'.repeat(70_000) })];
  const r = weld(['import', '--store', at('store'), ...files]);
  if (r.status !== 0) throw new Error(r.stderr);
  store = Store.open(at('store'));
});
afterAll(() => {
  store?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(!canRun)('linkImage', () => {
  it('writes the image, lock, report and SBOM, which agree, and the image verifies in process', async () => {
    const warnings: string[] = [];
    const r = await linkImage(store, { variant: variant('tiny', ['hello-out']), output: at('tiny.img'), lock: at('tiny.lock'), report: at('tiny.json'), sbom: at('tiny.spdx.json'), warn: (l) => warnings.push(l) });
    expect(r.format).toBe('ddi');
    expect(r.image?.rootHash).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(at('tiny.img')).size).toBe(r.image!.size);
    const report = JSON.parse(fs.readFileSync(at('tiny.json'), 'utf8'));
    expect(report).toMatchObject({ variant: 'tiny', format: 'ddi', rootHash: r.image!.rootHash, size: r.image!.size, packages: [expect.objectContaining({ name: 'hello-out' })] });
    expect(Object.keys(report.timing)).toEqual(expect.arrayContaining(['layout', 'write', 'total']));
    expect(fs.readFileSync(at('tiny.lock'), 'utf8')).toContain('hello-out');
    expect(JSON.parse(fs.readFileSync(at('tiny.spdx.json'), 'utf8')).packages).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'hello-out' })]));
    expect(warnings).toEqual([]);
    await expect(verifyImage(at('tiny.img'), r.image!.rootHash!)).resolves.toMatchObject({ ok: true, exitCode: 0 });
    // relinking from the lock it wrote gives the same image
    const again = await linkImage(store, { variant: variant('tiny', ['hello-out']), output: at('again.img'), lock: at('tiny.lock') });
    expect(again.image!.rootHash).toBe(r.image!.rootHash);
    expect(fs.readFileSync(at('again.img')).equals(fs.readFileSync(at('tiny.img')))).toBe(true);
  });

  it('a failed link leaves no image, report, lock or temp file', async () => {
    const broken = variant('broken', ['hello-out', 'no-such-package']);
    const before = fs.readdirSync(tmp);
    await expect(linkImage(store, { variant: broken, output: at('broken.img'), lock: at('broken.lock'), report: at('broken.json') })).rejects.toThrow(/no-such-package/);
    expect(fs.readdirSync(tmp).filter((n) => !before.includes(n))).toEqual([]);
  });

  it('writes tar and manifest through the same placement, and refuses dir without a target', async () => {
    const tar = await linkImage(store, { variant: variant('tiny', ['hello-out']), format: 'tar', output: at('tiny.tar') });
    expect(tar.image).toBe(null);
    expect(run('tar', ['-tf', at('tiny.tar')]).stdout.toString()).toMatch(/usr\/share\/hello\/greeting/);
    await linkImage(store, { variant: variant('tiny', ['hello-out']), format: 'manifest', output: at('tiny.manifest.json') });
    expect(JSON.parse(fs.readFileSync(at('tiny.manifest.json'), 'utf8'))).toBeTruthy();
    await expect(linkImage(store, { variant: variant('tiny', ['hello-out']), format: 'dir' })).rejects.toThrow(/--format dir needs -o DIR/);
  });
});
