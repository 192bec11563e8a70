import path from 'node:path';
import { ROOT, debPath, run } from './tools.js';

/** where the tests keep downloaded bookworm .debs */
export const DEB_DIR = path.join(ROOT, 'fixtures/.cache/deb');

// the closure weld resolves for variants/k8s.toml in bookworm (checked by the link below: a missing one fails it)
export const K8S_DEBS = `adduser base-files base-passwd bash ca-certificates conntrack containerd containernetworking-plugins coreutils cpio dash
dbus dbus-bin dbus-daemon dbus-session-bus-common dbus-system-bus-common debconf debianutils dmsetup dpkg findutils gcc-12-base grep
init-system-helpers initramfs-tools initramfs-tools-core iproute2 iptables klibc-utils kmod libacl1 libapparmor1 libargon2-1 libattr1
libaudit-common libaudit1 libblkid1 libbpf1 libbsd0 libbz2-1.0 libc-bin libc6 libcap-ng0 libcap2 libcap2-bin libcom-err2 libcrypt1
libcryptsetup12 libdb5.3 libdbus-1-3 libdebconfclient0 libdevmapper1.02.1 libelf1 libexpat1 libfdisk1 libffi8 libgcc-s1 libgcrypt20
libgmp10 libgpg-error0 libgssapi-krb5-2 libip4tc2 libip6tc2 libjson-c5 libk5crypto3 libkeyutils1 libklibc libkmod2 libkrb5-3
libkrb5support0 liblz4-1 liblzma5 libmd0 libmnl0 libmount1 libncursesw6 libnetfilter-conntrack3 libnfnetlink0 libnftnl11 libp11-kit0
libpam-modules libpam-modules-bin libpam0g libpcre2-8-0 libproc2-0 libseccomp2 libselinux1 libsemanage-common libsemanage2 libsepol2
libsmartcols1 libssl3 libsystemd-shared libsystemd0 libtinfo6 libtirpc-common libtirpc3 libudev1 libuuid1 libxtables12 libzstd1
linux-base linux-image-amd64 logsave mawk mount netbase openssl passwd procps runc sed systemd systemd-sysv tar udev usr-is-merged
util-linux util-linux-extra zlib1g`.split(/\s+/);

/** The kernel package linux-image-amd64 names in the archive today (its name carries the ABI). */
export function kernelPackage(): string {
  const deps = run('apt-cache', ['depends', 'linux-image-amd64']).stdout.toString();
  const k = /Depends:\s*(linux-image-\S+)/.exec(deps)?.[1];
  if (!k) throw new Error(`apt-cache names no kernel package for linux-image-amd64: ${deps}`);
  return k;
}

/** Fetches the k8s closure, with the kernel package its metapackage names, into the cache; returns their .deb files. */
export function fetchK8sDebs(more: string[] = []): string[] {
  const pkgs = [...K8S_DEBS, kernelPackage(), ...more];
  run('bash', [path.join(ROOT, 'scripts/fetch-debs.sh'), DEB_DIR, ...pkgs]);
  return pkgs.map((p) => debPath(DEB_DIR, p));
}
