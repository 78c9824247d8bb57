"""Cold and warm `sec-digester infra up`.

cold:   an empty download cache and no data: Maven copies the jars (from ~/.m2; the very first
        run on a machine also downloads them from Maven Central), Kafka formats its storage,
        the registry creates its journal topic.
warm:   cache and data exist, both processes stopped: start and wait until both answer.
again:  both already running: `up` only checks them.
Each on its own ports and directories, so a running local infrastructure is left alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench._setup import print_header
from services.infra import local
from services.infra.settings import InfraSettings

_PORT_BASE = 29092


def _timed_up(settings: InfraSettings) -> float:
    start = time.perf_counter()
    local.up(settings)
    return time.perf_counter() - start


def main() -> None:
    print_header(
        "infra up: cold and warm", "make bench  (or: .venv/bin/python -m bench.infra_startup)"
    )
    with tempfile.TemporaryDirectory() as scratch:
        settings = InfraSettings(
            infra_dir=Path(scratch) / "data",
            infra_cache_dir=Path(scratch) / "cache",
            infra_kafka_port=_PORT_BASE,
            infra_controller_port=_PORT_BASE + 1,
            infra_registry_port=_PORT_BASE + 2,
        )
        try:
            cold = _timed_up(settings)
            again = _timed_up(settings)
            local.down(settings)
            warm = _timed_up(settings)
        finally:
            local.down(settings)
    print(f"   cold  (empty cache, fresh data, Maven repo warm): {cold:6.1f} s")
    print(f"   warm  (cache and data present, processes stopped): {warm:6.1f} s")
    print(f"   again (already running):                          {again:6.1f} s")


if __name__ == "__main__":
    main()
