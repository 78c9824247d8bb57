"""Fixtures shared by the unit tests of the chart (test_helm_chart.py, test_alert_rules.py) and
of the document fetcher (an EdgarClient for the emulator), and the Hypothesis profile of the
property tests (tests/hypothesis_profiles.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.common.edgar import EdgarClient
from services.common.ratelimit import RequestLimiter
from services.common.retry import RetryPolicy
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


@pytest_asyncio.fixture
async def edgar() -> AsyncIterator[EdgarClient]:
    """A client for the EDGAR emulator: quick to time out and to retry, 10 requests/s."""
    async with EdgarClient(
        user_agent="sec-digester tests tests@example.com",
        limiter=RequestLimiter(10),
        timeout_s=2.0,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01),
    ) as client:
        yield client
