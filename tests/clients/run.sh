#!/usr/bin/env bash
# Runs the client scenario with the TypeScript and Rust clients that tests/clients/build.sh made,
# against a running opcoord. Usage: tests/clients/run.sh BASE_URL SECRETARIAT_TOKEN
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/clients
status=0
node "$out/typescript/dist/scenario.js" "$1" "$2" || status=1
"$out/rust/debug/opcoord-client-scenario" "$1" "$2" || status=1
exit $status
