#!/usr/bin/env bash
# Measures how long `make up` takes (make bench-dev-cluster):
#   cold      after `make clean`, with bin/ and the images removed (the Go
#             build cache is kept: cleaning it costs far more than any change
#             a developer makes)
#   warm      `make up` again after `make down` (the state is kept)
#   no-op     `make up` while the cluster runs
# and `make down` itself. It ends with `make clean` unless KEEP=1.
#
# KEEP_POD_IMAGES=1 keeps gantry/pause, gantry/demo, gantry/lb and busybox
# (built by `make images`, owned by the kubelet and cloud-controller-manager
# work): on a machine shared with other test runs, removing images their pods
# use breaks them. The daemon images and bin/ are always removed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DEV=hack/compose/dev-cluster.sh
DAEMON_IMAGES=(gantry/apiserver gantry/scheduler gantry/controller-manager gantry/cloud-controller-manager gantry/kubelet gantry/kube-proxy)
POD_IMAGES=(gantry/pause gantry/demo gantry/lb busybox)

timed() { # timed NAME COMMAND...: runs it, output to the log, prints seconds
  local name=$1 start end; shift
  start=$(date +%s.%N)
  if ! "$@" >>"$LOG" 2>&1; then
    echo "bench-up: $name failed; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  printf '%s %.1f\n' "$name" "$(echo "$end - $start" | bc)" | tee -a "$RESULTS"
}

mkdir -p _output/compose
LOG="$ROOT/_output/compose/bench-up.log"
RESULTS="$ROOT/_output/compose/bench-up.results"
: >"$LOG"
: >"$RESULTS"

"$DEV" clean >>"$LOG" 2>&1 || true
images=("${DAEMON_IMAGES[@]}")
[[ -n "${KEEP_POD_IMAGES:-}" ]] || images+=("${POD_IMAGES[@]}")
for i in "${images[@]}"; do docker image rm "$i:latest" >>"$LOG" 2>&1 || true; done
rm -rf bin

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" | tee -a "$RESULTS"
timed cold-up "$DEV" up
timed down "$DEV" down
timed warm-up "$DEV" up
timed noop-up "$DEV" up
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
if [[ -z "${KEEP:-}" ]]; then
  "$DEV" clean >>"$LOG" 2>&1
fi
