#!/usr/bin/env bash
# Prepare the netchaos kernel lab: apt packages, a Debian kernel (extracted,
# never installed) and a small busybox initramfs with the modules we need.
# Idempotent: a second run only checks and prints the cached paths.
# Output (last line on stdout): a file with KERNEL=… INITRD=… to `source`.
set -euo pipefail

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${NETCHAOS_LAB_CACHE:-/var/cache/netchaos-lab}"
APT_PACKAGES=(qemu-system-x86 busybox-static cpio kmod iproute2 iputils-ping libcap2-bin time dnsmasq-base)
MODULES=(virtio_pci 9pnet_virtio 9p sch_prio sch_netem sch_htb sch_tbf sch_ingress
         cls_u32 act_mirred ifb veth ipv6 bridge)

log() { echo "lab-setup: $*" >&2; }

# --- 1. Debian packages ------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { log "need root to install: ${missing[*]}"; exit 1; }
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9   # concurrent runs wait for one builder

# --- 2. Kernel ---------------------------------------------------------------
kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
if [[ -z "$kpkg" ]]; then
  apt-get update -q >&2
  kpkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
fi
[[ -n "$kpkg" ]] || { log "cannot resolve the kernel package behind linux-image-amd64"; exit 1; }
kver="${kpkg#linux-image-}"

# Everything the initramfs depends on goes into its cache key.
init_hash="$( { cat "$LAB_DIR/guest/init"; echo "${MODULES[*]}"; dpkg-query -W busybox-static; } | sha256sum | cut -c1-16)"
kdir="$CACHE/$kver"
stamp="$kdir/initrd-$init_hash.img"

if [[ ! -f "$kdir/vmlinuz" || ! -f "$stamp" ]]; then
  work="$(mktemp -d "$CACHE/build.XXXXXX")"; chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  log "downloading $kpkg"
  (cd "$work" && apt-get download -q "$kpkg" >&2)
  log "extracting $kpkg (not installed)"
  dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/root"
  depmod -b "$work/root" "$kver"

  ird="$work/initrd"
  mkdir -p "$ird"/{bin,dev,proc,sys,host,lib/modules/"$kver"}
  cp /bin/busybox "$ird/bin/busybox"
  cp "$LAB_DIR/guest/init" "$ird/init"
  chmod 755 "$ird/init" "$ird/bin/busybox"
  : > "$ird/modules.order"; declare -A seen=()
  for m in "${MODULES[@]}"; do
    while read -r kind path args; do
      [[ "$kind" == insmod ]] || continue
      rel="${path#"$work/root/lib/modules/$kver/"}"
      # keep the first occurrence only (dependencies repeat)
      [[ -n "${seen[$rel]:-}" ]] && continue; seen[$rel]=1
      mkdir -p "$ird/lib/modules/$kver/$(dirname "$rel")"
      cp "$path" "$ird/lib/modules/$kver/$rel"
      echo "$rel $args" >> "$ird/modules.order"
    done < <(modprobe -d "$work/root" -S "$kver" --show-depends "$m")
  done
  log "$(wc -l < "$ird/modules.order") modules in the initramfs"
  mkdir -p "$kdir"
  cp "$work/root/boot/vmlinuz-$kver" "$kdir/vmlinuz.tmp" && mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
  rm -f "$kdir"/initrd-*.img
  (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) > "$stamp.tmp"
  mv "$stamp.tmp" "$stamp"
  rm -rf "$work"; trap - EXIT
  log "built $stamp"
fi

cat > "$CACHE/current.env" <<EOT
KERNEL=$kdir/vmlinuz
INITRD=$stamp
KVER=$kver
EOT
echo "$CACHE/current.env"
