# Gantry's build. `make build` puts every daemon and the CLI in bin/;
# `make test` runs every module's tests; `make verify` checks formatting,
# vet and generated code.
SHELL := /usr/bin/env bash
GO ?= go
MODULES := $(shell sed -n 's,^\t\./\(.*\),\1,p' go.work)
BINARIES := $(foreach m,$(MODULES),$(wildcard $(m)/cmd/*))
TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: all build test verify fmt vet proto verify-proto bench-apiserver clean-bin bench-scheduler

all: build

build:
	@mkdir -p bin
	@for d in $(BINARIES); do \
	  mod=$${d%%/cmd/*}; name=$$(basename $$d); \
	  echo "go build $$name"; \
	  (cd $$mod && CGO_ENABLED=0 $(GO) build -trimpath -o ../bin/$$name ./cmd/$$name) || exit 1; \
	done

test: build
	@failed=""; for m in $(MODULES); do \
	  echo "== go test $$m"; \
	  if [ -z "$$(find $$m -name '*.go' -print -quit)" ]; then echo "(no Go files yet)"; continue; fi; \
	  (cd $$m && $(GO) test $(TEST_FLAGS) ./...) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED modules:$$failed"; exit 1; fi

verify: verify-fmt vet verify-proto

verify-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	@set -e; for m in $(MODULES); do \
	  if [ -n "$$(find $$m -name '*.go' -print -quit)" ]; then (cd $$m && $(GO) vet ./...); fi; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

proto:
	hack/update-proto.sh

verify-proto:
	hack/verify-proto.sh

bench-apiserver:
	cd test && $(GO) test -run '^$$' -bench 'BenchmarkAPIServer' -benchtime 1x -timeout 20m ./integration/apiserver/

clean-bin:
	rm -rf bin

# The docker-compose dev cluster (docker-compose.yaml, hack/compose/). `make
# up` builds the binaries (make build), the pod images (make images) and the
# daemon images (images-daemons), starts the cluster, waits for Ready nodes,
# writes a `dev` context into ~/.gantry/config and applies a demo.
.PHONY: up down clean logs images-daemons test-compose
up: build images images-daemons
	@GANTRY_BUILT=1 hack/compose/dev-cluster.sh up

down:
	hack/compose/dev-cluster.sh down

clean:
	hack/compose/dev-cluster.sh clean

logs:
	hack/compose/dev-cluster.sh logs $(SERVICE)

images-daemons: build
	@QUIET=$(if $(filter up,$(MAKECMDGOALS)),1,) hack/compose/build-images.sh

# hack/compose's own programs (probe, gantry-dev) live outside go.work; the
# systemd units are checked with systemd-analyze (hack/systemd/verify.sh).
test-compose: build
	cd hack/compose && $(GO) vet ./... && $(GO) test $(TEST_FLAGS) ./...
	hack/systemd/verify.sh

# The pod images (gantry/pause, gantry/demo, busybox), built locally without
# a registry; fast when they are up to date.
.PHONY: images bench-kubelet
images:
	hack/build-images.sh

# Pod startup latency through a real kubelet on Docker (created → Running
# seen by a watch) beside a bare `docker run`, and the kubelet's RSS.
bench-kubelet: build images
	cd test && $(GO) test -run '^$$' -bench 'BenchmarkKubelet' -benchtime 1x -timeout 30m ./e2e/kubelet/

bench-scheduler:
	cd test && $(GO) test -run '^$$' -bench 'BenchmarkScheduling(Basic|Backlog)' -benchtime 1x -timeout 40m ./integration/scheduler/
	cd scheduler && $(GO) test -run '^$$' -bench 'BenchmarkSchedulingAlgorithm' -benchtime 1x -timeout 20m ./internal/scheduler/

.PHONY: bench-controllers
# A ReplicaSet scaled 0 -> 1,000 pods by the controller-manager binary over
# hollow nodes: create-1000-ms, running-1000-ms and cm-cpu-s.
bench-controllers:
	@mkdir -p bin
	cd controller-manager && CGO_ENABLED=0 $(GO) build -trimpath -o ../bin/controller-manager ./cmd/controller-manager
	cd test && CONTROLLER_MANAGER_BIN=$(CURDIR)/bin/controller-manager $(GO) test -run '^$$' -bench 'BenchmarkReplicaSet1000' -benchtime 1x -count 3 -timeout 20m ./integration/controllers/

.PHONY: bench-ccm
# Time from creating a LoadBalancer Service to its ingress IP on the e2e
# cluster (docker provider, gantry/lb container): ms-to-address, worst-ms
# (goal 10 s). Builds its own binaries and images.
bench-ccm:
	cd test && $(GO) test -run '^$$' -bench 'BenchmarkLoadBalancerAddress' -benchtime 5x -timeout 20m ./e2e/ccm/

# How long `make up` takes, cold (bin/ and images removed) and warm; see
# docs/benchmarks.md. KEEP_POD_IMAGES=1 on a machine shared with other tests.
.PHONY: bench-dev-cluster
bench-dev-cluster:
	hack/compose/bench-up.sh

# kube-proxy sync times against real iptables in a network namespace the
# benchmark makes (root), with both iptables backends: legacy (medians of 5)
# and nft (once: iptables-nft-restore is slow on large inputs, about 25 min).
BENCH_PROXY_BACKENDS ?= legacy nft
.PHONY: bench-proxy
bench-proxy:
	@set -e; for be in $(BENCH_PROXY_BACKENDS); do \
	  n=5x; [ $$be = nft ] && n=1x; \
	  echo "== iptables backend: $$be"; \
	  (cd kube-proxy/internal/proxier && GANTRY_IPTABLES=$$be $(GO) test -run '^$$' -bench 'BenchmarkSync|BenchmarkRender' -benchtime $$n -timeout 90m .); \
	done
