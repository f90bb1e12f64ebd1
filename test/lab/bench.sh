#!/usr/bin/env bash
# `npm run bench`: the host figures (start-up, the planner at 10k; test/lab/host-bench.mjs), then one
# VM boot measuring apply/revert times, RTT impact and RSS; writes bench/results.json,
# bench/results.md and bench/apply-time.svg.
set -euo pipefail
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LAB_DIR/../.." && pwd)"
"$LAB_DIR/ensure-build.sh"
log="$(mktemp)"
host="$(mktemp --suffix=.json)"
trap 'rm -f "$log" "$host"' EXIT
# Before the VM boots: qemu would take one of the cores.
node "$LAB_DIR/host-bench.mjs" "$host"
set +e
"$LAB_DIR/run.sh" "$LAB_DIR/guest/bench.mjs" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[[ $rc == 0 ]] || { echo "bench: the VM run failed (exit $rc)" >&2; exit "$rc"; }
out="$(sed -n 's/^lab: booting VM .*output in \(.*\)$/\1/p' "$log" | tail -n1)"
[[ -f "$REPO/$out/bench.json" ]] || { echo "bench: no bench.json in $out" >&2; exit 1; }
cp "$host" "$REPO/$out/host.json"
node "$LAB_DIR/render-bench.mjs" "$REPO/$out/bench.json" "$REPO/bench" "$REPO/$out/host.json"
