#!/usr/bin/env bash
# Installs Gantry daemons as systemd units on this machine:
#   bin/<daemon>                  -> /usr/local/bin/<daemon>
#   hack/systemd/gantry-<d>.service -> /etc/systemd/system/
#   hack/systemd/env/<d>.env      -> /etc/gantry/<d>.env (only when missing:
#                                    your edits are kept)
# and creates the system user `gantry` the control-plane daemons run as.
# It does not start anything: edit /etc/gantry/*.env, then
# `systemctl enable --now gantry-<daemon>`. See README.md, "Deploy as systemd
# units".
#
#   hack/systemd/install.sh [daemon ...]      (default: all six)
#   DESTDIR=/tmp/root hack/systemd/install.sh  (stage into a folder; no
#                                               user, no systemctl)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/usr/local}"
ALL=(apiserver scheduler controller-manager cloud-controller-manager kubelet kube-proxy)
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")

for d in "${names[@]}"; do
  [[ -f "$ROOT/hack/systemd/gantry-$d.service" ]] || { echo "install: unknown daemon $d (one of: ${ALL[*]})" >&2; exit 2; }
  [[ -x "$ROOT/bin/$d" ]] || { echo "install: bin/$d is missing: run make build" >&2; exit 1; }
done

if [[ -z "$DESTDIR" ]] && ! id gantry >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --home-dir /var/lib/gantry --shell /usr/sbin/nologin gantry
  echo "created system user gantry"
fi

install -d -m 0755 "$DESTDIR$PREFIX/bin" "$DESTDIR/etc/systemd/system" "$DESTDIR$PREFIX/share/doc/gantry"
install -d -m 0750 "$DESTDIR/etc/gantry"
[[ -n "$DESTDIR" ]] || chgrp gantry "$DESTDIR/etc/gantry"
install -m 0644 "$ROOT/README.md" "$DESTDIR$PREFIX/share/doc/gantry/README.md"
for d in "${names[@]}"; do
  install -m 0755 "$ROOT/bin/$d" "$DESTDIR$PREFIX/bin/$d"
  sed "s,/usr/local/,$PREFIX/,g" "$ROOT/hack/systemd/gantry-$d.service" >"$DESTDIR/etc/systemd/system/gantry-$d.service"
  chmod 0644 "$DESTDIR/etc/systemd/system/gantry-$d.service"
  if [[ -e "$DESTDIR/etc/gantry/$d.env" ]]; then
    echo "kept /etc/gantry/$d.env"
  else
    install -m 0640 "$ROOT/hack/systemd/env/$d.env" "$DESTDIR/etc/gantry/$d.env"
    [[ -n "$DESTDIR" ]] || chgrp gantry "$DESTDIR/etc/gantry/$d.env"
  fi
  echo "installed gantry-$d"
done

if [[ -z "$DESTDIR" ]] && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
fi
echo "next: edit /etc/gantry/*.env, then systemctl enable --now gantry-<daemon>"
