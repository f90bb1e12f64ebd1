#!/usr/bin/env bash
# `npm run test:lab`: all real-kernel scenarios in ONE VM boot.
# Extra arguments go to node's test runner inside the VM, e.g.
#   test/lab/test.sh --test-name-pattern='^5\.'
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$LAB_DIR/ensure-build.sh"
exec "$LAB_DIR/run.sh" "$LAB_DIR/guest/test.sh" "$@"
