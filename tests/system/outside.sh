#!/usr/bin/env bash
# The API seen from outside, against a served demo operation:
# 1. schemathesis with a secretariat token and with a national unit's token, checking every
#    operation of the committed openapi/openapi.json for server errors and for status codes,
#    content types and bodies that the document does not declare;
# 2. a client generated from the same document by openapi-python-client, driven through a real
#    scenario (tests/system/client_scenario.py) with no hand-written HTTP;
# 3. the same scenario with a TypeScript client (openapi-typescript + openapi-fetch, tsc --strict)
#    and a Rust client (progenitor), generated from the same document (tests/clients: built once,
#    reused while the document and the scenarios are unchanged).
# Usage: tests/system/outside.sh [DATABASE_URL] (default: a SQLite file in a temporary folder).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=${OPCOORD_BIN:-$root/target/debug/opcoord}
examples=${FUZZ_EXAMPLES:-25}
work=$(mktemp -d)
export DATABASE_URL=${1:-$work/fuzz.db}
export OPCOORD_DATA_DIR=$work/data
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$work"
"$bin" serve --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
  sleep 0.2
done
eval "$("$bin" demo 2>/dev/null)"
admin=$("$bin" token issue --sub fuzz-secretariat --countries '*' --ops '*' --ttl 1h \
  --scope "operations:read operations:write units:write interceptions:read interceptions:write tallies:read tallies:write audit:read tokens:issue releases:read releases:write reporting:write reporting:approve" 2>/dev/null)
export OPCOORD_FUZZ_UNIT_ID=$(curl -sf "http://127.0.0.1:$port/v1/operations/demo-liberterra-iii/units?country=SN" \
  -H "authorization: Bearer $admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
# A token of its own to revoke, so the revoke operation has a real target.
export OPCOORD_FUZZ_JTI=$("$bin" token issue --sub fuzz-victim --countries SN --ops demo-liberterra-iii --ttl 1h \
  --scope operations:read 2>&1 >/dev/null | sed -n 's/^token \([^ ]*\) for.*/\1/p')
status=0
for who in secretariat national; do
  token=$admin
  [ "$who" = national ] && token=$NATIONAL_TOKEN
  echo "==> schemathesis as the $who ($DATABASE_URL)"
  schemathesis --config-file "$root/tests/system/schemathesis.toml" run "$root/openapi/openapi.json" \
    --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 20251125 --workers 2 --no-color || status=1
done
echo "==> a generated client drives a scenario"
openapi-python-client generate --path "$root/openapi/openapi.json" --meta none --output-path "$work/client/opcoord_client" > "$work/generate.log" 2>&1 \
  || { cat "$work/generate.log" >&2; exit 1; }
if grep -qi "warning\|error" "$work/generate.log"; then
  echo "openapi-python-client complained about the document:" >&2
  cat "$work/generate.log" >&2
  status=1
fi
PYTHONPATH="$work/client" python3 "$root/tests/system/client_scenario.py" "http://127.0.0.1:$port" "$admin" || status=1
echo "==> TypeScript and Rust clients drive the same scenario"
bash "$root/tests/clients/build.sh" && bash "$root/tests/clients/run.sh" "http://127.0.0.1:$port" "$admin" || status=1
if grep -q " 500 \| 503 " "$work/serve.log"; then
  echo "the server answered 5xx:" >&2
  grep " 500 \| 503 " "$work/serve.log" | head -5 >&2
  status=1
fi
exit $status
