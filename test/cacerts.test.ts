/**
 * /etc/ssl/certs as Debian's own tools make it: a variant with
 * ca-certificates is linked from bookworm's .debs (`--format dir`), then
 * the image's update-ca-certificates runs over a copy whose /etc/ssl/certs
 * is emptied (--sysroot), with the image's own openssl (run through the
 * image's dynamic loader and libraries) doing `openssl rehash`. Every entry
 * (.pem links, hash links, the bundle) must come back as weld made it; the
 * conf must be what the postinst's here-document and sorted list give.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, has, run, stageDebs, weld } from './helpers/tools.js';

const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');
// the closure of `packages = ["ca-certificates"]` in bookworm
const PKGS = ['ca-certificates', 'openssl', 'libssl3', 'debconf', 'libc6', 'libgcc-s1', 'gcc-12-base'];
const VARIANT = `name = "cacerts"
format = "deb"
merged-usr = true
packages = ["ca-certificates"]
`;

const canRun = ['dpkg-deb', 'apt-get', 'sh', 'sed', 'find'].every(has) && fs.existsSync(path.join(ROOT, 'dist/cli/main.js'));

/** Every entry of a directory: name → link target (with `strip` cut from its front) or file bytes. */
function entries(dir: string, strip = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) {
      const t = fs.readlinkSync(p);
      out.set(n, `-> ${strip && t.startsWith(strip) ? t.slice(strip.length) : t}`);
    } else out.set(n, st.isFile() ? `file ${fs.readFileSync(p).toString('base64')}` : 'dir');
  }
  return out;
}

describe.skipIf(!canRun)('the CA certificates of a linked image, against update-ca-certificates and openssl rehash', () => {
  let work = '';
  const at = (...p: string[]) => path.join(work, ...p);

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-cacerts-'));
    const debs = stageDebs(DEB_DIR, PKGS, at('debs'));
    const imp = weld(['import', '--store', at('store'), debs]);
    expect(imp.status, imp.stderr).toBe(0);
    fs.writeFileSync(at('cacerts.toml'), VARIANT);
    const r = weld(['link', '--store', at('store'), '--variant', at('cacerts.toml'), '--format', 'dir', '-o', at('img'), '--report', at('r.json')]);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('makes every .pem link, hash link and the bundle as the tools do', () => {
    const certs = at('img/etc/ssl/certs');
    const ours = entries(certs);
    const report = JSON.parse(fs.readFileSync(at('r.json'), 'utf8')) as { actions?: { caCertificates?: unknown }; caCertificates?: unknown };
    const crts = fs.readdirSync(at('img/usr/share/ca-certificates/mozilla')).filter((n) => n.endsWith('.crt'));
    const hashLinks = [...ours.keys()].filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n));
    // one per certificate: the Mozilla set has no duplicates (collisions are src/linker/actions/cacerts.test.ts's)
    expect(hashLinks.length).toBe(crts.length);
    expect(JSON.stringify(report)).toContain(`"hashLinks":${crts.length}`);

    // the tool over a copy with /etc/ssl/certs emptied
    run('cp', ['-a', at('img'), at('oracle')]);
    const dir = at('oracle/etc/ssl/certs');
    for (const n of fs.readdirSync(dir)) fs.rmSync(path.join(dir, n), { recursive: true });
    // `openssl` on PATH is the image's, on the image's loader and libraries
    fs.mkdirSync(at('bin'));
    const ld = ['usr/lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'].map((p) => at('oracle', p)).find((p) => fs.existsSync(p));
    expect(ld).toBeTruthy();
    fs.writeFileSync(at('bin/openssl'), `#!/bin/sh\nexec "${ld}" --library-path "${at('oracle/usr/lib/x86_64-linux-gnu')}" "${at('oracle/usr/bin/openssl')}" "$@"\n`, { mode: 0o755 });
    expect(run(at('bin/openssl'), ['version']).stdout.toString()).toMatch(/^OpenSSL 3\.0\./);
    const r = run('sh', [at('oracle/usr/sbin/update-ca-certificates'), '--sysroot', at('oracle'), '--hooksdir', ''], { env: { ...process.env, PATH: `${at('bin')}:${process.env.PATH}` }, allowFail: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toContain(`${crts.length} added, 0 removed`);
    // --sysroot prefixes the tool's paths with ROOT/
    const theirs = entries(dir, at('oracle') + '/');
    expect([...theirs.keys()]).toEqual([...ours.keys()]);
    for (const [n, v] of theirs) expect(ours.get(n), n).toBe(v);
  });

  it('writes /etc/ca-certificates.conf as the postinst does on a first install', () => {
    // the postinst's here-document, then every certificate (debconf enables all), sorted in the C locale
    const ctl = at('ctl');
    run('dpkg-deb', ['-e', path.join(at('debs'), fs.readdirSync(at('debs')).find((n) => n.startsWith('ca-certificates_'))!), ctl]);
    const postinst = fs.readFileSync(path.join(ctl, 'postinst'), 'utf8');
    const header = /cat > \/etc\/ca-certificates\.conf <<EOF\n([^]*?)\nEOF\n/.exec(postinst)![1]! + '\n';
    const list = run('sh', ['-c', `cd "${at('img/usr/share/ca-certificates')}" && find . -type f -name '*.crt' | sed -e 's/^\\.\\///' | LC_ALL=C sort`]).stdout.toString();
    expect(fs.readFileSync(at('img/etc/ca-certificates.conf'), 'utf8')).toBe(header + list);
  });
});
