#!/usr/bin/env bash
# promtool, for the alert rules check (tests/unit/test_alert_rules.py): taken from Debian's
# `prometheus` package. Only the promtool binary is extracted from the .deb (apt-get download
# + dpkg-deb -x): installing the package would also install and try to start a Prometheus
# server, which the tests do not need. The binary goes to ~/.cache/sec-digester/bin/promtool
# (or $PROMTOOL_BIN_DIR).
#
# Idempotent: when the binary is already there and runs, it only checks, in well under a
# second.
#
# Usage: scripts/install-promtool.sh
set -euo pipefail

BIN_DIR=${PROMTOOL_BIN_DIR:-$HOME/.cache/sec-digester/bin}
PROMTOOL=$BIN_DIR/promtool

if [ -x "$PROMTOOL" ] && "$PROMTOOL" --version >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# No candidate means the package lists were never fetched on this machine.
policy=$(apt-cache policy prometheus 2>/dev/null || true)
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    echo "install-promtool: fetching Debian's package lists (apt-get update)" >&2
    $SUDO apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt's download sandbox user (_apt) must be able to write there.
chmod a+rwx "$work"
echo "install-promtool: extracting promtool from Debian's prometheus package" >&2
# apt-get download writes into the current directory and needs no root.
(cd "$work" && apt-get download -qq prometheus)
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$BIN_DIR"
install -m 0755 "$work/root/usr/bin/promtool" "$PROMTOOL"
"$PROMTOOL" --version >&2
