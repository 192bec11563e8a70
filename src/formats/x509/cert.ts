import { createHash } from 'node:crypto';
import { WeldError, formatError } from '../../errors.js';
import { Der, TAG, type Tlv } from './der.js';
import { canonicalName, nameHash } from './name.js';
import { decodePem } from './pem.js';

/** A certificate or CRL as OpenSSL's CApath lookup files it. */
export interface X509Object {
  kind: 'certificate' | 'crl';
  /** the subject's (certificate) or issuer's (CRL) X509_NAME_hash, 8 hex digits */
  hash: string;
  /** SHA-1 of the DER (X509_digest / X509_CRL_digest): what `openssl rehash` spots duplicates by */
  sha1: string;
}

/** Larger than any real certificate or CRL a CA directory holds. */
const MAX_DER = 1 << 20;

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1). */
function signed(d: Der, field: string): { outer: Tlv; tbs: Tlv } {
  const buf = d.c.buf;
  if (buf.length > MAX_DER) throw formatError(d.c.format, `Cannot read ${d.c.format} ${field}: ${buf.length} bytes exceed ${MAX_DER}`, { field });
  const outer = d.expect(0, buf.length, TAG.SEQUENCE, true, field);
  const [tbs, alg, sig] = d.children(outer, field, 3);
  if (!tbs || !alg || !sig) throw formatError(d.c.format, `Cannot read ${d.c.format} ${field} at offset ${d.c.base + outer.start}: fewer than 3 elements`, { field, offset: d.c.base + outer.start });
  d.expect(tbs.start, outer.end, TAG.SEQUENCE, true, `${field} tbs`);
  d.expect(alg.start, outer.end, TAG.SEQUENCE, true, `${field} signatureAlgorithm`);
  d.expect(sig.start, outer.end, TAG.BIT_STRING, false, `${field} signatureValue`);
  return { outer, tbs };
}

/**
 * A certificate's subject hash and fingerprint. `trailing` allows bytes after
 * it: a TRUSTED CERTIFICATE block carries OpenSSL's X509_CERT_AUX there.
 */
export function readCertificate(der: Uint8Array, trailing = false): X509Object {
  const d = new Der(der, 'x509');
  const { outer, tbs } = signed(d, 'certificate');
  if (!trailing) d.end(outer.end, der.length, 'certificate');
  // TBSCertificate: [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, …
  let p = tbs.contentStart;
  const first = d.read(p, tbs.end, 'certificate version');
  if (first.cls === 2 && first.tag === 0 && first.constructed) p = first.end;
  p = d.expect(p, tbs.end, TAG.INTEGER, false, 'certificate serialNumber').end;
  p = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'certificate signature').end;
  p = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'certificate issuer').end;
  p = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'certificate validity').end;
  const subject = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'certificate subject');
  return { kind: 'certificate', hash: nameHash(canonicalName(d, subject, 'certificate subject')), sha1: sha1(d.whole(outer)) };
}

/** A CRL's issuer hash and fingerprint (RFC 5280 §5.1). */
export function readCrl(der: Uint8Array): X509Object {
  const d = new Der(der, 'x509');
  const { outer, tbs } = signed(d, 'crl');
  d.end(outer.end, der.length, 'crl');
  // TBSCertList: version INTEGER OPTIONAL, signature, issuer, …
  let p = tbs.contentStart;
  const first = d.read(p, tbs.end, 'crl version');
  if (first.cls === 0 && first.tag === TAG.INTEGER && !first.constructed) p = first.end;
  p = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'crl signature').end;
  const issuer = d.expect(p, tbs.end, TAG.SEQUENCE, true, 'crl issuer');
  return { kind: 'crl', hash: nameHash(canonicalName(d, issuer, 'crl issuer')), sha1: sha1(d.whole(outer)) };
}

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const KEY_LABEL = /PRIVATE KEY$/;

/**
 * What OpenSSL's PEM_X509_INFO_read_bio finds in a PEM file: its
 * certificates and CRLs (TRUSTED CERTIFICATE included), and how many
 * private keys. Other blocks are ignored, as it ignores them.
 */
export function readPemObjects(data: Uint8Array): { objects: X509Object[]; keys: number } {
  const objects: X509Object[] = [];
  let keys = 0;
  for (const b of decodePem(data)) {
    try {
      if (CERT_LABELS.has(b.label)) objects.push(readCertificate(b.der));
      else if (b.label === 'TRUSTED CERTIFICATE') objects.push(readCertificate(b.der, true));
      else if (b.label === 'X509 CRL') objects.push(readCrl(b.der));
      else if (KEY_LABEL.test(b.label)) keys++;
    } catch (e) {
      // DER offsets count from the block's decoded bytes: say which block
      if (e instanceof WeldError && e.kind === 'format') throw formatError('x509', `${e.message} (in the ${b.label} block at byte ${b.offset})`, { ...e.data, block: b.offset });
      throw e;
    }
  }
  return { objects, keys };
}
