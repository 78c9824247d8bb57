"""Off a terminal every stderr line is one JSON object, whoever wrote it: our structlog events,
standard-library records, Python warnings, and librdkafka (whose own lines look like
`%3|1700000000.000|FAIL|...`). The gateway's uvicorn and httpx lines are checked on a real
gateway in tests/integration/test_logs.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]

# A process configured like every service, whose consumer points at a port nobody listens on:
# librdkafka then logs FAIL (connection refused) lines, served by the consumer's poll.
_LOG_SOURCES = """
import asyncio, logging, sys, warnings

import structlog

from services.common.kafka import KafkaConsumer, consumer_config
from services.common.logging import configure_logging
from services.common.settings import CommonSettings

configure_logging("INFO", "auto")
structlog.get_logger().info("ours", topic="sec.filings.raw")
logging.getLogger("sec_digester_client.client").warning("gateway %s: %s", "ws://x", "refused")
warnings.warn("a library's warning", UserWarning, stacklevel=1)
try:
    {}["missing"]
except KeyError:
    logging.getLogger("a.library").exception("failed")

async def consume_from_a_closed_port() -> None:
    settings = CommonSettings(kafka_bootstrap_servers=sys.argv[1])
    async with KafkaConsumer(consumer_config(settings, client_id="log-test")) as consumer:
        await consumer.consume(wait_s=2.0)

asyncio.run(consume_from_a_closed_port())
"""


def _stderr_events() -> list[dict[str, Any]]:
    process = subprocess.run(
        [sys.executable, "-c", _LOG_SOURCES, f"127.0.0.1:{free_port()}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stderr.strip(), "nothing was logged"
    events = []
    for line in process.stderr.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return events


def test_off_a_terminal_every_line_is_json_librdkafka_and_the_standard_library_included() -> None:
    events = _stderr_events()
    assert all(isinstance(event, dict) and "timestamp" in event for event in events)

    ours = next(e for e in events if e["event"] == "ours")
    assert ours["topic"] == "sec.filings.raw"
    assert ours["level"] == "info"

    client = next(e for e in events if e.get("logger") == "sec_digester_client.client")
    assert client["event"] == "gateway ws://x: refused"
    assert client["level"] == "warning"

    warning = next(e for e in events if e.get("logger") == "py.warnings")
    assert "a library's warning" in warning["event"]

    crash = next(e for e in events if e.get("logger") == "a.library")
    assert crash["level"] == "error"
    assert crash["exception"][0]["exc_type"] == "KeyError"

    librdkafka = [e for e in events if e.get("logger") == "librdkafka"]
    assert librdkafka, "librdkafka logged nothing through the logger callback"
    refused = librdkafka[0]
    assert refused["facility"] == "FAIL"
    assert refused["level"] == "error"
    assert refused["client"].startswith("log-test#consumer")
    assert "Connection refused" in refused["event"]
