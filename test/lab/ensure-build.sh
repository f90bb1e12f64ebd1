#!/usr/bin/env bash
# Build dist/ when it is missing or older than src/ (host side; the VM only runs it).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
[[ -d src ]] || exit 0
if [[ -f dist/cli.js ]] && [[ -z "$(find src -newer dist/cli.js -type f -print -quit)" ]]; then
  exit 0
fi
[[ -d node_modules ]] || npm ci --no-audit --no-fund >&2
echo "lab: building dist/ (npm run build)" >&2
npm run build >&2
[[ -f dist/cli.js ]] || { echo "lab: npm run build did not produce dist/cli.js" >&2; exit 1; }
