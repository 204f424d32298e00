# Shared by hack/ scripts: installs the code-generation tools on demand.
# protoc comes from Debian's protobuf-compiler; the Go plugins are installed
# with `go install` into .tools/bin so that they stay out of go.work.

TOOLS_BIN="$ROOT/.tools/bin"
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
PROTOC_INCLUDE=/usr/include

ensure_protoc_tools() {
  if ! command -v protoc >/dev/null 2>&1; then
    echo "installing protobuf-compiler (protoc)" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq protobuf-compiler >/dev/null
  fi
  mkdir -p "$TOOLS_BIN"
  local stamp="$TOOLS_BIN/.versions"
  local want="go=$PROTOC_GEN_GO_VERSION grpc=$PROTOC_GEN_GO_GRPC_VERSION"
  if [[ ! -x "$TOOLS_BIN/protoc-gen-go" || ! -x "$TOOLS_BIN/protoc-gen-go-grpc" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    (cd "$ROOT" && GOWORK=off GOBIN="$TOOLS_BIN" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION" \
      && GOWORK=off GOBIN="$TOOLS_BIN" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION")
    echo "$want" >"$stamp"
  fi
}
