#!/usr/bin/env bash
# PostgreSQL from Debian's `postgresql` package, for the filings store's PostgreSQL backend in
# the tests (tests/support/postgres.py) and `sec-digester infra up --postgres`. Only the
# binaries are used (/usr/lib/postgresql/<version>/bin: initdb, pg_ctl, postgres): the
# clusters are our own, initdb'd and started by sec-digester on their own ports; the
# package's own cluster (if its post-install started one on 5432) is left alone.
#
# Idempotent: when initdb is already there, it only checks, in well under a second.
#
# Usage: scripts/install-postgres.sh
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# No candidate means the package lists were never fetched on this machine.
policy=$(apt-cache policy postgresql 2>/dev/null || true)
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
    echo "install-postgres: fetching Debian's package lists (apt-get update)" >&2
    $SUDO apt-get update -qq
fi
echo "install-postgres: apt-get install postgresql" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
    echo "install-postgres: installed, yet no /usr/lib/postgresql/*/bin/initdb" >&2
    exit 1
}
