/**
 * The subject hash against OpenSSL's own (`openssl x509 -subject_hash`):
 * on the Mozilla roots and on certificates whose subject is built here to
 * reach each rule of x509_name_canon (string types, spaces, case, multi-valued
 * RDNs). Hostile DER and PEM are refused with a format error naming the offset.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WeldError } from '../../errors.js';
import { readCertificate, readPemObjects } from './cert.js';
import { Der, derEncode } from './der.js';
import { decodePem } from './pem.js';

const hasOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;
const MOZILLA = '/usr/share/ca-certificates/mozilla';
const CERTS = '/etc/ssl/certs';

/** OpenSSL's subject hash and SHA-1 fingerprint of a DER certificate. */
function openssl(der: Uint8Array): { hash: string; sha1: string } {
  const r = spawnSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject_hash', '-fingerprint', '-sha1'], { input: der });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  const [hash, fp] = r.stdout.toString().trim().split('\n');
  return { hash: hash!, sha1: fp!.split('=')[1]!.replace(/:/g, '').toLowerCase() };
}

const enc = (id: number, ...parts: (Uint8Array | string)[]) => derEncode(id, parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
const OID_CN = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03);
const OID_O = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x0a);
const OID_C = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x06);
const attr = (oid: Uint8Array, tag: number, value: Uint8Array | string) => enc(0x30, oid, enc(tag, value));
const rdn = (...attrs: Uint8Array[]) => enc(0x31, ...attrs);
const name = (...rdns: Uint8Array[]) => enc(0x30, ...rdns);
const bmp = (s: string) => Buffer.from(s, 'utf16le').swap16();
const ucs4 = (s: string) => Buffer.concat([...s].map((ch) => { const b = Buffer.alloc(4); b.writeUInt32BE(ch.codePointAt(0)!); return b; }));

/** Subjects reaching each rule of x509_name_canon / asn1_string_canon. */
const SUBJECTS: [string, Uint8Array][] = [
  ['printable, mixed case', name(rdn(attr(OID_C, 19, 'DE')), rdn(attr(OID_CN, 19, 'Weld Test ROOT')))],
  ['spaces: leading, trailing, inner runs, tabs and \\v', name(rdn(attr(OID_CN, 12, '  Weld \t\v  Test\r\n  Root  ')))],
  ['only spaces', name(rdn(attr(OID_CN, 12, ' \t ')))],
  ['UTF8String with non-ASCII, not lowercased', name(rdn(attr(OID_CN, 12, Buffer.from('Főtanúsítvány ÄÖÜ', 'utf8'))))],
  ['T61String as Latin-1', name(rdn(attr(OID_CN, 20, Buffer.from('Café ÉCOLE', 'latin1'))))],
  ['IA5String', name(rdn(attr(OID_CN, 22, 'Mail@Example.ORG')))],
  ['BMPString', name(rdn(attr(OID_O, 30, bmp('Łódź  ROOT CA'))))],
  ['UniversalString', name(rdn(attr(OID_O, 28, ucs4('Ünïcode 𝔘 CA'))))],
  ['NumericString is copied, not canonicalised', name(rdn(attr(OID_CN, 18, ' 0123  45 ')))],
  ['multi-valued RDN, sorted after canonicalisation', name(rdn(attr(OID_O, 19, 'ZZZ'), attr(OID_CN, 19, 'AAA'), attr(OID_CN, 12, 'aab')))],
  ['an empty RDN vanishes', name(rdn(attr(OID_CN, 19, 'x')), rdn(), rdn(attr(OID_O, 19, 'Y')))],
  ['empty name', name()],
];

/** A real certificate with its subject replaced (the signature no longer verifies; the hash does not care). */
function withSubject(base: Uint8Array, subject: Uint8Array): Uint8Array {
  const d = new Der(base);
  const outer = d.read(0, base.length, 'c');
  const [tbs, alg, sig] = d.children(outer, 'c', 3);
  const f = d.children(tbs!, 'tbs', 16);
  const i = f[0]!.cls === 2 ? 5 : 4;
  const parts = f.map((t, k) => (k === i ? subject : d.whole(t)));
  return derEncode(0x30, [derEncode(0x30, parts), d.whole(alg!), d.whole(sig!)]);
}

describe.skipIf(!hasOpenssl)('the subject hash, against openssl x509 -subject_hash', () => {
  let base: Uint8Array;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-x509-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k'), '-subj', '/CN=base', '-days', '1', '-outform', 'DER', '-out', path.join(dir, 'c.der')]);
    expect(r.status, r.stderr.toString()).toBe(0);
    base = fs.readFileSync(path.join(dir, 'c.der'));
    fs.rmSync(dir, { recursive: true });
  });

  it.each(SUBJECTS)('%s', (_what, subject) => {
    const der = withSubject(base, subject);
    expect(readCertificate(der)).toEqual({ kind: 'certificate', ...openssl(der) });
  });

  it.skipIf(!fs.existsSync(MOZILLA) || !fs.existsSync(CERTS))('every Mozilla root this host has, against the hash links its openssl rehash made', () => {
    const files = fs.readdirSync(MOZILLA).filter((f) => f.endsWith('.crt'));
    expect(files.length).toBeGreaterThan(100);
    const hashes = new Set(files.map((f) => readPemObjects(fs.readFileSync(path.join(MOZILLA, f))).objects[0]!.hash));
    // two roots share a subject (Firmaprofesional): that is what the .1 suffix is for
    expect(hashes.size).toBeLessThan(files.length);
    const links = fs.readdirSync(CERTS).filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n));
    expect(links.length).toBeGreaterThan(100);
    for (const l of links) expect(readPemObjects(fs.readFileSync(path.join(CERTS, l))).objects.map((o) => o.hash), l).toEqual([l.slice(0, 8)]);
    // and a few straight from openssl x509, with their fingerprints
    for (const f of files.filter((_, i) => i % 25 === 0)) {
      const [block] = decodePem(fs.readFileSync(path.join(MOZILLA, f)));
      expect(readCertificate(block!.der), f).toEqual({ kind: 'certificate', ...openssl(block!.der) });
    }
  });

  it('reads TRUSTED CERTIFICATE (with its aux trailer) and CRLs; counts keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weld-x509-'));
    const cert = path.join(dir, 'c.pem');
    fs.writeFileSync(path.join(dir, 'c.der'), withSubject(base, SUBJECTS[0]![1]));
    spawnSync('openssl', ['x509', '-inform', 'DER', '-in', path.join(dir, 'c.der'), '-out', cert]);
    const trusted = spawnSync('openssl', ['x509', '-in', cert, '-addtrust', 'serverAuth', '-trustout']).stdout;
    expect(trusted.toString()).toContain('BEGIN TRUSTED CERTIFICATE');
    const hash = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-subject_hash']).stdout.toString().trim();
    expect(readPemObjects(trusted).objects.map((o) => o.hash)).toEqual([hash]);
    // a CRL is filed under its issuer's hash
    const key = path.join(dir, 'k.pem');
    spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/O=Weld CRL Issuer/CN=  Some  CA', '-days', '1', '-out', path.join(dir, 'ca.pem')]);
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'ca.cnf'), `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\ndefault_md=sha256\ndefault_crl_days=1\n`);
    const crl = spawnSync('openssl', ['ca', '-gencrl', '-config', path.join(dir, 'ca.cnf'), '-keyfile', key, '-cert', path.join(dir, 'ca.pem')]);
    expect(crl.status, crl.stderr.toString()).toBe(0);
    const crlHash = spawnSync('openssl', ['crl', '-noout', '-hash'], { input: crl.stdout }).stdout.toString().trim();
    expect(readPemObjects(crl.stdout).objects.map((o) => [o.kind, o.hash])).toEqual([['crl', crlHash]]);
    expect(readPemObjects(fs.readFileSync(key)).keys).toBe(1);
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses every truncation of a certificate, and never throws anything but a format error on flipped bytes', () => {
    const der = withSubject(base, SUBJECTS[9]![1]);
    for (let n = 0; n < der.length; n++) expect(() => readCertificate(der.subarray(0, n)), `prefix ${n}`).toThrow(WeldError);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    for (let k = 0; k < 2000; k++) {
      const b = Buffer.from(der);
      b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
      try {
        readCertificate(b);
      } catch (e) {
        expect(e).toBeInstanceOf(WeldError);
        expect((e as WeldError).kind).toBe('format');
      }
    }
  });
});

/** Hostile inputs, each refused with a format error whose message names an offset. */
const HOSTILE: [string, Uint8Array, RegExp][] = [
  ['empty', new Uint8Array(0), /offset 0/],
  ['indefinite length', Uint8Array.of(0x30, 0x80, 0x00, 0x00), /offset 0: indefinite length/],
  ['five length octets', Uint8Array.of(0x30, 0x85, 1, 0, 0, 0, 0), /5 length octets exceed 4/],
  ['length past the end', Uint8Array.of(0x30, 0x82, 0xff, 0xff, 0x30, 0x00), /runs past the enclosing element/],
  ['non-minimal length', Uint8Array.of(0x30, 0x81, 0x03, 0x30, 0x01, 0x00), /long form \(not DER\)/],
  ['leading zero length octet', Uint8Array.of(0x30, 0x82, 0x00, 0x83, 0x30), /leading zero/],
  ['high tag number', Uint8Array.of(0x3f, 0x81, 0x01, 0x00), /high tag/],
  ['not a SEQUENCE', Uint8Array.of(0x31, 0x00), /expected universal constructed tag 16/],
  ['fewer than three elements', enc(0x30, enc(0x30)), /fewer than 3 elements/],
  ['trailing bytes', Buffer.concat([enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name()), enc(0x30), enc(0x03, '\x00')), Uint8Array.of(0)]), /1 unexpected bytes/],
  ['bad UTF-8 in the subject', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(rdn(attr(OID_CN, 12, '\xc3\x28')))), enc(0x30), enc(0x03, '\x00')), /not valid UTF-8/],
  ['odd BMPString', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(rdn(attr(OID_CN, 30, 'abc')))), enc(0x30), enc(0x03, '\x00')), /not a multiple of 2/],
  ['surrogate in a BMPString', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(rdn(attr(OID_CN, 30, '\xd8\x00')))), enc(0x30), enc(0x03, '\x00')), /U\+d800/],
  ['context-tagged value', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(rdn(enc(0x30, OID_CN, enc(0x80, 'x'))))), enc(0x30), enc(0x03, '\x00')), /class 2/],
  ['OID padded with 0x80', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(rdn(enc(0x30, enc(0x06, '\x80\x01'), enc(19, 'x'))))), enc(0x30), enc(0x03, '\x00')), /padded with 0x80/],
  ['257 RDNs', enc(0x30, enc(0x30, enc(0x02, '\x01'), enc(0x30), name(), enc(0x30), name(...Array.from({ length: 257 }, () => rdn(attr(OID_CN, 19, 'x'))))), enc(0x30), enc(0x03, '\x00')), /more than 256 elements/],
];

describe('hostile DER', () => {
  it.each(HOSTILE)('%s', (_what, der, message) => {
    let err: unknown;
    try {
      readCertificate(der);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeldError);
    expect((err as WeldError).kind).toBe('format');
    expect((err as WeldError).message).toMatch(/^Cannot read x509 .* at offset \d+/);
    expect((err as WeldError).message).toMatch(message);
  });

  it('refuses a PEM block without its END line, or with bad base64, naming its offset', () => {
    expect(() => decodePem(Buffer.from('junk\n-----BEGIN CERTIFICATE-----\nMIIB\n'))).toThrow(/at offset 5: no END line/);
    expect(() => decodePem(Buffer.from('-----BEGIN CERTIFICATE-----\nMI*B\n-----END CERTIFICATE-----\n'))).toThrow(/at offset 0: bad base64/);
    expect(decodePem(Buffer.from('no pem here\n'))).toEqual([]);
  });

  it('names the PEM block a bad certificate sits in', () => {
    const pem = `comment\n-----BEGIN CERTIFICATE-----\n${Buffer.from(Uint8Array.of(0x30, 0x80)).toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(() => readPemObjects(Buffer.from(pem))).toThrow(/indefinite length.*in the CERTIFICATE block at byte 8/);
  });
});
