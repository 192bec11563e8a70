import { AR_MAGIC } from './format.js';
import { concatBytes } from '../../util/bytes.js';

export interface ArWriteMember {
  name: string;
  data: Uint8Array;
  mtime?: number;
  uid?: number;
  gid?: number;
  mode?: number;
  /** header size when it should differ from data.length (hostile tests) */
  size?: number;
}

const enc = new TextEncoder();

/**
 * Small ar encoder for tests and fixtures. `names`: 'sysv' pads with spaces
 * (as dpkg-deb writes), 'gnu' ends names with '/' and puts long ones in a
 * `//` table, 'bsd' writes `#1/<len>` long names.
 */
export function encodeAr(members: ArWriteMember[], opts: { names?: 'sysv' | 'gnu' | 'bsd' } = {}): Uint8Array {
  const style = opts.names ?? 'sysv';
  const parts: Uint8Array[] = [enc.encode(AR_MAGIC)];
  const header = (name: string, size: number, m: Partial<ArWriteMember>) =>
    enc.encode(
      name.padEnd(16) +
        String(m.mtime ?? 0).padEnd(12) +
        String(m.uid ?? 0).padEnd(6) +
        String(m.gid ?? 0).padEnd(6) +
        (m.mode ?? 0o100644).toString(8).padEnd(8) +
        String(size).padEnd(10) +
        '`\n',
    );
  const pad = (n: number) => (n % 2 ? [enc.encode('\n')] : []);
  if (style === 'gnu') {
    const long = members.filter((m) => m.name.length > 15);
    if (long.length) {
      const table = enc.encode(long.map((m) => m.name + '/\n').join(''));
      parts.push(header('//', table.length, { mode: 0 }), table, ...pad(table.length));
    }
  }
  let tableAt = 0;
  for (const m of members) {
    const size = m.size ?? m.data.length;
    if (style === 'bsd' && (m.name.length > 16 || m.name.includes(' '))) {
      const nb = enc.encode(m.name);
      parts.push(header(`#1/${nb.length}`, size + nb.length, m), nb, m.data, ...pad(size + nb.length));
      continue;
    }
    let name = m.name;
    if (style === 'gnu') {
      if (name.length > 15) {
        name = `/${tableAt}`;
        tableAt += enc.encode(m.name).length + 2;
      } else name += '/';
    }
    parts.push(header(name, size, m), m.data, ...pad(size));
  }
  return concatBytes(parts);
}
