#!/usr/bin/env bash
# Proves the checked-in generated Go code is what hack/update-proto.sh makes.
set -o errexit -o nounset -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$ROOT/hack/update-proto.sh" "$TMP"
status=0
while IFS= read -r f; do
  rel=${f#"$TMP"/}
  if ! cmp -s "$f" "$ROOT/proto/$rel"; then
    echo "out of date: proto/$rel (run hack/update-proto.sh)" >&2
    status=1
  fi
done < <(find "$TMP" -name '*.pb.go')
while IFS= read -r f; do
  rel=${f#"$ROOT"/proto/}
  [[ -f "$TMP/$rel" ]] || { echo "stale generated file: proto/$rel" >&2; status=1; }
done < <(find "$ROOT/proto/gantry" -name '*.pb.go')
exit $status
