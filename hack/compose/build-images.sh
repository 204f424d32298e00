#!/usr/bin/env bash
# Builds the dev cluster's daemon images, gantry/<daemon>:latest, FROM
# scratch: each holds its daemon from bin/ (run `make build` first) and the
# static health probe (hack/compose/cmd/probe, built here). kube-proxy's image
# also gets this machine's iptables. No registry is needed or used.
#
#   hack/compose/build-images.sh [daemon ...]     (default: all six)
#   hack/compose/build-images.sh tools            only bin/probe and bin/gantry-dev
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COMPOSE_DIR="$ROOT/hack/compose"
STAGE="$ROOT/_output/compose/images"
DAEMONS=(apiserver scheduler controller-manager cloud-controller-manager kubelet kube-proxy)
QUIET="${QUIET:-}"
HASH_LABEL=io.gantry.image-hash

log() { [[ -n "$QUIET" ]] || echo "$@"; }

# build_tools puts the probe and gantry-dev in bin/. They build in
# hack/compose's own workspace (hack/compose/go.work).
build_tools() {
  mkdir -p "$ROOT/bin"
  (cd "$COMPOSE_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ROOT/bin/probe" ./cmd/probe \
    && CGO_ENABLED=0 go build -trimpath -o "$ROOT/bin/gantry-dev" ./cmd/gantry-dev)
}

# copy_elf copies executables or shared objects, and every library ldd says
# they load, into rootfs at the same paths. One ldd for all of them: it is
# called for a hundred xtables extensions.
copy_elf() {
  local rootfs=$1; shift
  local f lib
  for f in "$@"; do
    install -D -m 0755 "$(readlink -f "$f")" "$rootfs$f"
  done
  while read -r lib; do
    [[ -n "$lib" && -e "$lib" && ! -e "$rootfs$lib" ]] || continue
    install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done < <(ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u)
}

# stage_iptables copies the host's iptables into rootfs: the multi-call
# binary `iptables` resolves to, its save/restore names, the xtables
# extensions and everything they link.
stage_iptables() {
  local rootfs=$1 ipt real dir name ext
  ipt="$(command -v iptables || true)"
  if [[ -z "$ipt" ]]; then
    echo "build-images: kube-proxy needs this machine's iptables, and there is none (apt-get install iptables)" >&2
    exit 1
  fi
  real="$(readlink -f "$ipt")"
  copy_elf "$rootfs" "$real"
  dir="$(dirname "$real")"
  for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf "$(basename "$real")" "$rootfs$dir/$name"
  done
  # Extensions (-m comment, -m statistic, -j DNAT, ...) are loaded with
  # dlopen from the folder libxtables was built with.
  # libxtables has the folder's real path compiled in (/usr/lib/<arch>/xtables
  # on Debian, where /lib is a link to /usr/lib): copy it there.
  ext="$(ls /usr/lib/*/xtables/libxt_comment.so /usr/lib/xtables/libxt_comment.so /usr/lib64/xtables/libxt_comment.so 2>/dev/null | head -n1 || true)"
  ext="$(dirname "$(readlink -f "${ext:-/nonexistent/x}")")"
  if [[ ! -d "$ext" ]]; then
    echo "build-images: found no xtables extensions folder next to $real" >&2
    exit 1
  fi
  copy_elf "$rootfs" "$ext"/*.so
  for f in /etc/protocols /etc/services /etc/ethertypes; do
    [[ -e "$f" ]] && install -D -m 0644 "$f" "$rootfs$f"
  done
  # The binary may sit under /usr/sbin while PATH lookups use /sbin; the
  # image's PATH names both.
  mkdir -p "$rootfs/run" "$rootfs/var/run"
}

build_image() {
  local name=$1 rootfs="$STAGE/$1/rootfs"
  if [[ ! -x "$ROOT/bin/$name" ]]; then
    echo "build-images: bin/$name is missing (run make build; does $name/cmd/$name exist?)" >&2
    return 1
  fi
  rm -rf "$STAGE/$name"
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/tmp" "$rootfs/etc"
  chmod 1777 "$rootfs/tmp"
  # Hard links when bin/ and _output/ share a file system: no copying.
  cp -l "$ROOT/bin/$name" "$ROOT/bin/probe" "$rootfs/usr/local/bin/" 2>/dev/null \
    || cp "$ROOT/bin/$name" "$ROOT/bin/probe" "$rootfs/usr/local/bin/"
  # Just enough of /etc for os/user and name lookups in a scratch image.
  printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  if [[ "$name" == kube-proxy ]]; then
    stage_iptables "$rootfs"
  fi
  # Rebuilt only when what goes in changed: the image carries a hash of its
  # staged files and its Dockerfile.
  local hash current out
  hash="$( (cd "$STAGE/$name" && find rootfs \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
    | xargs -0 sha256sum; sha256sum <"$COMPOSE_DIR/images/$name.Dockerfile") | sha256sum | cut -c1-16)"
  current="$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "gantry/$name:latest" 2>/dev/null || true)"
  if [[ "$current" == "$hash" ]]; then
    log "gantry/$name:latest is up to date"
    return 0
  fi
  if ! out="$(DOCKER_BUILDKIT=0 docker build -q -t "gantry/$name:latest" --label io.gantry.dev-cluster=true \
    --label "$HASH_LABEL=$hash" -f "$COMPOSE_DIR/images/$name.Dockerfile" "$STAGE/$name" 2>&1)"; then
    echo "$out" >&2
    return 1
  fi
  log "built gantry/$name:latest"
}

main() {
  local names=("$@")
  [[ ${#names[@]} -gt 0 ]] || names=("${DAEMONS[@]}")
  build_tools
  [[ "${names[0]}" != tools ]] || return 0
  # In parallel: most of the time goes to sending contexts and committing
  # layers, not to the CPU.
  local n failed=() pids=()
  for n in "${names[@]}"; do
    build_image "$n" &
    pids+=($!)
  done
  local i
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo "build-images: not built: ${failed[*]}" >&2
    exit 1
  fi
}

main "$@"
