#!/usr/bin/env bash
# Builds the pod images, without a registry, into the local Docker engine:
#   gantry/pause:latest   the pod sandbox (kubelet/images/pause), FROM scratch
#   gantry/demo:latest    a small HTTP server (kubelet/images/demo), FROM scratch
#   busybox:latest        Debian's busybox-static with its applets, by docker import
# Idempotent and fast: each image is labelled with a hash of its inputs and
# is rebuilt only when they changed. Builds use the classic builder
# (DOCKER_BUILDKIT=0): no buildx here.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
LABEL=io.gantry.image-hash
export DOCKER_BUILDKIT=0

current_hash() { docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# build_go <name> <image>: a static Go binary from kubelet/images/<name> in
# a FROM-scratch image.
build_go() {
  local name=$1 image=$2 hash dir
  hash=$(hash_of "$ROOT/kubelet/images/$name/"*.go "$ROOT/hack/images/$name/Dockerfile" "$ROOT/kubelet/go.mod")
  if [[ "$(current_hash "$image")" == "$hash" ]]; then
    echo "$image is up to date"
    return
  fi
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  (cd "$ROOT/kubelet" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags '-s -w' -o "$dir/$name" "./images/$name")
  cp "$ROOT/hack/images/$name/Dockerfile" "$dir/"
  docker build -q --label "$LABEL=$hash" -t "$image" "$dir" >/dev/null
  echo "built $image"
}

build_busybox() {
  local image=busybox:latest bin=/bin/busybox hash dir a
  if [[ ! -x $bin ]]; then
    if command -v apt-get >/dev/null; then
      apt-get install -y busybox-static >/dev/null
    fi
  fi
  [[ -x $bin ]] || { echo "busybox-static is not installed (apt-get install -y busybox-static)" >&2; exit 1; }
  file "$bin" 2>/dev/null | grep -q 'statically linked' || ldd "$bin" 2>&1 | grep -q 'not a dynamic' ||
    { echo "$bin is not static: install busybox-static" >&2; exit 1; }
  hash=$(hash_of "$bin" "$ROOT/hack/images/busybox/applets")
  if [[ "$(current_hash "$image")" == "$hash" ]]; then
    echo "$image is up to date"
    return
  fi
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir"/{bin,etc,tmp,root,var/run}
  chmod 1777 "$dir/tmp"
  cp "$bin" "$dir/bin/busybox"
  for a in $(cat "$ROOT/hack/images/busybox/applets"); do
    ln -sf busybox "$dir/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/etc/group"
  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/bin' --change 'CMD ["sh"]' --change "LABEL $LABEL=$hash" - "$image" >/dev/null
  echo "built $image"
}

build_go pause gantry/pause:latest
build_go demo gantry/demo:latest
build_busybox
"$ROOT/hack/images/lb/build.sh"
