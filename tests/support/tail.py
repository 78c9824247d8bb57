"""`sec-digester tail --json` as its own process, and the records it printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.common.settings import CommonSettings
from tests.support.cli import environment_for
from tests.support.gateway import GatewayProcess
from tests.support.processes import ServiceProcess


class TailProcess(ServiceProcess):
    def __init__(
        self,
        settings: CommonSettings,
        gateway: GatewayProcess,
        log_dir: Path,
        *args: str,
        name: str = "tail",
        **env: str,
    ) -> None:
        environment = environment_for(settings, GATEWAY_URL=gateway.ws_url, **env)
        super().__init__(
            name, ["tail", "--json", *args], environment, log_dir, separate_stdout=True
        )

    def records(self) -> list[dict[str, Any]]:
        """Every complete line printed so far, parsed (a line must be one JSON object)."""
        if not self.stdout_path.exists():
            return []
        *complete, _partial = self.stdout_path.read_text().split("\n")
        return [json.loads(line) for line in complete]

    def accessions(self) -> list[str]:
        return [record["filing"]["accession_number"] for record in self.records()]
