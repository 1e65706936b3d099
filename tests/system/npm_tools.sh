#!/usr/bin/env bash
# Installs the npm packages pinned by DIR/package.json and DIR/package-lock.json (`npm ci`) into
# a cache folder keyed by the lock file's hash, and prints that folder. A second call with the
# same lock reuses it, so CI pays for the download once. Node and npm are needed for the tests
# that use these tools only, never to build or run opcoord.
# Usage: tests/system/npm_tools.sh DIR   (cache root: $OPCOORD_TOOLS_CACHE, default target/npm)
set -euo pipefail
src=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${OPCOORD_TOOLS_CACHE:-$root/target/npm}
key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
dest="$cache/$(basename "$src")-$key"
if [ ! -f "$dest/.installed" ]; then
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$dest/.installed"
fi
echo "$dest"
