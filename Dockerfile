# syntax=docker/dockerfile:1
# netchaos image: the `netchaos` CLI with Node 24 LTS, tc (iproute2), nsenter (util-linux) and crictl.
#   docker build -t ghcr.io/netchaos/netchaos:$(node -p 'require("./package.json").version') .
# Base: Debian 12 "bookworm" slim with Node (the iproute2 6.1 the lab suite runs against; glibc for
# crictl and Node). Pin it by digest in your registry mirror: --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:…
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript with the full toolchain, then pack exactly what `npm publish` would ship.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm pack --silent --pack-destination /tmp \
 && mv /tmp/netchaos-*.tgz /tmp/netchaos.tgz

# 2. Install the packed tarball with production dependencies only, pinned by the lockfile
#    (scripts/pack-smoke.sh runs the same steps in CI, without Docker).
FROM ${NODE_IMAGE} AS install
WORKDIR /opt/netchaos
COPY --from=build /tmp/netchaos.tgz /tmp/netchaos.tgz
COPY package-lock.json ./
RUN tar -xzf /tmp/netchaos.tgz --strip-components=1 \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 0755 dist/cli.js \
 && rm -f /tmp/netchaos.tgz

# 3. crictl, one pinned version, verified by sha256 (checksums of the release tarballs, per arch).
FROM ${NODE_IMAGE} AS crictl
ARG TARGETARCH=amd64
ARG CRICTL_VERSION=v1.35.0
ARG CRICTL_SHA256_AMD64=2e141e5b22cb189c40365a11807d69b76b9b3caced89fac2f4ec879408ce2177
ARG CRICTL_SHA256_ARM64=519071de89b64c43e2a1661bb5489c6c3fd5e9e5fcef75e50e542b0c891f1118
ADD https://github.com/kubernetes-sigs/cri-tools/releases/download/${CRICTL_VERSION}/crictl-${CRICTL_VERSION}-linux-${TARGETARCH}.tar.gz /tmp/crictl.tar.gz
RUN set -eu; \
    case "${TARGETARCH}" in \
      amd64) sum="${CRICTL_SHA256_AMD64}" ;; \
      arm64) sum="${CRICTL_SHA256_ARM64}" ;; \
      *) echo "no crictl checksum for ${TARGETARCH}: pass --build-arg CRICTL_SHA256_<ARCH>" >&2; exit 1 ;; \
    esac; \
    echo "${sum}  /tmp/crictl.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/crictl.tar.gz -C /usr/local/bin crictl

# 4. Run: Node + tc + nsenter + crictl. No npm, no compiler, no shell wrapper around the entrypoint.
FROM ${NODE_IMAGE}
ARG CRICTL_VERSION=v1.35.0
LABEL org.opencontainers.image.title="netchaos" \
      org.opencontainers.image.description="Per-dependency network faults for Kubernetes pods (Litmus fault pod-dependency-latency)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.netchaos.crictl.version="${CRICTL_VERSION}"
# iproute2: tc and ip. util-linux: nsenter (already in the base; listed so removing it fails loudly).
# iputils-ping: MEASURE_EFFECT pings dependencies that have no port (it needs CAP_NET_RAW, or the target's
# net.ipv4.ping_group_range to include gid 0; without either, those dependencies are reported "not verified").
# No libcap2-bin: the capabilities come from the pod's securityContext, nothing calls capsh/setcap.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 util-linux iputils-ping \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=crictl /usr/local/bin/crictl /usr/local/bin/crictl
COPY --from=install /opt/netchaos /opt/netchaos
RUN ln -s /opt/netchaos/dist/cli.js /usr/local/bin/netchaos \
 && netchaos --help >/dev/null \
 && tc -V && nsenter --version && crictl --version && ping -V
ENV NODE_ENV=production
# Root, with only the capabilities the pod spec adds (NET_ADMIN, SYS_ADMIN, SYS_PTRACE): entering
# another process's network namespace needs uid 0 plus those, a non-root uid would lose them on exec.
USER 0
WORKDIR /
# Exec form, no init: node is PID 1. The kernel gives PID 1 no default signal actions, but netchaos
# installs its own SIGTERM/SIGINT handlers, so `kubectl delete`/engineState=stop still reaches the
# revert. It forks only short-lived children it waits for (nsenter, tc, crictl), so nothing to reap.
STOPSIGNAL SIGTERM
ENTRYPOINT ["netchaos"]
CMD ["run"]
