#!/usr/bin/env bash
# Checks the unit files: stages them with install.sh into a temporary folder
# (binaries from bin/; run make build first), points them at the staged
# binaries and environment files, and runs `systemd-analyze verify` (unknown
# keys, bad values, missing executables) and `systemd-analyze security`
# (prints each unit's exposure score). Needs systemd-analyze, not a running
# systemd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v systemd-analyze >/dev/null || { echo "verify: systemd-analyze is missing (apt-get install systemd)" >&2; exit 1; }
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage/root" "$ROOT/hack/systemd/install.sh" "$@" >/dev/null
mkdir -p "$stage/units"
for u in "$stage"/root/etc/systemd/system/gantry-*.service; do
  sed -e "s,/usr/local/bin/,$stage/root/usr/local/bin/,g" -e "s,/etc/gantry/,$stage/root/etc/gantry/,g" "$u" >"$stage/units/$(basename "$u")"
done
cd "$stage/units"
# verify exits 0 even for unknown keys and bad values: any word from it fails.
out="$(systemd-analyze verify ./gantry-*.service 2>&1)" || true
if [[ -n "$out" ]]; then
  echo "$out" >&2
  echo "verify: systemd-analyze found problems" >&2
  exit 1
fi
for u in ./gantry-*.service; do
  printf '%-42s %s\n' "${u#./}" "$(systemd-analyze security --offline=yes "$u" 2>/dev/null | tail -n1 | sed 's/.*: //')"
done
echo "verify: units OK"
