"""Gateways behind HAProxy, one killed with SIGKILL mid-stream: how long its clients take to be
back (tests/support/failover.py, the scenario of tests/integration/test_gateway_failover.py).

Three gateway processes behind HAProxy (deploy/haproxy/haproxy.cfg), CLIENTS asyncio WebSocket
clients in this process (a third durable, with `client_id`, acknowledging each record), records
put on a three-partition analyzed topic in batches; halfway, one gateway is killed. Reported:
the reconnect time of each client that was on it, from its connection dropping to the welcome
of its new one, p50 and p99; and, as the reference in the same run, the first connection of
every client (all opened at once with every gateway up: the same wave through the balancer).
The clients share this process's event loop: how late it ran is printed too, and a reconnect
time includes that much of it.

Usage: python -m bench.failover [--clients N] [log dir]   (the local infrastructure's settings
from the environment, as `sec-digester infra up` prints them; needs `make haproxy`).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench._setup import local_topics, print_header
from tests.support.failover import run_failover
from tests.support.infra import provision


def _at(times: list[float], fraction: float) -> float:
    return times[min(len(times) - 1, int(fraction * len(times)))]


def _ms(times: list[float], fraction: float) -> str:
    return f"{_at(times, fraction) * 1000:7.0f} ms"


async def main(clients: int, log_dir: Path) -> None:
    print_header("gateway failover behind HAProxy", "python -m bench.failover")
    topics = local_topics()  # three partitions, the default
    await provision(topics)
    result = await run_failover(topics, log_dir, clients=clients)
    reconnects, reference = result.reconnects(), result.first_connects()
    print(f"   {result.summary()}")
    for label, times in (
        ("reconnect after the SIGKILL", reconnects),
        ("  durable (from=committed)", result.reconnects(True)),
        ("  from their cursor", result.reconnects(False)),
        (f"reference: first connects, {clients} at once", reference),
    ):
        print(f"   {label:<42} p50 {_ms(times, 0.5)}   p99 {_ms(times, 0.99)}   n={len(times)}")
    ratio = _at(reconnects, 0.5) / _at(reference, 0.5)
    print(f"   p50 ratio reconnect / first connect: {ratio:.2f}")
    print(f"   logs: {log_dir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("log_dir", nargs="?", type=Path)
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.log_dir or Path(tempfile.mkdtemp(prefix="bench-"))))
