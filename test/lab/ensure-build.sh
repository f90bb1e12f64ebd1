#!/usr/bin/env bash
# Build dist/ when it is missing or older than src/, and the lab's bundled Kubernetes API double
# (.lab-build/kube-double-server.mjs) when it is missing or older than what it is made of
# (host side; the VM only runs them).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
[[ -d src ]] || exit 0
if [[ ! -f dist/cli.cjs ]] || [[ -n "$(find src -newer dist/cli.cjs -type f -print -quit)" ]]; then
  [[ -d node_modules ]] || npm ci --no-audit --no-fund >&2
  echo "lab: building dist/ (npm run build)" >&2
  npm run build >&2
  [[ -f dist/cli.cjs ]] || { echo "lab: npm run build did not produce dist/cli.cjs" >&2; exit 1; }
fi
double=.lab-build/kube-double-server.mjs
if [[ ! -f "$double" ]] || [[ -n "$(find src scripts test/unit test/support test/lab/guest/kube-double-server.ts test/lab/bundle-double.mjs package-lock.json -newer "$double" -type f -print -quit)" ]]; then
  [[ -d node_modules ]] || npm ci --no-audit --no-fund >&2
  node test/lab/bundle-double.mjs
fi
