/** JSON as weld prints and writes it: bytes as hex, bigints as numbers, two-space indent, final newline. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : typeof x === 'bigint' ? Number(x) : x), 2) + '\n';
}
