#!/usr/bin/env bash
# Installs the Debian tools the benchmarks compare weld with, idempotently.
# alien converts the minbase .debs to rpms; apt-utils gives apt-ftparchive for the
# local debootstrap mirror; hyperfine is not needed (bench/lib.mjs times runs itself).
set -euo pipefail
need=()
command -v alien >/dev/null || need+=(alien)
command -v apt-ftparchive >/dev/null || need+=(apt-utils)
command -v dpkg-scanpackages >/dev/null || need+=(dpkg-dev)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mkfs.erofs >/dev/null || need+=(erofs-utils)
command -v veritysetup >/dev/null || need+=(cryptsetup-bin)
command -v rpm2cpio >/dev/null || need+=(rpm2cpio)
command -v rpm >/dev/null || need+=(rpm)
[ ${#need[@]} -eq 0 ] && exit 0
echo "setup-bench: installing ${need[*]}" >&2
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
