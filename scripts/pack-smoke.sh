#!/usr/bin/env bash
# What the image's install stage does, without Docker: `npm pack` the project, unpack the tarball into an
# empty folder, install only the production dependencies pinned by package-lock.json (`npm ci --omit=dev`),
# then run the installed `netchaos --help` and `netchaos plan` from there. Fails when `files` in
# package.json misses something the program needs at run time, or when a devDependency is imported.
# Needs the npm registry (or a warm npm cache). Usage: scripts/pack-smoke.sh   (from anywhere)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"

[[ -f dist/cli.cjs ]] || { echo "pack-smoke: building dist/ (npm run build)"; npm run build --silent; }
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "pack-smoke: packed $tarball ($(du -h "$work/$tarball" | cut -f1)):"
tar -tzf "$work/$tarball" | sed 's/^/  /'
if tar -tzf "$work/$tarball" | grep -qE '^package/(src|test|scripts|experiments)/|\.map$'; then
  echo "pack-smoke: the tarball ships sources, tests or source maps: check \"files\" in package.json" >&2
  exit 1
fi

mkdir "$work/app"
tar -xzf "$work/$tarball" -C "$work/app" --strip-components=1
cp package-lock.json "$work/app/"
(cd "$work/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
chmod +x "$work/app/dist/cli.cjs"
# Every file the bundles require from dist/ (the commands, the vendor libraries) is in the tarball, and the vendor
# files give what the commands take from them (the commands below load none of them: ajv, yaml and the Kubernetes
# client are for Litmus runs and pod/Service dependencies, execa for commands that exec).
# Any "./<file>.cjs" the bundles name: require("./…") and src/host/log.ts's createRequire load of pino alike.
for f in $(grep -oh '"\./[A-Za-z0-9_.-]*\.cjs"' "$work/app/dist/"*.cjs | sort -u | tr -d '"' | sed 's/^\.\///'); do
  [[ -f "$work/app/dist/$f" ]] || { echo "pack-smoke: dist/$f is required by the bundle but not in the tarball" >&2; exit 1; }
done
node -e 'const d = process.argv[1]; const { Ajv } = require(`${d}/vendor-ajv.cjs`); const { parse } = require(`${d}/vendor-yaml.cjs`);
  const { execa } = require(`${d}/vendor-execa.cjs`); const { KubeConfig, CoreV1Api } = require(`${d}/vendor-kube.cjs`);
  const { pino } = require(`${d}/vendor-pino.cjs`);
  const kc = new KubeConfig(); kc.loadFromOptions({ clusters: [{ name: "c", server: "https://192.0.2.1:6443" }], users: [{ name: "u" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
  if (typeof kc.makeApiClient(CoreV1Api).listNamespacedPod !== "function") process.exit(1);
  if (new Ajv().compile({ type: "integer" })(3) !== true || parse("a: 1").a !== 1 || typeof pino.destination !== "function") process.exit(1);
  execa("true").then((r) => { if (r.exitCode !== 0) process.exit(1); }, () => process.exit(1));' "$work/app/dist" \
  || { echo "pack-smoke: a vendor file (dist/vendor-ajv.cjs, vendor-yaml.cjs, vendor-execa.cjs, vendor-kube.cjs, vendor-pino.cjs) does not work" >&2; exit 1; }
mkdir "$work/bin"
ln -s "$work/app/dist/cli.cjs" "$work/bin/netchaos"

# Run with a clean environment and from an unrelated folder, like the image does.
run() { (cd "$work" && env -i PATH="$work/bin:$PATH" HOME="$work" netchaos "$@"); }
help="$(run --help)"
grep -q 'Usage: netchaos' <<<"$help" || { echo "pack-smoke: unexpected --help output:" >&2; echo "$help" >&2; exit 1; }
plan="$(run plan --destination-ips 192.0.2.10 --latency 100)"
grep -q 'qdisc add dev eth0 root' <<<"$plan" || { echo "pack-smoke: unexpected plan output:" >&2; echo "$plan" >&2; exit 1; }
run plan --output json --destination-ips 2001:db8::10 --latency 50 >/dev/null
# `revert` has a file of its own (dist/cli-revert.cjs): bad input is refused there, exit 2, before anything runs.
set +e; out="$(run revert --pid abc 2>&1)"; rc=$?; set -e
[[ $rc == 2 ]] && grep -q -- '--pid: expected a process id' <<<"$out" || { echo "pack-smoke: unexpected revert output (exit $rc):" >&2; echo "$out" >&2; exit 1; }
echo "pack-smoke: ok: $(cd "$work/app" && du -sh . | cut -f1) installed; --help, plan and revert's input check work from the packed tarball with production dependencies only"
