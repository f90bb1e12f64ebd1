#!/usr/bin/env bash
# `npm run test:lab`: all real-kernel scenarios in ONE VM boot.
# Extra arguments go to node's test runner inside the VM, e.g.
#   test/lab/test.sh --test-name-pattern='^5\.'
# Ends with every scenario's duration (slowest first) and the total (test/lab/durations.mjs).
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LAB_DIR/../.." && pwd)"
"$LAB_DIR/ensure-build.sh"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
"$LAB_DIR/run.sh" "$LAB_DIR/guest/test.sh" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
out="$(sed -n 's/^lab: booting VM .*output in \(.*\)$/\1/p' "$log" | tail -n1)"
wall="$(sed -n 's/^lab: guest exited with code [0-9]* after \([0-9]*\) s.*$/\1/p' "$log" | tail -n1)"
if [[ -n "$out" && -f "$REPO/$out/console.log" ]]; then
  node "$LAB_DIR/durations.mjs" "$REPO/$out" ${wall:+"$wall"} || true
fi
exit "$rc"
