/**
 * weld's rehash over a tree against `openssl rehash` over the same files on
 * disk: hash collisions, a duplicate certificate, a CRL, files with two
 * certificates or with a key, extensions in any case, existing hash links
 * (kept, or removed when nothing needs them) and a link into another directory.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkTree } from '../tree.js';
import { applyCaCertificates, rehash } from './cacerts.js';

const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;

function ossl(args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync('openssl', args, { input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A self-signed certificate (PEM) and its key, for a subject. */
function cert(dir: string, subject: string): { pem: Buffer; key: Buffer } {
  const k = path.join(dir, 'key.tmp');
  const pem = ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', k, '-subj', subject, '-days', '1']);
  const key = fs.readFileSync(k);
  fs.rmSync(k);
  return { pem, key };
}

/** The hash links of a real directory: name → target. */
function linksOnDisk(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of fs.readdirSync(dir).sort()) if (fs.lstatSync(path.join(dir, n)).isSymbolicLink() && /^[0-9a-f]{8}\.r?\d+$/i.test(n)) out[n] = fs.readlinkSync(path.join(dir, n));
  return out;
}
function linksInTree(t: LinkTree, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of t.sorted()) {
    const name = n.path.slice(dir.length + 1);
    if (n.path.startsWith(dir + '/') && n.type === 'symlink' && /^[0-9a-f]{8}\.r?\d+$/i.test(name)) out[name] = n.target!;
  }
  return out;
}
const reader = (t: LinkTree) => (p: string) => t.get(p)?.data;

describe.skipIf(!hasOpenssl)('rehash, against openssl rehash', () => {
  let work = '';
  /** the directory's contents: files (bytes) and symlinks (targets), and files elsewhere */
  const files: Record<string, Buffer> = {};
  const links: Record<string, string> = {};
  let sameHash = '';

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-rehash-'));
    const same = ['a', 'b', 'c'].map(() => cert(work, '/CN=Same  Name'));
    const upper = cert(work, '/CN=SAME NAME'); // the same canonical subject, so the same bucket
    sameHash = ossl(['x509', '-noout', '-subject_hash'], same[0]!.pem).toString().trim();
    const other = cert(work, '/O=Weld/CN=Other');
    const keyed = cert(work, '/CN=Keyed');
    const ca = cert(work, '/O=Weld/CN=CRL Issuer');
    fs.writeFileSync(path.join(work, 'ca.pem'), ca.pem);
    fs.writeFileSync(path.join(work, 'ca.key'), ca.key);
    fs.writeFileSync(path.join(work, 'index.txt'), '');
    fs.writeFileSync(path.join(work, 'ca.cnf'), `[ca]\ndefault_ca=d\n[d]\ndatabase=${work}/index.txt\ndefault_md=sha256\ndefault_crl_days=1\n`);
    const crl = ossl(['ca', '-gencrl', '-config', path.join(work, 'ca.cnf'), '-keyfile', path.join(work, 'ca.key'), '-cert', path.join(work, 'ca.pem')]);
    Object.assign(files, {
      'a.pem': same[0]!.pem, 'b.pem': same[1]!.pem, 'c.crt': same[2]!.pem, 'UPPER.CRT': upper.pem,
      'dup.pem': same[0]!.pem, // the same certificate again: skipped as a duplicate
      'other.cer': other.pem, 'issuer.crl': crl, 'ca.pem': ca.pem,
      'two.pem': Buffer.concat([other.pem, ca.pem]), // two certificates: skipped
      'keyed.pem': Buffer.concat([keyed.key, keyed.pem]), // a key with its certificate: hashed
      'notes.txt': other.pem, // no recognised extension
      'junk.pem': Buffer.from('not a certificate\n'),
    });
    Object.assign(links, {
      [`${sameHash}.1`]: 'c.crt', // an existing link that stays as it is
      'deadbeef.0': 'gone.pem', // a hash link nothing needs: removed
      'elsewhere.pem': '../elsewhere/real.pem',
    });
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('makes the same hash links, names and targets, as openssl rehash', () => {
    const real = fs.readFileSync(path.join(work, 'ca.pem'));
    const disk = path.join(work, 'disk');
    fs.mkdirSync(path.join(disk, 'certs'), { recursive: true });
    fs.mkdirSync(path.join(disk, 'elsewhere'));
    fs.writeFileSync(path.join(disk, 'elsewhere/real.pem'), cert(work, '/CN=Elsewhere').pem);
    for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(disk, 'certs', n), b);
    for (const [n, t] of Object.entries(links)) fs.symlinkSync(t, path.join(disk, 'certs', n));
    const t = new LinkTree(0);
    t.writeFile('/etc/ssl/elsewhere/real.pem', fs.readFileSync(path.join(disk, 'elsewhere/real.pem')), 'pkg');
    for (const [n, b] of Object.entries(files)) t.writeFile(`/etc/ssl/certs/${n}`, b, 'pkg');
    for (const [n, tg] of Object.entries(links)) t.symlink(`/etc/ssl/certs/${n}`, tg, 'pkg');
    expect(real.length).toBeGreaterThan(0);

    const made = rehash(t, reader(t), '/etc/ssl/certs');
    spawnSync('openssl', ['rehash', path.join(disk, 'certs')]);
    const want = linksOnDisk(path.join(disk, 'certs'));
    expect(linksInTree(t, '/etc/ssl/certs')).toEqual(want);
    // what the rules above give: c keeps .1; UPPER.CRT, a, b take .0, .2, .3 in strcmp order; dup.pem, two.pem, junk.pem get none
    expect(want[`${sameHash}.0`]).toBe('UPPER.CRT'); // strcmp order: upper case first
    expect(want[`${sameHash}.1`]).toBe('c.crt');
    expect(Object.values(want)).not.toContain('dup.pem');
    expect(want[`${sameHash}.3`]).toBe('b.pem');
    expect(Object.values(want)).toContain('issuer.crl');
    expect(Object.values(want)).toContain('keyed.pem');
    expect(Object.keys(want).some((k) => /\.r0$/.test(k))).toBe(true);
    expect(want['deadbeef.0']).toBeUndefined();
    expect(made).toBe(Object.keys(want).length - 1);
  });

  it('makes the .pem links, the hash links and the bundle for certificates the conf lists, mangling names as the tool does', () => {
    const t = new LinkTree(0);
    const one = cert(work, '/CN=One');
    const two = cert(work, '/CN=Two');
    t.writeFile('/usr/share/ca-certificates/mozilla/Two_(x),y z.crt', two.pem.subarray(0, two.pem.length - 1), 'ca-certificates');
    t.writeFile('/usr/share/ca-certificates/mozilla/One.crt', one.pem, 'ca-certificates');
    t.writeFile('/usr/local/share/ca-certificates/local.crt', one.pem, 'variant');
    t.mkdir('/etc/ssl/certs', 'openssl');
    t.symlink('/etc/ssl/certs/dangling.pem', '/nowhere', 'pkg');
    const r = applyCaCertificates(t, reader(t));
    expect(r).toEqual({ certificates: 3, hashLinks: 2 });
    expect(t.get('/etc/ca-certificates.conf')!.data!.toString()).toMatch(/^# This file lists certificates[^]*#\nmozilla\/One\.crt\nmozilla\/Two_\(x\),y z\.crt\n$/);
    expect(t.get('/etc/ssl/certs/Two_=x=_y_z.pem')!.target).toBe('/usr/share/ca-certificates/mozilla/Two_(x),y z.crt');
    expect(t.get('/etc/ssl/certs/local.pem')!.target).toBe('/usr/local/share/ca-certificates/local.crt');
    expect(t.get('/etc/ssl/certs/dangling.pem')).toBeUndefined();
    const h1 = ossl(['x509', '-noout', '-subject_hash'], one.pem).toString().trim();
    // One.pem and local.pem hold the same certificate: the second is a duplicate
    expect(linksInTree(t, '/etc/ssl/certs')).toEqual({ [`${h1}.0`]: 'One.pem', [`${ossl(['x509', '-noout', '-subject_hash'], two.pem).toString().trim()}.0`]: 'Two_=x=_y_z.pem' });
    // the bundle: conf order, then local; a missing final newline added
    expect(t.get('/etc/ssl/certs/ca-certificates.crt')!.data).toEqual(Buffer.concat([one.pem, two.pem, one.pem]));
  });
});
