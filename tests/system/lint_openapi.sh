#!/usr/bin/env bash
# Lints the committed openapi/openapi.json as third-party tool authors do: Redocly CLI with its
# recommended rules (.redocly.yaml) and Spectral with spectral:oas (.spectral.yaml). Any error
# or warning of either fails. The linters are npm packages pinned in tests/system/openapi-lint.
# Usage: tests/system/lint_openapi.sh [DOCUMENT]
set -euo pipefail
cd "$(dirname "$0")/../.."
document=${1:-openapi/openapi.json}
tools=$(bash tests/system/npm_tools.sh tests/system/openapi-lint)
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
status=0

echo "==> Redocly CLI $("$tools/node_modules/.bin/redocly" --version 2>/dev/null) (recommended rules, .redocly.yaml)"
"$tools/node_modules/.bin/redocly" lint --config .redocly.yaml --format json "$document" 2>/dev/null \
  | node -e '
      let input = ""; process.stdin.on("data", d => input += d).on("end", () => {
        const t = JSON.parse(input).totals;
        console.log(`${t.errors} errors, ${t.warnings} warnings`);
        process.exit(t.errors + t.warnings === 0 ? 0 : 1);
      });' || {
  # Again, readable, to say what and where.
  "$tools/node_modules/.bin/redocly" lint --config .redocly.yaml --format stylish "$document" 2>&1 | grep -v '[╔║╚]' >&2 || true
  status=1
}

echo "==> Spectral $("$tools/node_modules/.bin/spectral" --version) (spectral:oas, .spectral.yaml)"
"$tools/node_modules/.bin/spectral" lint --ruleset .spectral.yaml --fail-severity hint "$document" || status=1
exit $status
