#!/usr/bin/env bash
# Starts a whole Gantry cluster as processes on this machine, in the
# foreground, as Kubernetes' hack/local-up-cluster.sh does: the apiserver
# (with its embedded etcd) and every other daemon found in bin/ — scheduler,
# controller-manager, cloud-controller-manager (fake provider), a kubelet on
# Docker plus HOLLOW_NODES kubelets on the fake runtime, kube-proxy. Each
# daemon logs to $LOG_DIR/<daemon>.log and keeps its state under $DATA_DIR.
# Ctrl-C stops everything the script started.
#
#   hack/local-up-cluster.sh
#   HOLLOW_NODES=3 hack/local-up-cluster.sh
#
# Then, in another shell:
#
#   export GANTRY_CONFIG=$DATA_DIR/admin.conf
#   bin/gantry get nodes
#
# Environment:
#   DATA_DIR        state of every daemon (default /tmp/gantry-local)
#   LOG_DIR         logs (default $DATA_DIR/logs)
#   HOLLOW_NODES    kubelets with --runtime=fake to add (default 0)
#   DOCKER_KUBELET  1: start the kubelet on Docker (default 1 when `docker info` works)
#   KUBE_PROXY      1: start kube-proxy, which writes this machine's iptables
#                   (default 1 when root)
#   POD_NETWORK     Docker network of the Docker kubelet's pods (default gantry)
#   SKIP_BUILD      1: use bin/ as it is instead of running `make build`
#   LOG_LEVEL       daemons' log level (default info)
#   API_PORT, API_HTTP_PORT, SCHEDULER_PORT, CONTROLLER_MANAGER_PORT,
#   CLOUD_CONTROLLER_MANAGER_PORT, KUBELET_PORT, KUBELET_HEALTHZ_PORT,
#   KUBE_PROXY_HEALTHZ_PORT, KUBE_PROXY_METRICS_PORT
#                   ports (defaults: Kubernetes' 6443, 6444, 10259, 10257,
#                   10258, 10250, 10248, 10256, 10249)
#   WAIT_TIMEOUT    seconds to wait for each daemon to be ready (default 90)
set -o errexit -o nounset -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${BIN_DIR:-$ROOT/bin}"
DATA_DIR="${DATA_DIR:-/tmp/gantry-local}"
LOG_DIR="${LOG_DIR:-$DATA_DIR/logs}"
HOLLOW_NODES="${HOLLOW_NODES:-0}"
LOG_LEVEL="${LOG_LEVEL:-info}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-90}"
NODE_NAME="${NODE_NAME:-$(hostname | tr '[:upper:]' '[:lower:]')}"
POD_NETWORK="${POD_NETWORK:-gantry}"

API_PORT="${API_PORT:-6443}"
API_HTTP_PORT="${API_HTTP_PORT:-6444}"
SCHEDULER_PORT="${SCHEDULER_PORT:-10259}"
CONTROLLER_MANAGER_PORT="${CONTROLLER_MANAGER_PORT:-10257}"
CLOUD_CONTROLLER_MANAGER_PORT="${CLOUD_CONTROLLER_MANAGER_PORT:-10258}"
KUBELET_PORT="${KUBELET_PORT:-10250}"
KUBELET_HEALTHZ_PORT="${KUBELET_HEALTHZ_PORT:-10248}"
KUBE_PROXY_HEALTHZ_PORT="${KUBE_PROXY_HEALTHZ_PORT:-10256}"
KUBE_PROXY_METRICS_PORT="${KUBE_PROXY_METRICS_PORT:-10249}"
# Hollow node i serves its health on HOLLOW_HEALTHZ_BASE+i.
HOLLOW_HEALTHZ_BASE="${HOLLOW_HEALTHZ_BASE:-10300}"

if [[ -z "${DOCKER_KUBELET:-}" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then DOCKER_KUBELET=1; else DOCKER_KUBELET=0; fi
fi
if [[ -z "${KUBE_PROXY:-}" ]]; then
  if [[ "$(id -u)" == 0 ]]; then KUBE_PROXY=1; else KUBE_PROXY=0; fi
fi

ADMIN_CONF="$DATA_DIR/admin.conf"

if [[ -t 1 ]]; then OK=$'\e[32m✓\e[0m' BAD=$'\e[31m✗\e[0m' SKIP=$'\e[33m-\e[0m'; else OK='✓' BAD='✗' SKIP='-'; fi
ok() { echo "$OK $*"; }
skip() { echo "$SKIP $*"; }
die() { echo "$BAD $*" >&2; exit 1; }

# The daemons this script started: PIDS[i] runs NAMES[i].
PIDS=()
NAMES=()

cleanup() {
  trap - EXIT INT TERM
  local i pid
  [[ ${#PIDS[@]} -gt 0 ]] || return 0
  echo
  echo "Stopping the cluster..."
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "$BAD ${NAMES[i]} did not stop within 10s: killed"
    fi
    wait "$pid" 2>/dev/null || true
  done
  ok "stopped (logs in $LOG_DIR, state in $DATA_DIR)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# has_bin says whether bin/<daemon> was built.
has_bin() { [[ -x "$BIN_DIR/$1" ]]; }

# has_flag says whether a daemon accepts a flag, from its --help.
has_flag() { "$BIN_DIR/$1" --help 2>&1 | grep -q -- "$2"; }

# run starts a daemon in the background: run <log name> <binary> <args...>.
run() {
  local name=$1 bin=$2
  shift 2
  "$BIN_DIR/$bin" "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
}

# wait_ready polls url until it answers 200, failing early when the
# daemon (the last one started) exits: wait_ready <name> <url>.
wait_ready() {
  local name=$1 url=$2 pid=${PIDS[${#PIDS[@]} - 1]} start=$SECONDS
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$BAD $name exited; the end of $LOG_DIR/$name.log:" >&2
      tail -n 20 "$LOG_DIR/$name.log" >&2
      exit 1
    fi
    if ((SECONDS - start > WAIT_TIMEOUT)); then
      echo "$BAD $name not ready at $url after ${WAIT_TIMEOUT}s; the end of $LOG_DIR/$name.log:" >&2
      tail -n 20 "$LOG_DIR/$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  ok "$name ready ($url, $((SECONDS - start))s)"
}

# port_free fails when something already listens on a loopback port.
port_free() {
  local name=$1 var=$2 port=$3
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port ($name) is in use (another cluster?); free it or set $var"
  fi
}

check_ports() {
  port_free apiserver API_PORT "$API_PORT"
  port_free "apiserver health" API_HTTP_PORT "$API_HTTP_PORT"
  has_bin scheduler && port_free scheduler SCHEDULER_PORT "$SCHEDULER_PORT"
  has_bin controller-manager && port_free controller-manager CONTROLLER_MANAGER_PORT "$CONTROLLER_MANAGER_PORT"
  has_bin cloud-controller-manager && port_free cloud-controller-manager CLOUD_CONTROLLER_MANAGER_PORT "$CLOUD_CONTROLLER_MANAGER_PORT"
  if has_bin kubelet && [[ "$DOCKER_KUBELET" == 1 ]]; then
    port_free kubelet KUBELET_PORT "$KUBELET_PORT"
    port_free "kubelet health" KUBELET_HEALTHZ_PORT "$KUBELET_HEALTHZ_PORT"
  fi
  if has_bin kube-proxy && [[ "$KUBE_PROXY" == 1 ]]; then
    port_free "kube-proxy health" KUBE_PROXY_HEALTHZ_PORT "$KUBE_PROXY_HEALTHZ_PORT"
    port_free "kube-proxy metrics" KUBE_PROXY_METRICS_PORT "$KUBE_PROXY_METRICS_PORT"
  fi
  return 0
}

build() {
  if [[ -n "${SKIP_BUILD:-}" ]]; then
    skip "build skipped (SKIP_BUILD): using $BIN_DIR as it is"
    return
  fi
  local start=$SECONDS
  if ! (cd "$ROOT" && make -s build >"$LOG_DIR/build.log" 2>&1); then
    echo "$BAD make build failed; the end of $LOG_DIR/build.log:" >&2
    tail -n 30 "$LOG_DIR/build.log" >&2
    exit 1
  fi
  ok "built (make build, $((SECONDS - start))s)"
}

start_apiserver() {
  has_bin apiserver || die "$BIN_DIR/apiserver is missing: run make build"
  run apiserver apiserver \
    --data-dir="$DATA_DIR/apiserver" \
    --bind-address=127.0.0.1 \
    --secure-port="$API_PORT" \
    --http-port="$API_HTTP_PORT" \
    --log-level="$LOG_LEVEL"
  wait_ready apiserver "http://127.0.0.1:$API_HTTP_PORT/readyz"
  for _ in $(seq 1 20); do [[ -s "$DATA_DIR/apiserver/admin.conf" ]] && break; sleep 0.5; done
  [[ -s "$DATA_DIR/apiserver/admin.conf" ]] || die "the apiserver wrote no $DATA_DIR/apiserver/admin.conf"
  cp "$DATA_DIR/apiserver/admin.conf" "$ADMIN_CONF"
  chmod 600 "$ADMIN_CONF"
  ok "admin client config at $ADMIN_CONF"
}

start_scheduler() {
  has_bin scheduler || { skip "scheduler skipped ($BIN_DIR/scheduler not built)"; return; }
  run scheduler scheduler \
    --kubeconfig="$ADMIN_CONF" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHEDULER_PORT" \
    --log-level="$LOG_LEVEL"
  wait_ready scheduler "http://127.0.0.1:$SCHEDULER_PORT/readyz"
}

start_controller_manager() {
  has_bin controller-manager || { skip "controller-manager skipped ($BIN_DIR/controller-manager not built)"; return; }
  run controller-manager controller-manager \
    --kubeconfig="$ADMIN_CONF" \
    --bind-address=127.0.0.1 \
    --port="$CONTROLLER_MANAGER_PORT" \
    --log-level="$LOG_LEVEL"
  wait_ready controller-manager "http://127.0.0.1:$CONTROLLER_MANAGER_PORT/readyz"
}

start_cloud_controller_manager() {
  has_bin cloud-controller-manager || { skip "cloud-controller-manager skipped ($BIN_DIR/cloud-controller-manager not built)"; return; }
  run cloud-controller-manager cloud-controller-manager \
    --kubeconfig="$ADMIN_CONF" \
    --cloud-provider=fake \
    --bind-address=127.0.0.1 \
    --secure-port="$CLOUD_CONTROLLER_MANAGER_PORT" \
    --log-level="$LOG_LEVEL"
  wait_ready cloud-controller-manager "http://127.0.0.1:$CLOUD_CONTROLLER_MANAGER_PORT/readyz"
}

# kubelet_flags are the flags every kubelet gets: kubelet_flags <node>
# <healthz port>. With the apiserver's CA the kubelet serves its API (logs,
# exec) to the apiserver.
kubelet_flags() {
  local node=$1 healthz=$2
  echo --kubeconfig="$ADMIN_CONF" --hostname-override="$node" \
    --root-dir="$DATA_DIR/kubelet/$node" \
    --healthz-bind-address=127.0.0.1 --healthz-port="$healthz" \
    --log-level="$LOG_LEVEL"
  if has_flag kubelet --client-ca-file && [[ -f "$DATA_DIR/apiserver/pki/ca.crt" ]]; then
    echo --client-ca-file="$DATA_DIR/apiserver/pki/ca.crt"
  fi
}

start_kubelet() {
  has_bin kubelet || { skip "kubelet skipped ($BIN_DIR/kubelet not built)"; return; }
  if [[ "$DOCKER_KUBELET" != 1 ]]; then
    skip "kubelet on Docker skipped (DOCKER_KUBELET=0, or no Docker engine)"
    return
  fi
  if ! docker image inspect gantry/pause:latest >/dev/null 2>&1; then
    if (cd "$ROOT" && make -n images >/dev/null 2>&1); then
      (cd "$ROOT" && make -s images >"$LOG_DIR/images.log" 2>&1) || die "make images failed; see $LOG_DIR/images.log"
      ok "pod images built (make images)"
    fi
  fi
  mkdir -p "$DATA_DIR/kubelet/$NODE_NAME"
  # shellcheck disable=SC2046 # kubelet_flags is a list of flags
  run kubelet kubelet $(kubelet_flags "$NODE_NAME" "$KUBELET_HEALTHZ_PORT") \
    --runtime=docker --port="$KUBELET_PORT" --pod-network="$POD_NETWORK"
  wait_ready kubelet "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/readyz"
}

start_hollow_nodes() {
  [[ "$HOLLOW_NODES" -gt 0 ]] || return 0
  has_bin kubelet || { skip "hollow nodes skipped ($BIN_DIR/kubelet not built)"; return; }
  local i node port
  for ((i = 1; i <= HOLLOW_NODES; i++)); do
    node="hollow-node-$i"
    port=$((HOLLOW_HEALTHZ_BASE + i))
    mkdir -p "$DATA_DIR/kubelet/$node"
    # shellcheck disable=SC2046
    run "$node" kubelet $(kubelet_flags "$node" "$port") --runtime=fake --port=0
    wait_ready "$node" "http://127.0.0.1:$port/readyz"
  done
}

start_kube_proxy() {
  has_bin kube-proxy || { skip "kube-proxy skipped ($BIN_DIR/kube-proxy not built)"; return; }
  if [[ "$KUBE_PROXY" != 1 ]]; then
    skip "kube-proxy skipped (KUBE_PROXY=0, or not root: it writes iptables rules)"
    return
  fi
  run kube-proxy kube-proxy \
    --kubeconfig="$ADMIN_CONF" \
    --hostname-override="$NODE_NAME" \
    --healthz-bind-address="127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT" \
    --metrics-bind-address="127.0.0.1:$KUBE_PROXY_METRICS_PORT" \
    --log-level="$LOG_LEVEL"
  wait_ready kube-proxy "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"
}

# watch_daemons stays in the foreground, saying when a daemon exits.
watch_daemons() {
  local i
  local -A reported=()
  while true; do
    for i in "${!PIDS[@]}"; do
      if [[ -z "${reported[$i]:-}" ]] && ! kill -0 "${PIDS[i]}" 2>/dev/null; then
        reported[$i]=1
        echo "$BAD ${NAMES[i]} exited; see $LOG_DIR/${NAMES[i]}.log" >&2
      fi
    done
    sleep 2
  done
}

main() {
  command -v curl >/dev/null || die "curl is needed"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  echo "Starting a local Gantry cluster: state in $DATA_DIR, logs in $LOG_DIR"
  build
  check_ports
  start_apiserver
  start_scheduler
  start_controller_manager
  start_cloud_controller_manager
  start_kubelet
  start_hollow_nodes
  start_kube_proxy
  cat <<EOF

Cluster is ready. To use it, in another shell:

  export GANTRY_CONFIG=$ADMIN_CONF
  $BIN_DIR/gantry get nodes

Logs: $LOG_DIR/<daemon>.log. Press Ctrl-C to stop the cluster.
EOF
  watch_daemons
}

main "$@"
