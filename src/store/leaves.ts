import { formatError } from '../errors.js';

/**
 * A package's cached dm-verity leaves, one blob per (package, salt): loading
 * a link's leaves is then one row per package, not one per object (a row costs
 * better-sqlite3 a few µs, and minbase has ~4,700 objects).
 *
 * Layout: u8 version (1), u8 digest size, then per object, sorted by id:
 * 32-byte object id, u32le block count, count × digest.
 */
export type LeafMap = Map<string, Uint8Array>;

const VERSION = 1;
const ID = 32;

export function encodeLeafPack(leaves: LeafMap, digest: number): Uint8Array {
  const ids = [...leaves.keys()].sort();
  let total = 2;
  for (const id of ids) total += ID + 4 + leaves.get(id)!.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = digest;
  let at = 2;
  for (const id of ids) {
    const d = leaves.get(id)!;
    if (d.length % digest) throw formatError('leaf pack', `Cannot pack leaves of ${id}: ${d.length} bytes is not a whole number of ${digest}-byte digests`, { field: 'digests' });
    out.set(Buffer.from(id, 'hex'), at);
    view.setUint32(at + ID, d.length / digest, true);
    out.set(d, at + ID + 4);
    at += ID + 4 + d.length;
  }
  return out;
}

/** Adds a pack's entries to `into` (views into the blob, not copies). */
export function decodeLeafPack(blob: Uint8Array, into: LeafMap = new Map()): LeafMap {
  if (blob.length < 2) throw formatError('leaf pack', `Cannot read leaf pack: ${blob.length} bytes`, { offset: 0, field: 'version' });
  if (blob[0] !== VERSION) throw formatError('leaf pack', `Cannot read leaf pack version ${blob[0]}`, { offset: 0, field: 'version' });
  const digest = blob[1]!;
  // a plain loop over a DataView: a link decodes thousands of entries, and Cursor's per-field checks showed in profiles
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hex = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 2;
  while (at < blob.length) {
    if (at + ID + 4 > blob.length) throw formatError('leaf pack', `Cannot read leaf pack entry at offset ${at}: needs ${ID + 4} bytes, ${blob.length - at} left`, { offset: at, field: 'object id' });
    const n = view.getUint32(at + ID, true);
    const end = at + ID + 4 + n * digest;
    if (end > blob.length) throw formatError('leaf pack', `Cannot read leaf pack digests at offset ${at + ID + 4}: needs ${n * digest} bytes, ${blob.length - at - ID - 4} left`, { offset: at + ID + 4, field: 'digests' });
    into.set(hex.toString('hex', at, at + ID), blob.subarray(at + ID + 4, end));
    at = end;
  }
  return into;
}
