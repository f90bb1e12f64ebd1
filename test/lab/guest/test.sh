# Guest side of test/lab/test.sh: build the topology, run the test files in NCLAB_LANES lanes at once.
# Each lane has its own app namespace (NCLAB_APP_NS: app, app2, app3; see topology.sh), target process and
# addresses; the deps B, C, D are shared and only read. Files that change state shared by the whole VM stay in
# one lane, one after the other: 192.0.2.1 on br0 and its DNS (deps, deps-litmus, refresh, litmus-probes),
# `netchaos sweep`, which scans every namespace and removes expired trees (deadman, safety-more).
# Within a lane the files run one at a time (one `node --test` each: a start/end line per file with its time).
# Each lane's report is written to $NCLAB_OUT/lane-<ns>.log and printed whole when the lane ends.
# Arguments go to every `node --test` (e.g. --test-name-pattern); NCLAB_FILES=<name>,… runs only these files.
set -u
T0=$(date +%s)
stamp() { echo "lab-time: +$(( $(date +%s) - T0 )) s $*"; }
# The lane's Kubernetes API double server (lib.mjs's startApiDouble starts it in the first file that needs one and
# waits ~11-16 s for it under TCG): with one lane it starts here, while the topology is built (mostly one core
# running `ip`; the server's start is one node process on the other), and the lane waits until it listens, so that it
# never runs beside a scenario. Only when a selected file uses it and the bundle exists (else lib.mjs starts it).
DOUBLE_FILES=",litmus,litmus-probes,litmus-live,deps,deps-litmus,"
double_pid=
if [[ "${NCLAB_LANES:-1}" == 1 && -f "$NCLAB_REPO/.lab-build/kube-double-server.mjs" ]]; then
  want=
  if [[ -z "${NCLAB_FILES:-}" ]]; then want=1; else
    IFS=, read -ra sel <<< "$NCLAB_FILES"
    for f in "${sel[@]}"; do [[ "$DOUBLE_FILES" == *",$f,"* ]] && want=1; done
  fi
  if [[ -n "$want" ]]; then
    # lib.mjs's API_DOUBLE_CONTROL and API_DOUBLE_PID are in this directory.
    ddir=/run/nclab-api-double-app
    mkdir -p "$ddir"
    rm -f "$ddir/control.sock"
    # Not a child of this script (its `wait` below would wait for it): the inner bash starts it and exits.
    bash -c 'cd "$1" && exec node "$1/.lab-build/kube-double-server.mjs" --serve "$2" >> "$3" 2>&1 < /dev/null & echo $!' \
      _ "$NCLAB_REPO" "$ddir/control.sock" "$NCLAB_OUT/api-double-app.log" > "$ddir/server.pid"
    double_pid=$(cat "$ddir/server.pid")
  fi
fi
bash "$NCLAB_LAB/guest/topology.sh" || exit 1
stamp "topology ready"
if [[ -n "$double_pid" ]]; then
  # Bundled it was READY 11-16 s after its start under TCG; 300 s (lib.mjs's bound too) is more than twice that.
  for (( i = 0; i < 1500; i++ )); do
    [[ -S "$ddir/control.sock" ]] && break
    kill -0 "$double_pid" 2>/dev/null || break
    sleep 0.2
  done
  if [[ -S "$ddir/control.sock" ]]; then stamp "API double server listening (started beside the topology)"
  else stamp "API double server not listening (see api-double-app.log); the first file that needs it starts one"; kill "$double_pid" 2>/dev/null; rm -f "$ddir/server.pid"; fi
fi

lane() {
  local ns="$1"; shift
  local log="$NCLAB_OUT/lane-$ns.log" rc=0 r t f
  : > "$log"
  for f in "$@"; do
    # NCLAB_FILES=lab,litmus: only these files (a --test-name-pattern still runs every file's before hook).
    [[ -z "${NCLAB_FILES:-}" || ",${NCLAB_FILES}," == *",${f%.test.mjs},"* ]] || continue
    t=$(date +%s)
    echo "lab-time: +$(( t - T0 )) s lane $ns: start $f" >> "$log"
    NCLAB_APP_NS="$ns" node --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "${ARGS[@]}" \
      "$NCLAB_LAB/guest/$f" >> "$log" 2>&1
    r=$?
    [[ $r -eq 0 ]] || rc=$r
    echo "lab-time: +$(( $(date +%s) - T0 )) s lane $ns: end $f after $(( $(date +%s) - t )) s (exit $r)" >> "$log"
  done
  echo "$rc" > "$NCLAB_OUT/lane-$ns.rc"
}
ARGS=("$@")
# NCLAB_LANES: how many lanes run at once (1, 2 or 3; default 1). More lanes share the VM's two vCPUs: on a
# loaded 2-core host 3 lanes doubled every scenario's time and broke timing checks (see test/lab/README.md).
case "${NCLAB_LANES:-1}" in
  1) LANES=(app)
     lane app lab.test.mjs litmus.test.mjs litmus-probes.test.mjs litmus-live.test.mjs deadman.test.mjs refresh.test.mjs \
       ingress-effect.test.mjs deps.test.mjs deps-litmus.test.mjs safety-abort.test.mjs safety-own.test.mjs safety-more.test.mjs & ;;
  2) LANES=(app app2)
     lane app deadman.test.mjs safety-more.test.mjs deps.test.mjs deps-litmus.test.mjs refresh.test.mjs litmus-probes.test.mjs \
       safety-abort.test.mjs safety-own.test.mjs &
     lane app2 lab.test.mjs litmus.test.mjs litmus-live.test.mjs ingress-effect.test.mjs & ;;
  3) LANES=(app app2 app3)
     lane app deadman.test.mjs safety-more.test.mjs deps.test.mjs deps-litmus.test.mjs refresh.test.mjs litmus-probes.test.mjs &
     lane app2 lab.test.mjs litmus.test.mjs litmus-live.test.mjs &
     lane app3 ingress-effect.test.mjs safety-own.test.mjs safety-abort.test.mjs & ;;
  *) echo "NCLAB_LANES=${NCLAB_LANES}: must be 1, 2 or 3" >&2; exit 2 ;;
esac
# Print each lane's report whole as soon as it ends (in the order they end).
printed=()
while (( ${#printed[@]} < ${#LANES[@]} )); do
  for ns in "${LANES[@]}"; do
    [[ -f "$NCLAB_OUT/lane-$ns.rc" && " ${printed[*]} " != *" $ns "* ]] || continue
    echo "lab-lane: ======== lane $ns (exit $(cat "$NCLAB_OUT/lane-$ns.rc")), ended at +$(( $(date +%s) - T0 )) s ========"
    cat "$NCLAB_OUT/lane-$ns.log"
    printed+=("$ns")
  done
  sleep 1
done
wait
stamp "all lanes done"
# The lanes' API double servers (started by the first file that needed one; lib.mjs's startApiDouble).
for ns in "${LANES[@]}"; do
  f="/run/nclab-api-double-$ns/server.pid"
  [[ -f "$f" ]] && kill "$(cat "$f")" 2>/dev/null
done
rc=0
for ns in "${LANES[@]}"; do r=$(cat "$NCLAB_OUT/lane-$ns.rc"); [[ $r -eq 0 ]] || rc=$r; done
# One summary of all lanes (node's per-file summaries added up), the last lines run.sh relays.
cat "$NCLAB_OUT"/lane-*.log | awk '/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) [0-9]+$/ { n[$2] += $3 }
  END { split("tests suites pass fail cancelled skipped todo", k, " "); for (i = 1; i <= 7; i++) printf "ℹ %s %d\n", k[i], n[k[i]] }'
echo "ℹ duration_ms $(( ($(date +%s) - T0) * 1000 ))"
exit "$rc"
