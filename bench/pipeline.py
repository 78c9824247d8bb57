"""End to end: recorded EDGAR replayed through ingest, analyze and the gateway to a WebSocket.

The three services and the EDGAR emulator run as separate processes on the local
infrastructure, as `sec-digester demo` runs them. A WebSocket client connected from `latest`
measures, for every filing it receives, the time since ingest detected it (`detected_at`, set
when the replay publishes it): ingest's transaction, analyze (documents from the emulator at the
default SEC rate share, offline analyzer) and the gateway's fan-out, all included.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
from collections import defaultdict
from pathlib import Path

from websockets.asyncio.client import connect

from bench._setup import CORPUS, local_topics, print_header
from services.emulator.server import run_emulator
from tests.support.cli import edgar_environment, environment_for
from tests.support.gateway import GatewayProcess
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port


async def _measure(gateway: GatewayProcess, seconds: float) -> dict[str, list[float]]:
    """Latencies (ms) by the filing's document status (fetched, not_found, skipped, ...)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    async with connect(f"{gateway.ws_url}?from=latest") as ws:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - loop.time()))
            except TimeoutError:
                break
            if frame["type"] == "filing":
                data = frame["data"]
                detected = dt.datetime.fromisoformat(data["filing"]["detected_at"])
                latency = (dt.datetime.now(dt.UTC) - detected).total_seconds() * 1000
                latencies[data["document_status"]].append(latency)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60, help="replay speed (60 = 1 h/min)")
    parser.add_argument("--seconds", type=float, default=90, help="how long the client listens")
    parser.add_argument("log_dir", nargs="?", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    print_header(
        "end to end: replay -> ingest -> analyze -> gateway -> WebSocket",
        "make bench  (or: .venv/bin/python -m bench.pipeline [--speed N])",
    )
    log_dir = args.log_dir
    settings = local_topics()
    asyncio.run(provision(settings))
    with run_emulator(CORPUS) as emulator:
        env = environment_for(settings, **edgar_environment(emulator))
        ingest = ServiceProcess(
            "e2e-ingest",
            [
                "ingest",
                "--source",
                "replay",
                "--corpus",
                str(CORPUS),
                "--speed",
                str(args.speed),
            ],
            env | {"INGEST_HEALTH_PORT": str(free_port())},
            log_dir,
        )
        analyze_env = env | {
            "ANALYZE_HEALTH_PORT": str(free_port()),
            "ANALYZE_GROUP_ID": f"e2e-{settings.topic_raw}",
            "ANALYZE_INSTANCE_ID": "e2e-0",
        }
        analyze = ServiceProcess("e2e-analyze", ["analyze"], analyze_env, log_dir)
        # The gateway first, so the client is listening before the first filing is published.
        with GatewayProcess(settings, log_dir, name="e2e-gateway") as gateway, ingest, analyze:
            by_status = asyncio.run(_measure(gateway, args.seconds))
    latencies = sorted(ms for values in by_status.values() for ms in values)
    if not latencies:
        raise SystemExit("no filing reached the client")
    fetching = (
        "no document fetching"
        if os.environ.get("ANALYZE_FETCH_FORMS") == ""
        else ("documents fetched for 8-K etc. at 5 requests/s")
    )
    print(
        f"   {len(latencies)} filings in {args.seconds:.0f} s at replay speed {args.speed:g} "
        f"({fetching}, offline analyzer)"
    )
    print(f"   detected -> client: {_summary(latencies)}")
    for status, values in sorted(by_status.items()):
        print(f"     document {status}: {len(values)} filings, {_summary(sorted(values))}")


def _summary(ordered: list[float]) -> str:
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):,.0f} ms, p99 {p99:,.0f} ms, max {ordered[-1]:,.0f} ms"


if __name__ == "__main__":
    main()
