import { WeldError } from '../errors.js';

const CAP_NAMES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
  'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
  'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
  'perfmon', 'bpf', 'checkpoint_restore',
];

/**
 * Turns a libcap text form (`cap_net_raw=ep`, `cap_a,cap_b+ep`) into the
 * security.capability xattr value: vfs_cap_data revision 2, little-endian.
 */
export function capsToXattr(text: string): Uint8Array {
  let perm = 0n;
  let inh = 0n;
  let effective = false;
  for (const clause of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([a-z0-9_,]*)([=+-])([eip]*)$/i.exec(clause);
    if (!m) throw new WeldError('format', 'E_CAPS', `Cannot parse file capabilities "${text}"`, { caps: text });
    const [, names, op, flags] = m;
    let mask = 0n;
    const list = names!.toLowerCase().split(',').filter(Boolean);
    if (list.length === 0 || list.includes('all')) mask = (1n << BigInt(CAP_NAMES.length)) - 1n;
    for (const n of list) {
      if (n === 'all') continue;
      const i = CAP_NAMES.indexOf(n.replace(/^cap_/, ''));
      if (i < 0) throw new WeldError('format', 'E_CAPS', `Unknown capability ${n} in "${text}"`, { caps: text });
      mask |= 1n << BigInt(i);
    }
    const f = flags!.toLowerCase();
    const apply = (cur: bigint, has: boolean) => (op === '-' ? (has ? cur & ~mask : cur) : op === '=' ? (has ? cur | mask : cur & ~mask) : has ? cur | mask : cur);
    perm = apply(perm, f.includes('p'));
    inh = apply(inh, f.includes('i'));
    if (f.includes('e')) effective = op !== '-';
    else if (op === '=') effective = false;
  }
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000000 | (effective ? 1 : 0), 0);
  b.writeUInt32LE(Number(perm & 0xffffffffn), 4);
  b.writeUInt32LE(Number(inh & 0xffffffffn), 8);
  b.writeUInt32LE(Number(perm >> 32n), 12);
  b.writeUInt32LE(Number(inh >> 32n), 16);
  return b;
}
