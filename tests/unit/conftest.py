"""Fixtures shared by the unit tests of the chart (test_helm_chart.py, test_alert_rules.py), and
the Hypothesis profile of the property tests (tests/hypothesis_profiles.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hypothesis_profiles import load_profile

load_profile()


@pytest.fixture(scope="module")
def helm() -> Path:
    """Helm, built by scripts/install-helm.sh; without it the chart tests fail, never skip."""
    bin_dir = os.environ.get("HELM_BIN_DIR") or str(Path.home() / ".cache/sec-digester/bin")
    path = Path(bin_dir) / "helm"
    if not os.access(path, os.X_OK):
        pytest.fail(f"helm is not installed at {path}: run scripts/install-helm.sh")
    return path
