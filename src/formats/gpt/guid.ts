/**
 * GUIDs as GPT stores them (UEFI spec, "mixed-endian"): the first three fields
 * little-endian, the last eight bytes in text order.
 */
import { usageError } from '../../errors.js';

const TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (or 32 bare hex digits) → 16 bytes in GPT order. */
export function guidToBytes(text: string): Uint8Array {
  if (!TEXT.test(text) && !/^[0-9a-fA-F]{32}$/.test(text)) throw usageError(`Cannot parse GUID ${JSON.stringify(text)}: expected 8-4-4-4-12 hex`);
  const b = Buffer.from(text.replace(/-/g, ''), 'hex');
  const out = new Uint8Array(16);
  out.set([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!], 0);
  out.set(b.subarray(8, 16), 8);
  return out;
}

/** 16 bytes in GPT order → lowercase 8-4-4-4-12. */
export function guidFromBytes(b: Uint8Array): string {
  const h = (i: number) => b[i]!.toString(16).padStart(2, '0');
  const r = (...idx: number[]) => idx.map(h).join('');
  return `${r(3, 2, 1, 0)}-${r(5, 4)}-${r(7, 6)}-${r(8, 9)}-${r(10, 11, 12, 13, 14, 15)}`;
}

/** 32 hex digits (e.g. a slice of a root hash) → 8-4-4-4-12. */
export function hexToGuid(hex: string): string {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw usageError(`Cannot make a GUID from ${JSON.stringify(hex)}: need 32 hex digits`);
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
