#!/usr/bin/env bash
# Generates and compiles the TypeScript and Rust clients from the committed openapi/openapi.json,
# with no hand-written glue, into target/clients:
# - TypeScript: types by openapi-typescript, calls through openapi-fetch, tests/clients/typescript/
#   scenario.ts type-checked and compiled by `tsc --strict` (npm packages pinned by its lock file);
# - Rust: progenitor's generate_api! in tests/clients/rust (its own package, lock and target folder).
# Both are skipped when nothing they are made from has changed. Run them with tests/clients/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=$root/target/clients
mkdir -p "$out"

ts=$out/typescript
stamp=$(cat openapi/openapi.json tests/clients/typescript/{package.json,package-lock.json,tsconfig.json,scenario.ts} | sha256sum)
if [ "$(cat "$ts/.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "==> TypeScript client: openapi-typescript, tsc --strict"
  tools=$(bash tests/system/npm_tools.sh tests/clients/typescript)
  rm -rf "$ts"
  mkdir -p "$ts"
  cp tests/clients/typescript/{package.json,tsconfig.json,scenario.ts} "$ts/"
  ln -s "$tools/node_modules" "$ts/node_modules"
  (cd "$ts" && REDOCLY_TELEMETRY=off node_modules/.bin/openapi-typescript "$root/openapi/openapi.json" -o opcoord.d.ts \
    && node_modules/.bin/tsc -p tsconfig.json)
  echo "$stamp" > "$ts/.stamp"
fi

echo "==> Rust client: progenitor"
CARGO_TARGET_DIR=$out/rust cargo build --quiet --locked --manifest-path tests/clients/rust/Cargo.toml
