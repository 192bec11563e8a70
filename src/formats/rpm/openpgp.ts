import { formatError } from '../../errors.js';
import type { SignatureKind } from '../../model.js';
import { Cursor } from '../../util/cursor.js';
import { HASH_ALGO_NAMES } from './tags.js';

const FORMAT = 'openpgp';

export interface PgpSignatureInfo {
  version: number;
  kind: SignatureKind;
  /** OpenPGP public-key algorithm number (RFC 9580 §9.1) */
  pubkeyAlgo: number;
  hashAlgo: string;
  /** 16 hex digits; '' when the packet names no issuer */
  keyId: string;
  /** issuer fingerprint when present (v4: 20 bytes, v6: 32 bytes) */
  fingerprint: string;
}

/** RFC 9580 §9.1 and draft-ietf-openpgp-pqc (30/31: composite ML-DSA). */
export function pubkeyKind(algo: number): SignatureKind {
  switch (algo) {
    case 1:
    case 3:
      return 'rsa';
    case 17:
      return 'dsa';
    case 19:
      return 'ecdsa';
    case 22:
    case 27:
    case 28:
      return 'eddsa';
    case 30:
    case 31:
    case 107:
    case 108:
      return 'mldsa';
    default:
      return 'unknown';
  }
}

const SUBPACKET_ISSUER = 16;
const SUBPACKET_ISSUER_FPR = 33;

/**
 * Decodes the first OpenPGP signature packet (tag 2) of `buf`: version 3, 4
 * or 6. Enough to name algorithm, hash and issuer; the signature is not verified.
 */
export function parseSignaturePacket(buf: Uint8Array): PgpSignatureInfo {
  const c = new Cursor(buf, FORMAT);
  const first = c.u8('packet tag');
  if (!(first & 0x80)) throw formatError(FORMAT, `Cannot read OpenPGP packet at offset 0: bit 7 of tag byte 0x${first.toString(16)} is clear`, { field: 'packet tag', offset: 0 });
  let tag: number;
  let len: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    const l0 = c.u8('packet length');
    if (l0 < 192) len = l0;
    else if (l0 < 224) len = ((l0 - 192) << 8) + c.u8('packet length') + 192;
    else if (l0 === 255) len = c.u32be('packet length');
    else throw formatError(FORMAT, 'Cannot read OpenPGP signature at offset 1: partial body lengths are not used for signatures', { field: 'packet length', offset: 1 });
  } else {
    tag = (first >> 2) & 0x0f;
    const lt = first & 3;
    if (lt === 0) len = c.u8('packet length');
    else if (lt === 1) len = c.u16be('packet length');
    else if (lt === 2) len = c.u32be('packet length');
    else len = c.remaining;
  }
  if (tag !== 2) throw formatError(FORMAT, `Cannot read OpenPGP signature at offset 0: packet tag ${tag} is not a signature`, { field: 'packet tag', offset: 0 });
  const body = new Cursor(c.bytes(len, 'signature packet body'), FORMAT);
  const version = body.u8('signature version');
  let pubkeyAlgo: number, hashNum: number;
  let keyId = '';
  let fingerprint = '';
  if (version === 3 || version === 2) {
    const hashedLen = body.u8('v3 hashed length');
    if (hashedLen !== 5) throw formatError(FORMAT, `Cannot read OpenPGP v3 signature at offset 1: hashed length ${hashedLen} is not 5`, { field: 'v3 hashed length', offset: 1 });
    body.skip(5, 'v3 type and time');
    keyId = hex(body.bytes(8, 'v3 key id'));
    pubkeyAlgo = body.u8('pubkey algorithm');
    hashNum = body.u8('hash algorithm');
  } else if (version === 4 || version === 5 || version === 6) {
    body.u8('signature type');
    pubkeyAlgo = body.u8('pubkey algorithm');
    hashNum = body.u8('hash algorithm');
    // v4 subpacket areas have 2-byte lengths, v5/v6 4-byte
    for (const area of ['hashed', 'unhashed']) {
      const n = version === 4 ? body.u16be(`${area} subpackets length`) : body.u32be(`${area} subpackets length`);
      const sp = new Cursor(body.bytes(n, `${area} subpackets`), FORMAT);
      while (sp.remaining > 0) {
        const l0 = sp.u8('subpacket length');
        let sl: number;
        if (l0 < 192) sl = l0;
        else if (l0 < 255) sl = ((l0 - 192) << 8) + sp.u8('subpacket length') + 192;
        else sl = sp.u32be('subpacket length');
        if (sl < 1) throw formatError(FORMAT, `Cannot read OpenPGP subpacket at offset ${sp.pos}: length 0`, { field: 'subpacket length', offset: sp.pos });
        const data = sp.bytes(sl, 'subpacket');
        const type = data[0]! & 0x7f;
        if (type === SUBPACKET_ISSUER && sl === 9 && !keyId) keyId = hex(data.subarray(1, 9));
        if (type === SUBPACKET_ISSUER_FPR && sl >= 2) {
          const fv = data[1]!;
          const fpr = data.subarray(2);
          fingerprint = hex(fpr);
          // v4 key id: low 64 bits of the fingerprint; v5/v6: high 64 bits
          if (fv === 4 && fpr.length === 20) keyId = hex(fpr.subarray(12));
          else if ((fv === 5 || fv === 6) && fpr.length === 32) keyId = hex(fpr.subarray(0, 8));
        }
      }
    }
  } else {
    throw formatError(FORMAT, `Cannot read OpenPGP signature at offset 0: version ${version} is unknown`, { field: 'signature version', offset: 0 });
  }
  return { version, kind: pubkeyKind(pubkeyAlgo), pubkeyAlgo, hashAlgo: HASH_ALGO_NAMES[hashNum] ?? `hash-${hashNum}`, keyId, fingerprint };
}

/** rpm-6 OPENPGP tag strings are base64 of the packet, possibly armored. */
export function decodeOpenPgpText(text: string): Uint8Array {
  let body = text;
  if (text.includes('-----BEGIN')) {
    const lines = text.split(/\r?\n/);
    const start = lines.findIndex((l) => l === '' || l.trim() === '');
    body = lines
      .slice(start + 1)
      .filter((l) => !l.startsWith('-----') && !l.startsWith('='))
      .join('');
  }
  const clean = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw formatError(FORMAT, 'Cannot read OpenPGP signature text: not base64', { field: 'base64' });
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
