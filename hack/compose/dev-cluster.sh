#!/usr/bin/env bash
# The docker-compose dev cluster (docker-compose.yaml), behind make up, make
# down, make clean and make logs.
#
#   hack/compose/dev-cluster.sh up      build, start, wait for Ready nodes, write the
#                                       `dev` context, apply the demo
#   hack/compose/dev-cluster.sh down    stop it; the cluster's objects are kept
#   hack/compose/dev-cluster.sh clean   remove everything it made
#   hack/compose/dev-cluster.sh logs [service...]
#   hack/compose/dev-cluster.sh ps
#
# Environment: GANTRY_API_PORT (6443) where the apiserver is published on
# 127.0.0.1; GANTRY_DEV_ROOT (/var/lib/gantry-dev) the kubelets' pod volumes;
# GANTRY_CONFIG (~/.gantry/config) the client config the dev context goes
# into; NO_DEMO=1 skips the demo; SKIP_BUILD=1 uses the binaries and images
# as they are; GANTRY_SERVICES (all) the compose services to start.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# make up builds first (its prerequisites) and says so with GANTRY_BUILT=1;
# run alone, this script builds.

export COMPOSE_PROJECT_NAME=gantry
export GANTRY_API_PORT="${GANTRY_API_PORT:-6443}"
export GANTRY_DEV_ROOT="${GANTRY_DEV_ROOT:-/var/lib/gantry-dev}"
COMPOSE=(docker-compose -f "$ROOT/docker-compose.yaml" -p gantry)
OUT="$ROOT/_output/compose"
LOG="$OUT/up.log"
CONTEXT=dev
NODES=(gantry-node-1 gantry-node-2)
# GANTRY_SERVICES="apiserver scheduler ..." starts only some of them.
read -r -a SERVICES <<<"${GANTRY_SERVICES:-apiserver scheduler controller-manager cloud-controller-manager node-1 node-2 kube-proxy-node-1 kube-proxy-node-2 kube-proxy}"
# What the cloud-controller-manager's docker provider labels its load
# balancer containers with (its --cluster-name is gantry-dev).
LB_CLUSTER=gantry-dev
# The kubelets label every container they make with their node's name.
NODE_LABEL=io.gantry.node
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-180}"

if [[ -t 1 ]]; then OK=$'\e[32m✓\e[0m' BAD=$'\e[31m✗\e[0m'; else OK='✓' BAD='✗'; fi
STEP_START=$SECONDS
ok() { echo "$OK $* ($((SECONDS - STEP_START))s)"; STEP_START=$SECONDS; }
die() { echo "$BAD $*" >&2; exit 1; }

# run_logged runs a command with its output in $LOG, showing the end of it
# when it fails.
run_logged() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "$BAD $* failed; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}

have_make_target() { make -n "$1" >/dev/null 2>&1; }

build() {
  if [[ -n "${GANTRY_BUILT:-}" ]]; then
    echo "$OK binaries and images built (make build images images-daemons)"
    return
  fi
  [[ -z "${SKIP_BUILD:-}" ]] || { echo "  (SKIP_BUILD: using bin/ and the images as they are)"; return; }
  run_logged make -s build
  ok "binaries built (make build)"
  if have_make_target images; then
    run_logged make -s images
    ok "pod images built (make images: gantry/pause, gantry/demo, ...)"
  else
    echo "  (no make images target: the pod images gantry/pause and gantry/demo must exist already)"
  fi
  run_logged hack/compose/build-images.sh
  ok "daemon images built (gantry/apiserver, gantry/scheduler, ... gantry/kube-proxy)"
}

container_state() {
  docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.RestartCount}}' "$1" 2>/dev/null || echo "missing - 0"
}

# wait_healthy waits until every service's container reports healthy,
# printing a line for each as it does. A container that exits or keeps
# restarting is reported with the end of its log.
wait_healthy() {
  local pending=("${SERVICES[@]}") deadline=$((SECONDS + HEALTH_TIMEOUT)) svc name state health restarts next
  while [[ ${#pending[@]} -gt 0 ]]; do
    next=()
    for svc in "${pending[@]}"; do
      name="$(container_of "$svc")"
      read -r state health restarts <<<"$(container_state "$name")"
      if [[ "$state" == running && "$health" == healthy ]]; then
        ok "$svc healthy"
        continue
      fi
      if [[ "$state" == exited || "$state" == dead || "$restarts" -ge 3 ]]; then
        echo "$BAD $svc is $state (restarts: $restarts); the end of its log:" >&2
        docker logs --tail 20 "$name" 2>&1 | sed 's/^/    /' >&2
        exit 1
      fi
      next+=("$svc")
    done
    pending=("${next[@]+"${next[@]}"}")
    [[ ${#pending[@]} -eq 0 ]] && break
    if ((SECONDS > deadline)); then
      for svc in "${pending[@]}"; do
        name="$(container_of "$svc")"
        echo "$BAD $svc not healthy after ${HEALTH_TIMEOUT}s ($(container_state "$name")); the end of its log:" >&2
        docker logs --tail 20 "$name" 2>&1 | sed 's/^/    /' >&2
      done
      exit 1
    fi
    sleep 1
  done
}

# container_of prints the id of a service's container, found by compose's
# labels (after a failed recreate compose may leave it renamed
# "<id>_gantry-<service>"); else its usual name, gantry-<service>.
container_of() {
  local id
  id="$(docker ps -aq --filter "label=com.docker.compose.project=gantry" \
    --filter "label=com.docker.compose.service=$1" | head -n1)"
  echo "${id:-gantry-$1}"
}

gantry_dev() { "$ROOT/bin/gantry-dev" "$@"; }
gantry() { "$ROOT/bin/gantry" --context "$CONTEXT" "$@"; }

up() {
  mkdir -p "$OUT"
  : >"$LOG"
  echo "Starting the Gantry dev cluster (log: ${LOG#"$ROOT"/})"
  build
  [[ -x bin/gantry-dev ]] || run_logged hack/compose/build-images.sh tools
  local n
  for n in "${NODES[@]}"; do mkdir -p "$GANTRY_DEV_ROOT/$n" 2>/dev/null || true; done
  if ! "${COMPOSE[@]}" up -d "${SERVICES[@]}" >>"$LOG" 2>&1; then
    echo "$BAD docker-compose up failed; the end of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    if grep -q "address already in use\|port is already allocated" "$LOG"; then
      echo "  127.0.0.1:$GANTRY_API_PORT is taken: run with GANTRY_API_PORT=<another port>" >&2
    fi
    exit 1
  fi
  ok "containers started (docker-compose up -d)"
  wait_healthy

  docker cp "$(container_of apiserver)":/var/lib/gantry/apiserver/admin.conf "$OUT/admin.conf" >>"$LOG" 2>&1 \
    || die "could not copy admin.conf out of gantry-apiserver"
  chmod 600 "$OUT/admin.conf"
  local where
  where="$(gantry_dev kubeconfig -admin "$OUT/admin.conf" -server "https://127.0.0.1:$GANTRY_API_PORT" -name "$CONTEXT")" \
    || die "could not write the $CONTEXT context"
  ok "$where"

  # A Node keeps its last status while its kubelet is down: count only
  # Ready heartbeats from the kubelets running now.
  local ready since
  since="$(kubelets_started)"
  ready="$(gantry_dev wait-nodes -context "$CONTEXT" -nodes "${#NODES[@]}" -since "$since" -timeout 3m)" || die "nodes not Ready"
  ok "nodes Ready: $ready"

  if [[ -n "${NO_DEMO:-}" ]]; then
    next_steps ""
    return
  fi
  [[ -x bin/gantry ]] || die "bin/gantry is missing: cannot apply the demo"
  run_logged gantry apply -f hack/compose/demo.yaml
  ok "demo applied (hack/compose/demo.yaml: Deployment demo, 3 replicas, Service demo type LoadBalancer)"
  gantry_dev wait-deployment -context "$CONTEXT" demo -timeout 3m || die "deployment demo not available (gantry --context $CONTEXT describe deployment demo)"
  ok "deployment demo available"
  # The Deployment's status may still be the one from before a make down:
  # look at the containers themselves.
  wait_for 60 "3 demo containers running" demo_containers_running 3 || die "the demo's containers are not running (docker ps -a --filter label=io.gantry.container.name=demo)"
  ok "3 demo containers running"
  local addrs first
  addrs="$(gantry_dev wait-lb -context "$CONTEXT" demo -timeout 2m)" || die "service demo has no load balancer address (gantry --context $CONTEXT describe service demo)"
  ok "service demo load balancer: $addrs"
  # After a make down the status may still name the load balancer that was
  # removed: read it again on every try.
  wait_for 60 "the demo to answer through its load balancer" demo_answers \
    || die "the demo does not answer at its load balancer (gantry --context $CONTEXT describe service demo)"
  addrs="$(gantry_dev wait-lb -context "$CONTEXT" demo -timeout 10s)"
  first="${addrs%% *}"
  first="${first%:80}"
  ok "the demo answers at http://$first/"
  next_steps "$addrs"
}

# demo_answers succeeds when the demo answers an HTTP GET at the address its
# Service's status names, and that address is a load balancer container's.
demo_answers() {
  local addrs first ip
  addrs="$(gantry_dev wait-lb -context "$CONTEXT" demo -timeout 5s)" || return 1
  first="${addrs%% *}"
  ip="${first%:*}"
  docker ps -q --filter "label=io.gantry.cluster=$LB_CLUSTER" \
    | xargs -r docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | grep -qw -- "$ip" || return 1
  "$ROOT/bin/probe" -q "http://$first/"
}

# kubelets_started prints the earliest start time of the kubelet containers
# (RFC 3339, whole seconds, rounded down).
kubelets_started() {
  local n t min=""
  for n in "${NODES[@]}"; do
    t="$(docker inspect -f '{{.State.StartedAt}}' "$(container_of "${n#gantry-}")")"
    t="${t%%.*}"; t="${t%Z}Z"
    if [[ -z "$min" || "$t" < "$min" ]]; then min="$t"; fi
  done
  echo "$min"
}

# demo_containers_running N succeeds when at least N of the demo's app
# containers run, on the cluster's nodes.
demo_containers_running() {
  local n count=0
  for n in "${NODES[@]}"; do
    count=$((count + $(docker ps -q --filter "label=$NODE_LABEL=$n" --filter label=io.gantry.container.name=demo \
      --filter label=io.gantry.pod.namespace=default | wc -l)))
  done
  ((count >= $1))
}

# wait_for SECONDS WHAT COMMAND... retries COMMAND every second.
wait_for() {
  local timeout=$1 what=$2 deadline; shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "$BAD timed out after ${timeout}s waiting for $what" >&2
      return 1
    fi
    sleep 1
  done
}

next_steps() {
  local addrs=$1 first
  echo
  echo "The cluster is up. Your client config's current context is now \"$CONTEXT\"."
  if [[ -n "$addrs" ]]; then
    first="${addrs%% *}"
    first="${first%:80}"
    echo "Reach the demo through its load balancer:"
    echo "    curl http://$first/"
  fi
  cat <<EOF
Try:
    bin/gantry get nodes
    bin/gantry get pods -o wide
    bin/gantry scale deployment demo --replicas=5
    bin/gantry logs deployment/demo
    make logs                   # every daemon's log (make logs SERVICE=node-1)
    make down                   # stop; the objects are kept for the next make up
    make clean                  # remove the cluster and its state
EOF
}

# remove_workloads removes the containers the kubelets and the
# cloud-controller-manager started (they are not compose's): pods by their
# node label, load balancers by their cluster label.
remove_workloads() {
  local ids n
  for n in "${NODES[@]}"; do
    ids="$(docker ps -aq --filter "label=$NODE_LABEL=$n")"
    if [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086
      docker rm -f $ids >/dev/null
      ok "pod containers of $n removed"
    fi
  done
  ids="$(docker ps -aq --filter "label=io.gantry.cluster=$LB_CLUSTER")"
  if [[ -n "$ids" ]]; then
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
    ok "load balancer containers removed"
  fi
}

# kube_proxy_cleanup takes kube-proxy's chains out of this machine's
# iptables, after kube-proxy itself has stopped.
kube_proxy_cleanup() {
  "${COMPOSE[@]}" stop kube-proxy >/dev/null 2>&1 || true
  if docker image inspect gantry/kube-proxy:latest >/dev/null 2>&1; then
    if docker run --rm --network host --cap-add NET_ADMIN --cap-add NET_RAW gantry/kube-proxy:latest --cleanup >>"$LOG" 2>&1; then
      ok "kube-proxy's iptables rules removed (kube-proxy --cleanup)"
    else
      echo "$BAD kube-proxy --cleanup failed; see $LOG" >&2
    fi
  fi
}

down() {
  mkdir -p "$OUT"
  LOG="$OUT/down.log"
  : >"$LOG"
  kube_proxy_cleanup
  # Kubelets and the cloud-controller-manager first, so nothing starts the
  # containers again while they are removed.
  "${COMPOSE[@]}" stop >>"$LOG" 2>&1 || true
  remove_workloads
  if [[ "${1:-}" == volumes ]]; then
    "${COMPOSE[@]}" down --volumes --remove-orphans >>"$LOG" 2>&1 || down_failed
    ok "containers, network and volumes removed (docker-compose down --volumes)"
  else
    "${COMPOSE[@]}" down --remove-orphans >>"$LOG" 2>&1 || down_failed
    ok "containers and network removed; the cluster's state is kept in volume gantry_apiserver-data"
  fi
}

down_failed() {
  local others
  others="$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' gantry 2>/dev/null || true)"
  if [[ -n "$others" ]]; then
    die "the network gantry still has containers the dev cluster did not make: $others(remove or disconnect them, then run this again)"
  fi
  die "docker-compose down failed; see $LOG"
}

clean() {
  down volumes
  local n
  for n in "${NODES[@]}"; do
    [[ -d "$GANTRY_DEV_ROOT/$n" ]] || continue
    # The kubelets made these folders as root: without root here, remove
    # them from a container.
    rm -rf "${GANTRY_DEV_ROOT:?}/$n" 2>/dev/null \
      || docker run --rm -v "$GANTRY_DEV_ROOT:/dev-root" busybox:latest rm -rf "/dev-root/$n" \
      || die "could not remove $GANTRY_DEV_ROOT/$n"
  done
  rmdir "$GANTRY_DEV_ROOT" 2>/dev/null || true
  ok "pod volumes removed ($GANTRY_DEV_ROOT)"
  rm -f "$OUT/admin.conf"
  if [[ -x bin/gantry-dev ]]; then
    local msg
    msg="$(gantry_dev forget -name "$CONTEXT")" || true
    [[ -z "$msg" ]] || ok "$msg"
  fi
}

logs() {
  exec "${COMPOSE[@]}" logs -f --tail=100 "$@"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  clean) clean ;;
  logs) shift; logs "$@" ;;
  ps) "${COMPOSE[@]}" ps ;;
  *) echo "usage: $0 up|down|clean|logs [service...]|ps" >&2; exit 2 ;;
esac
