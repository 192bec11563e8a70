/**
 * A 64-bit FNV-1a-style digest (two 32-bit lanes) for cache file names. Not a
 * security boundary: callers that must be exact compare the hashed text too.
 * It exists so a cache hit of `weld run` need not load node:crypto.
 */
export function quickHash(data: string | Uint8Array): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < bytes.length; i++) {
    const x = bytes[i]!;
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= bytes.length;
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
