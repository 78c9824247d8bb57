"""Three gateways behind HAProxy (deploy/haproxy/haproxy.cfg), 1,000 WebSocket clients, one
gateway killed with SIGKILL mid-stream (tests/support/failover.py).

Every client reconnects through the balancer and resumes: the non-durable ones from the cursor
of their last frame, exactly (nothing twice, nothing skipped); the durable ones (a third, with
`client_id`, acknowledging what they handle) from their committed position, so they are sent
again what was acknowledged after the killed gateway's last commit, and after dedupe by
accession handle every filing exactly once. Every client gets every record, in order within
each partition. The reconnect times (connection dropped to the welcome of the new one) are
printed: p50 and p99.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.common.kafka import GroupOffsets
from services.common.positions import parse_cursor
from services.common.settings import TopicSettings
from tests.support.failover import run_failover

pytestmark = pytest.mark.asyncio

CLIENTS = int(__import__("os").environ.get("FAILOVER_CLIENTS", "1000"))
# Durable clients whose committed positions are read back at the end (all would take a pool
# handle each, one after another).
CHECKED_GROUPS = 30


@pytest.mark.timeout(180)
async def test_every_client_resumes_through_the_balancer_after_a_gateway_is_killed(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    result = await run_failover(three_partitions, tmp_path, clients=CLIENTS)
    print(f"\nfailover: {result.summary()}")
    expected = set(result.accessions)
    dropped = [c for c in result.clients if c.connections > 1]
    assert dropped, "no client was on the killed gateway"
    assert len(result.reconnects()) == len(dropped)  # one reconnect each: the balancer redispatched
    for client in result.clients:
        assert len(client.handled) == len(expected), client.client_id
        assert set(client.handled) == expected, client.client_id
        for partition, offsets in client.offsets.items():  # in order, each partition
            assert offsets == sorted(offsets), (client.client_id, partition)
        if not client.durable:  # resumed from its own cursor: exactly once without dedupe
            assert client.redelivered == 0, client.client_id
    durable = [c for c in result.clients if c.durable]
    assert len(durable) == len(range(0, CLIENTS, 3))
    # What the durable clients acknowledged last is committed: each closed after its last ack,
    # which its gateway writes when the stream ends.
    pool = GroupOffsets(three_partitions, size=8, client_id="test-failover")
    try:
        for client in durable[:CHECKED_GROUPS]:
            assert client.acked is not None
            acked = parse_cursor(client.acked, "acked")
            group = f"sec-gateway.{client.client_id}"
            async with asyncio.timeout(10):
                while True:
                    topic = three_partitions.topic_analyzed
                    if await pool.committed(group, topic, sorted(acked)) == acked:
                        break
                    await asyncio.sleep(0.1)
    finally:
        await pool.aclose()
