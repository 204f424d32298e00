#!/usr/bin/env bash
# Regenerates the Go code of every .proto under proto/gantry with protoc
# (Debian's protobuf-compiler) and the Go plugins pinned below, installed into
# .tools/bin (outside go.work, so they move no module's versions).
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/proto}
source "$ROOT/hack/lib/tools.sh"
ensure_protoc_tools

cd "$ROOT/proto"
find "$OUT/gantry" -name '*.pb.go' -delete 2>/dev/null || true
mapfile -t files < <(find gantry -name '*.proto' | sort)
protoc -I . -I "$PROTOC_INCLUDE" \
  --plugin=protoc-gen-go="$TOOLS_BIN/protoc-gen-go" \
  --plugin=protoc-gen-go-grpc="$TOOLS_BIN/protoc-gen-go-grpc" \
  --go_out="$OUT" --go_opt=paths=source_relative \
  --go-grpc_out="$OUT" --go-grpc_opt=paths=source_relative \
  "${files[@]}"
