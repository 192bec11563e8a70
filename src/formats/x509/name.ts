import { createHash } from 'node:crypto';
import { formatError } from '../../errors.js';
import { Der, TAG, derEncode, type Tlv } from './der.js';

/** RDNs in a name and attributes in one RDN; X.509 names hold a handful of each. */
const MAX_RDNS = 256;
const MAX_ATTRIBUTES = 64;

/**
 * OpenSSL's canonical encoding of a Name (x509_name_canon in
 * crypto/x509/x_name.c): each RDN re-encoded as a DER SET OF its
 * attributes, the string values converted to UTF8String and canonicalised
 * (asn1_string_canon), the RDNs concatenated without the outer SEQUENCE
 * header. Empty RDNs vanish, as OpenSSL flattens a name into its entries.
 */
export function canonicalName(d: Der, name: Tlv, field = 'name'): Uint8Array {
  if (name.cls !== 0 || name.tag !== TAG.SEQUENCE || !name.constructed) throw formatError(d.c.format, `Cannot read ${d.c.format} ${field} at offset ${d.c.base + name.start}: a Name is a SEQUENCE`, { field, offset: d.c.base + name.start });
  const out: Uint8Array[] = [];
  d.children(name, field, MAX_RDNS).forEach((rdn, i) => {
    const f = `${field} RDN ${i}`;
    if (rdn.cls !== 0 || rdn.tag !== TAG.SET || !rdn.constructed) throw formatError(d.c.format, `Cannot read ${d.c.format} ${f} at offset ${d.c.base + rdn.start}: an RDN is a SET`, { field: f, offset: d.c.base + rdn.start });
    const entries = d.children(rdn, f, MAX_ATTRIBUTES).map((a, j) => canonicalAttribute(d, a, `${f} attribute ${j}`));
    if (!entries.length) return;
    // DER SET OF: elements in ascending order of their encodings (X.690 §11.6), as OpenSSL's i2d sorts them
    entries.sort((a, b) => Buffer.compare(a, b));
    out.push(derEncode(0x31, entries));
  });
  return Buffer.concat(out);
}

/** X509_NAME_hash_ex: the first four bytes of SHA-1 over the canonical encoding, little-endian, as 8 hex digits. */
export function nameHash(canonical: Uint8Array): string {
  const md = createHash('sha1').update(canonical).digest();
  return md.readUInt32LE(0).toString(16).padStart(8, '0');
}

function canonicalAttribute(d: Der, a: Tlv, field: string): Uint8Array {
  const fail = (at: number, why: string): never => {
    throw formatError(d.c.format, `Cannot read ${d.c.format} ${field} at offset ${d.c.base + at}: ${why}`, { field, offset: d.c.base + at });
  };
  if (a.cls !== 0 || a.tag !== TAG.SEQUENCE || !a.constructed) fail(a.start, 'an attribute is a SEQUENCE');
  const oid = d.expect(a.contentStart, a.end, TAG.OID, false, `${field} type`);
  const o = d.bytes(oid);
  // c2i_ASN1_OBJECT: no empty OID, no 0x80 padding in a sub-identifier, the last one terminated
  if (!o.length || o[o.length - 1]! & 0x80) fail(oid.start, 'malformed object identifier');
  for (let i = 0; i < o.length; i++) if (o[i] === 0x80 && (i === 0 || !(o[i - 1]! & 0x80))) fail(oid.start, 'object identifier sub-identifier padded with 0x80');
  const v = d.read(oid.end, a.end, `${field} value`);
  d.end(v.end, a.end, field);
  return derEncode(0x30, [d.whole(oid), canonicalValue(d, v, fail)]);
}

/** asn1_string_canon: the value's encoding in the canonical name. */
function canonicalValue(d: Der, v: Tlv, fail: (at: number, why: string) => never): Uint8Array {
  if (v.cls !== 0) fail(v.start, `attribute value of class ${v.cls} (a DirectoryString is universal)`);
  const raw = d.bytes(v);
  if (v.tag === TAG.SEQUENCE && v.constructed) return d.whole(v);
  if (v.constructed) fail(v.start, `constructed string of tag ${v.tag} (not DER)`);
  // NumericString and BIT STRING are outside ASN1_MASK_CANON: OpenSSL copies them as they are
  if (v.tag === TAG.NUMERIC || v.tag === TAG.BIT_STRING) return d.whole(v);
  let text: string;
  switch (v.tag) {
    case TAG.UTF8:
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
      } catch {
        return fail(v.start, 'UTF8String is not valid UTF-8');
      }
      break;
    // one octet per character: ASN1_STRING_to_UTF8 reads them as Latin-1 code points
    case TAG.PRINTABLE:
    case TAG.T61:
    case TAG.IA5:
      text = Buffer.from(raw).toString('latin1');
      break;
    case TAG.BMP:
      text = codePoints(raw, 2, v, fail);
      break;
    case TAG.UNIVERSAL:
      text = codePoints(raw, 4, v, fail);
      break;
    default:
      return fail(v.start, `attribute value of universal tag ${v.tag} is not a name string type`);
  }
  return derEncode(TAG.UTF8, [canonicalText(Buffer.from(text, 'utf8'))]);
}

/** BMPString (UCS-2) or UniversalString (UCS-4), big-endian; surrogates and values past U+10FFFF are refused. */
function codePoints(raw: Uint8Array, width: 2 | 4, v: Tlv, fail: (at: number, why: string) => never): string {
  if (raw.length % width) fail(v.start, `${width === 2 ? 'BMPString' : 'UniversalString'} length ${raw.length} is not a multiple of ${width}`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let s = '';
  for (let i = 0; i < raw.length; i += width) {
    const cp = width === 2 ? dv.getUint16(i) : dv.getUint32(i);
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) fail(v.start, `character U+${cp.toString(16)} cannot be UTF-8`);
    s += String.fromCodePoint(cp);
  }
  return s;
}

// ossl_isspace: space, \t, \n, \v, \f, \r
const isSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** Leading and trailing spaces dropped, inner runs collapsed to one space, ASCII lowercased; other bytes kept. */
export function canonicalText(b: Uint8Array): Uint8Array {
  let from = 0;
  let to = b.length;
  while (from < to && isSpace(b[from]!)) from++;
  while (to > from && isSpace(b[to - 1]!)) to--;
  const out: number[] = [];
  for (let i = from; i < to; ) {
    const c = b[i]!;
    if (c >= 0x80) {
      out.push(c);
      i++;
    } else if (isSpace(c)) {
      out.push(0x20);
      while (isSpace(b[i]!)) i++;
    } else {
      out.push(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
      i++;
    }
  }
  return Uint8Array.from(out);
}
