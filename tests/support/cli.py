"""Running `sec-digester` as a user does: a separate process, configured by its environment."""

from __future__ import annotations

import os
import subprocess
import sys

from services.common.settings import CommonSettings, shared_environment
from services.emulator.server import EmulatorHandle
from services.infra.settings import InfraSettings


def environment_for(settings: CommonSettings, **extra: str) -> dict[str, str]:
    """The environment that points a command at the same Kafka, registry and topics."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in _SETTING_NAMES}
    env |= shared_environment(settings) | {"LOG_FORMAT": "json"}
    return env | extra


def edgar_environment(emulator: EmulatorHandle) -> dict[str, str]:
    """Point a service at the EDGAR emulator, with a declared User-Agent."""
    return {
        "EDGAR_BASE_URL": emulator.base_url,
        "EDGAR_DATA_URL": emulator.data_url,
        "EDGAR_USER_AGENT": "sec-digester tests contact@example.com",
    }


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


# Settings a developer may have exported; tests must not inherit them.
_SETTING_NAMES = {name.upper() for name in InfraSettings.model_fields}
