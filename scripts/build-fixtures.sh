#!/usr/bin/env bash
# Idempotently builds test fixtures into fixtures/.cache (git-ignored):
#   rpm/   packages from fixtures/rpm/*.spec, via rpmbuild
#   rpm-rich/   the rich-dependency providers and consumers (weld-rich-*.spec),
#          apart so tests that take every rpm in rpm/ do not see them
#   fuzz-deb/   tiny .debs via dpkg-deb (fuzzer seeds)
#   cpio/  small cpio archives via cpio(1) and rpm2cpio (fuzzer seeds)
# Each build is keyed by a hash of its inputs (spec text + rpmbuild arguments),
# so a run only rebuilds what changed. Concurrent callers serialise on a lock.
# Usage: build-fixtures.sh [--no-sparse]   (skip the slow 5 GiB package)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/fixtures/.cache
mkdir -p "$CACHE/rpm" "$CACHE/rpm-rich" "$CACHE/fuzz-deb" "$CACHE/cpio"
exec 9>"$CACHE/.lock"
flock 9

SPARSE=1
[ "${1:-}" = --no-sparse ] && SPARSE=0

# 2015-01-01T00:00:00Z; buildtime and clamped mtimes come from here
export SOURCE_DATE_EPOCH=1420070400
export TZ=UTC LC_ALL=C.UTF-8
COMMON=(
  --define "_build_id_links none"
  --define "debug_package %{nil}"
  --define "__os_install_post %{nil}"
  --define "use_source_date_epoch_as_buildtime 1"
  --define "clamp_mtime_to_source_date_epoch 1"
  --define "_buildhost weld-fixtures.invalid"
)

log() { echo "build-fixtures: $*" >&2; }

# build_rpm KEYNAME SPEC MODE [extra rpmbuild args...]; into $OUT
OUT=$CACHE/rpm
build_rpm() {
  local name=$1 spec=$2 mode=$3; shift 3
  local stamp="$OUT/.stamp-$name" key
  key=$( { cat "$spec"; printf '%s\n' "$mode" "$@" "${COMMON[@]}"; rpmbuild --version; } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$key" ]; then
    local ok=1 f
    while read -r f; do [ -f "$OUT/$f" ] || ok=0; done < <(tail -n +2 "$stamp")
    [ $ok = 1 ] && return 0
  fi
  # drop what an older version of this spec produced
  if [ -f "$stamp" ]; then
    tail -n +2 "$stamp" | while read -r f; do rm -f "$OUT/$f"; done
    rm -f "$stamp"
  fi
  local top t0
  top=$(mktemp -d "$CACHE/rpmbuild.XXXXXX")
  t0=$(date +%s.%N)
  if ! rpmbuild "$mode" --define "_topdir $top" "${COMMON[@]}" "$@" "$spec" >"$top/build.log" 2>&1; then
    cat "$top/build.log" >&2
    rm -rf "$top"
    log "rpmbuild failed for $spec"
    exit 1
  fi
  local outs=()
  while IFS= read -r -d '' f; do
    mv "$f" "$OUT/"
    outs+=("$(basename "$f")")
  done < <(find "$top/RPMS" "$top/SRPMS" -name '*.rpm' -print0)
  rm -rf "$top"
  { echo "$key"; printf '%s\n' "${outs[@]}"; } > "$stamp"
  log "$name: ${outs[*]} in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?')s"
}

S=fixtures/rpm
build_rpm files "$S/weld-files.spec" -ba
build_rpm scripts "$S/weld-scripts.spec" -bb
build_rpm md5 "$S/weld-md5.spec" -bb
# every payload compressor rpm 4.18 writes
for c in gzip:w9.gzdio xz:w6.xzdio bzip2:w9.bzdio zstd:w19.zstdio lzma:w6.lzdio none:w0.ufdio; do
  build_rpm "payload-${c%%:*}" "$S/weld-payload.spec" -bb \
    --define "weld_comp ${c%%:*}" --define "_binary_payload ${c#*:}"
done
[ $SPARSE = 1 ] && build_rpm sparse "$S/weld-sparse.spec" -bb
OUT=$CACHE/rpm-rich
build_rpm rich-providers "$S/weld-rich-providers.spec" -bb
build_rpm rich-consumers "$S/weld-rich-consumers.spec" -bb
OUT=$CACHE/rpm

# --- fuzzer seeds that are not rpms; keyed by this script's own text -------
SELF_KEY=$(sha256sum "$0" | cut -d' ' -f1)
if [ "$(cat "$CACHE/fuzz-deb/.stamp" 2>/dev/null)" != "$SELF_KEY" ]; then
  rm -f "$CACHE/fuzz-deb/"*.deb
  tmp=$(mktemp -d "$CACHE/fuzz-deb-build.XXXXXX")
  for z in gzip xz zstd none; do
    r=$tmp/$z
    mkdir -p "$r/DEBIAN" "$r/usr/share/weld-deb" "$r/etc/weld-deb"
    cat > "$r/DEBIAN/control" <<CTL
Package: weld-deb-$z
Version: 1:1.0~rc1-2
Architecture: all
Maintainer: weld <weld@example.invalid>
Depends: libc6 (>= 2.36), weld-a | weld-b
Pre-Depends: dpkg (>= 1.19)
Description: weld fixture, $z data member
 A tiny package for the fuzzer.
CTL
    printf 'key=1\n' > "$r/etc/weld-deb/weld.conf"
    echo /etc/weld-deb/weld.conf > "$r/DEBIAN/conffiles"
    printf '#!/bin/sh\nset -e\nldconfig\n' > "$r/DEBIAN/postinst"
    chmod 755 "$r/DEBIAN/postinst"
    printf 'deb %s\n' "$z" > "$r/usr/share/weld-deb/hello.txt"
    seq 1 2000 > "$r/usr/share/weld-deb/numbers.txt"
    ln -s hello.txt "$r/usr/share/weld-deb/link"
    dpkg-deb --root-owner-group -Z"$z" --build "$r" "$CACHE/fuzz-deb/weld-deb-${z}_1.0_all.deb" >/dev/null
  done
  rm -rf "$tmp"
  echo "$SELF_KEY" > "$CACHE/fuzz-deb/.stamp"
fi

if [ "$(cat "$CACHE/cpio/.stamp" 2>/dev/null)" != "$SELF_KEY" ]; then
  rm -f "$CACHE/cpio/"*.cpio
  tmp=$(mktemp -d "$CACHE/cpio-build.XXXXXX")
  mkdir -p "$tmp/t/dir"
  printf 'hello\n' > "$tmp/t/dir/a"
  ln "$tmp/t/dir/a" "$tmp/t/dir/a-link"
  ln -s a "$tmp/t/dir/sym"
  seq 1 300 > "$tmp/t/numbers"
  : > "$tmp/t/empty"
  (cd "$tmp/t" && find . | sort | cpio --quiet -o -H newc --reproducible > "$CACHE/cpio/tree-newc.cpio")
  (cd "$tmp/t" && find . | sort | cpio --quiet -o -H crc --reproducible > "$CACHE/cpio/tree-crc.cpio")
  rm -rf "$tmp"
  rpm2cpio "$CACHE/rpm/weld-payload-none-0.1-1.noarch.rpm" > "$CACHE/cpio/weld-payload.cpio"
  rpm2cpio "$CACHE/rpm/weld-md5-0.1-1.noarch.rpm" > "$CACHE/cpio/weld-md5.cpio"
  echo "$SELF_KEY" > "$CACHE/cpio/.stamp"
fi
