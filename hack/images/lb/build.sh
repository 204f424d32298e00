#!/usr/bin/env bash
# Builds gantry/lb:latest (or the tag given as $1), the docker cloud
# provider's load balancer, into the local Docker engine without a registry:
# a static build of cloud-controller-manager/cmd/gantry-lb in a FROM scratch
# image. Rebuilt only when its inputs changed (a hash label on the image).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
GO=${GO:-go}
IMAGE=${1:-gantry/lb:latest}
LABEL=io.gantry.image-hash
export DOCKER_BUILDKIT=0

hash=$(cat "$ROOT/cloud-controller-manager/cmd/gantry-lb/"*.go "$ROOT/cloud-controller-manager/internal/lb/"*.go \
  "$ROOT/hack/images/lb/Dockerfile" "$ROOT/cloud-controller-manager/go.mod" | sha256sum | cut -c1-16)
current=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
if [[ "$current" == "$hash" ]]; then
  echo "$IMAGE is up to date"
  exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$ROOT/cloud-controller-manager" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags '-s -w' -o "$dir/gantry-lb" ./cmd/gantry-lb)
cp "$ROOT/hack/images/lb/Dockerfile" "$dir/"
docker build -q --label "$LABEL=$hash" -t "$IMAGE" "$dir" >/dev/null
echo "built $IMAGE"
