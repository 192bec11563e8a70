#!/usr/bin/env bash
# Idempotently downloads Debian packages (bookworm, from this machine's apt sources)
# into DEST. Usage: fetch-debs.sh DEST PKG...
set -euo pipefail
dest=$1; shift
mkdir -p "$dest"
cd "$dest"
need=()
for p in "$@"; do
  compgen -G "${p}_*.deb" >/dev/null || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if ! apt-get download "${need[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download "${need[@]}" >/dev/null
fi
