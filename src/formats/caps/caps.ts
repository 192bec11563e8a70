import { WeldError } from '../../errors.js';

/**
 * File capabilities: the security.capability xattr (vfs_cap_data,
 * linux/capability.h) and libcap's text form (cap_to_text / cap_from_text),
 * which is what rpm's FILECAPS holds.
 */

/** Capability names by bit number (linux/capability.h, without the cap_ prefix). */
export const CAP_NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace',
  'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write',
  'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
] as const;

const VFS_CAP_REVISION_MASK = 0xff000000;
const VFS_CAP_REVISION_1 = 0x01000000;
const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_REVISION_3 = 0x03000000;
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001;

const EFF = 1, PER = 2, INH = 4;
const flagText = (t: number) => (t & EFF ? 'e' : '') + (t & INH ? 'i' : '') + (t & PER ? 'p' : '');

/**
 * vfs_cap_data → libcap's cap_to_text form: the most common e/i/p combination
 * becomes the "=" base, the others are listed as +/- clauses, highest
 * combination first. null when the blob is not a v1/v2/v3 capability xattr.
 */
export function decodeCaps(v: Uint8Array): string | null {
  if (v.length < 8) return null;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const magic = dv.getUint32(0, true);
  const rev = magic & VFS_CAP_REVISION_MASK;
  const words = rev === VFS_CAP_REVISION_1 ? 1 : rev === VFS_CAP_REVISION_2 || rev === VFS_CAP_REVISION_3 ? 2 : 0;
  // v3 adds a 4-byte rootid after the v2 words
  const want = rev === VFS_CAP_REVISION_1 ? 12 : rev === VFS_CAP_REVISION_2 ? 20 : 24;
  if (!words || v.length !== want) return null;
  const effective = (magic & VFS_CAP_FLAGS_EFFECTIVE) !== 0;
  const state = (n: number): number => {
    const w = n >> 5;
    if (w >= words) return 0;
    const bit = 1 << (n & 31);
    const p = (dv.getUint32(4 + w * 8, true) & bit) !== 0;
    const i = (dv.getUint32(8 + w * 8, true) & bit) !== 0;
    return (p ? PER : 0) | (i ? INH : 0) | (effective && (p || i) ? EFF : 0);
  };
  const histo = new Array<number>(8).fill(0);
  for (let n = 0; n < CAP_NAMES.length; n++) histo[state(n)]!++;
  let m = 7;
  for (let t = 6; t >= 0; t--) if (histo[t]! >= histo[m]!) m = t;
  const clauses: string[] = m ? ['=' + flagText(m)] : [];
  for (let t = 7; t >= 0; t--) {
    if (t === m || !histo[t]) continue;
    const names = CAP_NAMES.filter((_, n) => state(n) === t).map((c) => 'cap_' + c).join(',');
    if (!m && clauses.length === 0) clauses.push(`${names}=${flagText(t)}`);
    else clauses.push(names + (t & ~m ? '+' + flagText(t & ~m) : '') + (m & ~t ? '-' + flagText(m & ~t) : ''));
  }
  return clauses.length ? clauses.join(' ') : '=';
}

/**
 * libcap's text form (`cap_net_raw=ep`, `cap_a,cap_b+ep`) → the
 * security.capability xattr value: vfs_cap_data revision 2, little-endian.
 */
export function encodeCaps(text: string): Uint8Array {
  let perm = 0n;
  let inh = 0n;
  let effective = false;
  for (const clause of text.trim().split(/\s+/).filter(Boolean)) {
    // a clause's names take one or more operator-flags pairs (libcap: `cap_x=+ep` is `=` then `+ep`)
    const m = /^([a-z0-9_,]*)((?:[=+-][eip]*)+)$/i.exec(clause);
    if (!m) throw new WeldError('format', 'E_CAPS', `Cannot parse file capabilities "${text}"`, { caps: text });
    const names = m[1]!;
    let mask = 0n;
    const list = names!.toLowerCase().split(',').filter(Boolean);
    if (list.length === 0 || list.includes('all')) mask = (1n << BigInt(CAP_NAMES.length)) - 1n;
    for (const n of list) {
      if (n === 'all') continue;
      const i = (CAP_NAMES as readonly string[]).indexOf(n.replace(/^cap_/, ''));
      if (i < 0) throw new WeldError('format', 'E_CAPS', `Unknown capability ${n} in "${text}"`, { caps: text });
      mask |= 1n << BigInt(i);
    }
    for (const [, op, flags] of m[2]!.matchAll(/([=+-])([eip]*)/gi)) {
      const f = flags!.toLowerCase();
      const apply = (cur: bigint, has: boolean) => (op === '-' ? (has ? cur & ~mask : cur) : op === '=' ? (has ? cur | mask : cur & ~mask) : has ? cur | mask : cur);
      perm = apply(perm, f.includes('p'));
      inh = apply(inh, f.includes('i'));
      if (f.includes('e')) effective = op !== '-';
      else if (op === '=') effective = false;
    }
  }
  const b = Buffer.alloc(20);
  b.writeUInt32LE(VFS_CAP_REVISION_2 | (effective ? VFS_CAP_FLAGS_EFFECTIVE : 0), 0);
  b.writeUInt32LE(Number(perm & 0xffffffffn), 4);
  b.writeUInt32LE(Number(inh & 0xffffffffn), 8);
  b.writeUInt32LE(Number(perm >> 32n), 12);
  b.writeUInt32LE(Number(inh >> 32n), 16);
  return b;
}
