#!/usr/bin/env bash
# Idempotent host setup: Debian tools the tests use as oracles (mmdebstrap and debootstrap
# install the installer-oracle sets; kmod's depmod/modprobe and libcap2-bin's setcap check the
# generated module indexes and file capabilities), and npm deps.
# Safe to run repeatedly; does nothing when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(rpm rpm2cpio cpio cryptsetup-bin erofs-utils libfuse2 fdisk dmsetup attr
      debootstrap mmdebstrap qemu-system-x86 busybox-static xz-utils zstd bzip2 lzma
      util-linux e2fsprogs file binutils gcc libc6-dev systemd-container apt-utils
      kmod libcap2-bin openssl diffutils)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci refuses this lock: the registry here lacks the other platforms' optional
  # native packages (404), so the lock cannot list them; npm install tolerates that.
  npm install --no-audit --no-fund
fi
# always rebuild: tsc is incremental enough, and a stale dist would test old code
npm run build --silent
