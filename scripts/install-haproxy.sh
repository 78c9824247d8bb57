#!/usr/bin/env bash
# HAProxy, the load balancer in front of several gateways in the failover test
# (tests/integration/test_gateway_failover.py) and in deploy/haproxy/: Debian's package. The
# test starts its own haproxy with its own configuration; the package's service is not used.
#
# Idempotent: when haproxy is already installed and runs, it only checks, in well under a
# second.
#
# Usage: scripts/install-haproxy.sh
set -euo pipefail

if command -v haproxy >/dev/null 2>&1 && haproxy -v >/dev/null 2>&1; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# No candidate means the package lists were never fetched on this machine.
policy=$(apt-cache policy haproxy 2>/dev/null || true)
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    echo "install-haproxy: fetching Debian's package lists (apt-get update)" >&2
    $SUDO apt-get update -qq
fi
echo "install-haproxy: installing Debian's haproxy package" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy
haproxy -v >&2
