#!/usr/bin/env bash
# Builds weld's native helper (unshare/mount/pivot_root/exec) into the cache; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
node --input-type=module -e "import('./dist/views/native.js').then((m) => console.log(m.helperPath()))"
