#!/usr/bin/env bash
# Build the lab topology inside the VM (never run this on a real host: it
# creates namespaces and a bridge in the current network namespace).
#
#   app    192.0.2.10/24  2001:db8::10/64   target: `sleep infinity`;
#                                            control server on 127.0.0.1:7070
#   app2   192.0.2.20     2001:db8::20      the same, for the second lane of test files (guest/test.sh),
#   app3   192.0.2.30     2001:db8::30      the third: built when NCLAB_LANES (or NCLAB_APP_NS) asks for them
#   dep-b  192.0.2.11     2001:db8::11      echo servers on 8080 and 9090
#   dep-c  192.0.2.12     2001:db8::12      "
#   dep-d  192.0.2.13     2001:db8::13      "
# all joined by the bridge br0 through veth pairs (eth0 inside each ns).
# Writes the targets' PIDs to $NCLAB_OUT/target.pid (app), target-app2.pid, target-app3.pid; then
# topology-<n>.done (n lanes). Idempotent.
set -euo pipefail
LAB_GUEST="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${NCLAB_OUT:?NCLAB_OUT must be set}"

[[ "$(hostname)" == netchaos-lab ]] || { echo "topology: refusing to run outside the lab VM (hostname $(hostname))" >&2; exit 1; }

lanes="${NCLAB_LANES:-1}"
case "${NCLAB_APP_NS:-app}" in app2) (( lanes >= 2 )) || lanes=2 ;; app3) lanes=3 ;; esac
[[ "$lanes" =~ ^[123]$ ]] || { echo "topology: NCLAB_LANES=$lanes: must be 1, 2 or 3" >&2; exit 2; }
APPS=(app app2 app3); APPS=("${APPS[@]:0:$lanes}")
for n in 3 2 1; do
  (( n >= lanes )) || continue
  if [[ -f "$OUT/topology-$n.done" ]] && kill -0 "$(cat "$OUT/target.pid")" 2>/dev/null; then exit 0; fi
done
[[ -f "$OUT/target.pid" ]] && kill -0 "$(cat "$OUT/target.pid")" 2>/dev/null && {
  echo "topology: built for fewer lanes than NCLAB_LANES=$lanes / NCLAB_APP_NS=${NCLAB_APP_NS:-app} need; start again" >&2; exit 1; }

sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
ip link set br0 up

declare -A SUFFIX=([app]=10 [app2]=20 [app3]=30 [dep-b]=11 [dep-c]=12 [dep-d]=13)
for ns in "${APPS[@]}" dep-b dep-c dep-d; do
  n=${SUFFIX[$ns]}
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip link add "v-$ns" type veth peer name eth0 netns "$ns"
  ip link set "v-$ns" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "192.0.2.$n/24" dev eth0
  ip -n "$ns" addr add "2001:db8::$n/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
done

for ns in dep-b dep-c dep-d; do
  ip netns exec "$ns" setsid node "$LAB_GUEST/echo-server.mjs" 8080 9090 \
    >"$OUT/echo-$ns.log" 2>&1 </dev/null &
done
# A loopback-only control server inside app: connects to 127.0.0.1:7070 never
# cross eth0, so they measure the VM's (noisy, emulated) CPU drift only.
for ns in "${APPS[@]}"; do
  ip netns exec "$ns" setsid node "$LAB_GUEST/echo-server.mjs" 7070 >"$OUT/echo-$ns.log" 2>&1 </dev/null &
done
# The targets.
for ns in "${APPS[@]}"; do
  ip netns exec "$ns" setsid sleep infinity </dev/null >/dev/null 2>&1 &
  if [[ $ns == app ]]; then echo $! > "$OUT/target.pid"; else echo $! > "$OUT/target-$ns.pid"; fi
done

# Wait until every server answers on v4 and v6 (node starts slowly under TCG).
up() {
  ip netns exec app node "$LAB_GUEST/probe.mjs" tcp --count 1 --timeout 1000 --quiet \
    127.0.0.1:7070 192.0.2.11:8080 192.0.2.12:8080 192.0.2.13:8080 192.0.2.11:9090 192.0.2.12:9090 192.0.2.13:9090 \
    '[2001:db8::11]:8080' '[2001:db8::12]:8080' '[2001:db8::13]:8080' 2>/dev/null || return 1
  for ns in "${APPS[@]:1}"; do
    ip netns exec "$ns" node "$LAB_GUEST/probe.mjs" tcp --count 1 --timeout 1000 --quiet 127.0.0.1:7070 2>/dev/null || return 1
  done
}
for i in $(seq 1 120); do
  if up; then
    echo "$lanes" > "$OUT/topology-$lanes.done"
    exit 0
  fi
  sleep 0.5
done
echo "topology: echo servers did not come up; logs:" >&2
cat "$OUT"/echo-*.log >&2
exit 1
