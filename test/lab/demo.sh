#!/usr/bin/env bash
# `npm run demo`: boot the lab VM and show a 100 ms injection toward one dependency.
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$LAB_DIR/ensure-build.sh"
exec "$LAB_DIR/run.sh" "$LAB_DIR/guest/demo.mjs"
