#!/usr/bin/env bash
# What the dashboard's browser test (tests/integration/test_dashboard.py) needs:
#   - Debian's Chromium (apt package `chromium`, /usr/bin/chromium);
#   - the Python `playwright` package from PyPI, which drives that Chromium.
# Playwright's own browser download (`playwright install`) is never used: the test launches
# /usr/bin/chromium through executable_path. Idempotent; when everything is in place it only
# checks, in well under a second.
#
# Usage: scripts/install-browser-test-deps.sh [PYTHON]   (default: .venv/bin/python of the repo)
set -euo pipefail

PLAYWRIGHT_VERSION=1.65.2
CHROMIUM=/usr/bin/chromium

cd "$(dirname "$0")/.."
PYTHON=${1:-${PYTHON:-.venv/bin/python}}

if [ ! -x "$CHROMIUM" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "installing Debian's chromium (apt-get)" >&2
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    test -x "$CHROMIUM"
fi

if ! "$PYTHON" - "$PLAYWRIGHT_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(version("playwright") != sys.argv[1])
PY
then
    echo "installing playwright==$PLAYWRIGHT_VERSION into $PYTHON (no browser download)" >&2
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$PYTHON" -m pip install --quiet \
        "playwright==$PLAYWRIGHT_VERSION"
fi
