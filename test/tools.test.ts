/**
 * The oracle tests skip themselves when a tool is missing (so a developer
 * without, say, qemu can still run the rest). This file makes such a skip
 * visible: every tool scripts/setup.sh installs must be here, or it fails.
 */
import { describe, expect, it } from 'vitest';
import { has } from './helpers/tools.js';

const TOOLS = [
  'rpm', 'rpmbuild', 'rpm2cpio', 'rpm2archive', 'cpio', 'dpkg-deb', 'veritysetup', 'mkfs.erofs', 'fsck.erofs', 'dump.erofs',
  'sfdisk', 'dmsetup', 'getfattr', 'setfattr', 'debootstrap', 'mmdebstrap', 'qemu-system-x86_64', 'busybox', 'xz', 'zstd', 'bzip2',
  'ar', 'objcopy', 'tar', 'ldconfig', 'systemd-dissect', 'systemd-sysusers', 'systemd-tmpfiles', 'unshare', 'cc', 'apt-ftparchive',
  'depmod', 'modprobe', 'setcap', 'openssl', 'cmp', 'chroot', 'perl',
];

describe('oracle tools installed by scripts/setup.sh', () => {
  it.each(TOOLS)('%s is on PATH', (tool) => {
    expect(has(tool), `${tool} is missing: run scripts/setup.sh (npm test does)`).toBe(true);
  });
  it('runs as root (mounts, loop devices and namespaces need it)', () => {
    expect(process.getuid?.()).toBe(0);
  });
});
