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
from pathlib import Path

from websockets.asyncio.client import connect

from bench._setup import CORPUS, local_topics, print_header
from services.emulator.server import run_emulator
from tests.support.cli import edgar_environment, environment_for
from tests.support.gateway import GatewayProcess
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port


async def _measure(gateway: GatewayProcess, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with connect(f"{gateway.ws_url}?from=latest") as ws:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - loop.time()))
            except TimeoutError:
                break
            if frame["type"] == "filing":
                detected = dt.datetime.fromisoformat(frame["data"]["filing"]["detected_at"])
                latencies.append((dt.datetime.now(dt.UTC) - detected).total_seconds() * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60, help="replay speed (60 = 1 h/min)")
    parser.add_argument("--seconds", type=float, default=90, help="how long the client listens")
    parser.add_argument("log_dir", nargs="?", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    print_header("end to end: replay -> ingest -> analyze -> gateway -> WebSocket",
                 "make bench  (or: .venv/bin/python -m bench.pipeline [--speed N])")  # fmt: skip
    log_dir = args.log_dir
    settings = local_topics()
    asyncio.run(provision(settings))
    with run_emulator(CORPUS) as emulator:
        env = environment_for(settings, **edgar_environment(emulator))
        ingest = ServiceProcess("e2e-ingest", [
            "ingest", "--source", "replay", "--corpus", str(CORPUS), "--speed", str(args.speed),
        ], env | {"INGEST_HEALTH_PORT": str(free_port())}, log_dir)  # fmt: skip
        analyze_env = env | {
            "ANALYZE_HEALTH_PORT": str(free_port()),
            "ANALYZE_GROUP_ID": f"e2e-{settings.topic_raw}",
            "ANALYZE_INSTANCE_ID": "e2e-0",
        }
        analyze = ServiceProcess("e2e-analyze", ["analyze"], analyze_env, log_dir)
        # The gateway first, so the client is listening before the first filing is published.
        with GatewayProcess(settings, log_dir, name="e2e-gateway") as gateway, ingest, analyze:
            latencies = sorted(asyncio.run(_measure(gateway, args.seconds)))
    if not latencies:
        raise SystemExit("no filing reached the client")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    fetching = (
        "no document fetching"
        if os.environ.get("ANALYZE_FETCH_FORMS") == ""
        else ("documents fetched for 8-K etc. at 5 requests/s")
    )
    print(
        f"   {len(latencies)} filings in {args.seconds:.0f} s at replay speed {args.speed:g} "
        f"({fetching}, offline analyzer)"
    )
    print(f"   detected -> client: p50 {statistics.median(latencies):,.0f} ms, "
          f"p99 {p99:,.0f} ms, max {latencies[-1]:,.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
