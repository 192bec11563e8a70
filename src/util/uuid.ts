/**
 * UUIDs in the byte order the verity superblock stores them (RFC 4122 big-endian
 * text order), and weld's deterministic UUID derivation.
 */
import { createHash } from 'node:crypto';
import { usageError } from '../errors.js';

/** Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (dashes optional) into its 16 bytes in text order. */
export function parseUuid(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || (text.includes('-') && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(text))) {
    throw usageError(`Cannot parse UUID ${JSON.stringify(text)}: expected 32 hex digits as 8-4-4-4-12`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** 16 bytes in text order → lowercase 8-4-4-4-12. */
export function formatUuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Deterministic UUID, no randomness: SHA-256 over a domain label and the given
 * parts (each length-prefixed so parts cannot run together), first 16 bytes,
 * stamped as an RFC 9562 version 8 ("custom") UUID with the RFC variant.
 * weld uses `deriveUuid('verity', salt, dataDigest)` for the superblock uuid and
 * `deriveUuid('disk', rootHash)` for a DDI's disk GUID, so the same input always
 * gives the same image.
 */
export function deriveUuid(domain: string, ...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  h.update('weld-uuid\0' + domain + '\0');
  for (const p of parts) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(p.length));
    h.update(len).update(p);
  }
  const b = Uint8Array.from(h.digest().subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return formatUuid(b);
}
