# syntax=docker/dockerfile:1
# netchaos image: the `netchaos` CLI with Node 24 LTS, tc and ip (iproute2), nsenter (util-linux), ping
# (iputils) and crictl, on nothing else: no shell, no package manager, no npm (about 80 MB to pull).
#   docker build -t <registry>/netchaos:$(node -p 'require("./package.json").version') .
# Base: Debian 12 "bookworm" slim with Node (the iproute2 6.1 the lab suite runs against; glibc for
# Node). Pin it by digest in your registry mirror: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:…
# `npm run image` (scripts/image.sh) builds this file with buildah and runs the result under runc.
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript with the full toolchain, then pack exactly what `npm publish` would ship.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build \
 && npm pack --silent --pack-destination /tmp \
 && mv /tmp/netchaos-*.tgz /tmp/netchaos.tgz

# 2. Install the packed tarball with production dependencies only, pinned by the lockfile
#    (scripts/pack-smoke.sh runs the same steps in CI, without Docker). dist/ holds esbuild bundles with
#    every dependency inside (the Kubernetes client too, since 2026-12-01); node_modules is not loaded at
#    run time and stays so that image scanners see the npm packages and versions the bundles contain. Type
#    declarations and source maps are dropped (about 35 MB).
FROM ${NODE_IMAGE} AS install
WORKDIR /opt/netchaos
COPY --from=build /tmp/netchaos.tgz /tmp/netchaos.tgz
COPY package-lock.json ./
RUN tar -xzf /tmp/netchaos.tgz --strip-components=1 \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete \
 && chmod 0755 dist/cli.cjs \
 && rm -f /tmp/netchaos.tgz package-lock.json

# 3. crictl, one pinned version, verified by sha256 (checksums of the release tarballs, per arch).
#    CRICTL_BASE_URL: a mirror with the same layout (<base>/<version>/crictl-<version>-linux-<arch>.tar.gz)
#    for builds that cannot reach GitHub; the checksum is checked all the same.
FROM ${NODE_IMAGE} AS crictl
ARG TARGETARCH=amd64
ARG CRICTL_VERSION=v1.35.0
ARG CRICTL_BASE_URL=https://github.com/kubernetes-sigs/cri-tools/releases/download
ARG CRICTL_SHA256_AMD64=2e141e5b22cb189c40365a11807d69b76b9b3caced89fac2f4ec879408ce2177
ARG CRICTL_SHA256_ARM64=519071de89b64c43e2a1661bb5489c6c3fd5e9e5fcef75e50e542b0c891f1118
ADD ${CRICTL_BASE_URL}/${CRICTL_VERSION}/crictl-${CRICTL_VERSION}-linux-${TARGETARCH}.tar.gz /tmp/crictl.tar.gz
RUN set -eu; \
    case "${TARGETARCH}" in \
      amd64) sum="${CRICTL_SHA256_AMD64}" ;; \
      arm64) sum="${CRICTL_SHA256_ARM64}" ;; \
      *) echo "no crictl checksum for ${TARGETARCH}: pass --build-arg CRICTL_SHA256_<ARCH>" >&2; exit 1 ;; \
    esac; \
    echo "${sum}  /tmp/crictl.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/crictl.tar.gz -C /usr/local/bin crictl

# 4. The run-time file system, assembled in /rootfs from this Debian: node, tc, ip, nsenter, ping,
#    crictl and env (for cli.cjs's `#!/usr/bin/env node`), each with the shared libraries `ldd` lists, tc's delay distribution tables, /etc/iproute2,
#    the Debian copyright files and package records of what is copied (status.d, as distroless
#    images do, so image scanners see the Debian packages and versions), and netchaos.
#    iputils-ping: MEASURE_EFFECT pings dependencies that have no port. Copied without its file
#    capability (cap_net_raw): as uid 0 it gets what the pod grants (NET_RAW in experiment.yaml; without
#    it, the target's net.ipv4.ping_group_range must include gid 0), and a file capability outside the
#    pod's bounding set makes the kernel refuse to start ping at all ("ping: Operation not permitted",
#    seen in a build without NET_RAW).
FROM ${NODE_IMAGE} AS rootfs
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 util-linux iputils-ping \
 && rm -rf /var/lib/apt/lists/*
COPY --from=crictl /usr/local/bin/crictl /usr/local/bin/crictl
COPY --from=install /opt/netchaos /rootfs/opt/netchaos
# copy FILE…: each FILE into /rootfs at its canonical place (Debian 12 has merged /usr: /lib -> usr/lib),
# following each symlink to its end, so every link in the chain is there too.
RUN set -eu; \
    r=/rootfs; \
    copy() { \
      for f in "$@"; do \
        p="$f"; \
        while :; do \
          dir="$(readlink -f "$(dirname "$p")")"; p="$dir/$(basename "$p")"; \
          mkdir -p "$r$dir"; cp -d --preserve=mode,timestamps "$p" "$r$p"; \
          [ -L "$p" ] || break; \
          t="$(readlink "$p")"; case "$t" in /*) p="$t" ;; *) p="$dir/$t" ;; esac; \
        done; \
      done; \
    }; \
    for d in bin sbin lib lib64; do if [ -L "/$d" ]; then mkdir -p "$r/usr/$d"; ln -s "usr/$d" "$r/$d"; fi; done; \
    mkdir -p "$r/etc" "$r/tmp" "$r/root" "$r/var/lib/dpkg/status.d"; chmod 1777 "$r/tmp"; chmod 0700 "$r/root"; \
    for b in /usr/local/bin/node /usr/sbin/tc /usr/bin/ip /usr/bin/nsenter /usr/bin/ping /usr/local/bin/crictl /usr/bin/env; do \
      copy "$b"; \
      if ldd "$b" >/dev/null 2>&1; then copy $(ldd "$b" | grep -o '/[^ ]*'); fi; \
    done; \
    copy $(dpkg -L iproute2 | grep '/tc/[a-z]*\.dist$'); \
    cp -a /etc/iproute2 /etc/nsswitch.conf "$r/etc/"; \
    grep '^root:' /etc/passwd > "$r/etc/passwd"; grep '^root:' /etc/group > "$r/etc/group"; \
    ln -s /opt/netchaos/dist/cli.cjs "$r/usr/local/bin/netchaos"; \
    owner() { dpkg -S "$1" 2>/dev/null || dpkg -S "${1#/usr}" 2>/dev/null || true; }; \
    pkgs="$(find "$r/usr" "$r/etc" ! -type d ! -path "$r/usr/local/*" | while read -r f; do owner "${f#"$r"}"; done \
            | cut -d: -f1 | sort -u)"; \
    for p in $pkgs; do \
      dpkg-query -s "$p" > "$r/var/lib/dpkg/status.d/$p"; \
      if [ -f "/usr/share/doc/$p/copyright" ]; then mkdir -p "$r/usr/share/doc/$p"; cp "/usr/share/doc/$p/copyright" "$r/usr/share/doc/$p/"; fi; \
    done; \
    echo "Debian packages in the image: $(echo $pkgs)"; \
    for c in "netchaos --version" "tc -V" "ip -V" "nsenter --version" "ping -V" "crictl --version"; do \
      PATH=/usr/local/bin:/usr/sbin:/usr/bin chroot "$r" $c; \
    done

# 5. Run: one layer, the file system above. No shell around the entrypoint.
FROM scratch
ARG CRICTL_VERSION=v1.35.0
LABEL org.opencontainers.image.title="netchaos" \
      org.opencontainers.image.description="Per-dependency network faults for Kubernetes pods (Litmus fault pod-dependency-latency)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.netchaos.crictl.version="${CRICTL_VERSION}"
COPY --from=rootfs /rootfs /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production
# Root, with only the capabilities the pod spec adds (experiment.yaml): entering another process's
# network namespace needs uid 0 plus those; a non-root uid would lose them on exec.
USER 0
WORKDIR /
# Exec form, no init: with hostPID (experiment.yaml) node shares the node's PID namespace; without it
# (a helper runner under HELPER_MODE=always) node is PID 1, which the kernel gives no default signal
# actions, but netchaos installs its own SIGTERM/SIGINT handlers, so `kubectl delete`/engineState=stop
# still reaches the revert. It forks only short-lived children it waits for (nsenter, tc, crictl) and
# the detached dead-man watchdog (DEADMAN=process), which it does not wait for.
STOPSIGNAL SIGTERM
ENTRYPOINT ["netchaos"]
CMD ["run"]
