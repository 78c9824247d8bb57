"""Limits per API key: how much of a gateway process one key may hold at once.

One `KeyLimit` per limit (`KeyLimits`, from the settings):

    connections   streams, WebSocket and SSE together (GATEWAY_MAX_CONNECTIONS_PER_KEY)
    replays       streams reading history older than the tail's ring from Kafka, each with a
                  consumer of its own and the replay worker processes' time
                  (GATEWAY_MAX_REPLAYS_PER_KEY)
    mcp_requests  /mcp requests in flight (GATEWAY_MAX_MCP_REQUESTS_PER_KEY)

and `ReplayRates`: the records a second one key's replays read from Kafka, together
(GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY). The replay limit bounds how many Kafka consumers a key
holds; the rate bounds how much of the gateway's and the brokers' CPU its history takes, which
is what slows other keys' live delivery (bench/gateway.py --only fairness).

A slot is held with `slot(key)`, a context manager: it is given back when the stream, the
replay or the request ends, however it ends. Past the limit it refuses at once with the limit's
`GatewayError` (too_many_connections 4429, too_many_replays 4430, too_many_requests: HTTP 429
with Retry-After), counted in `gateway_key_limit_refusals_total{limit=...}`. Nothing waits for
a slot: a queued stream would hold its connection doing nothing, and the client, backing off
and resuming from its cursor, is the better judge of when to try again.

The counts are per gateway process: with `--workers N` or several replicas a key may hold up to
that many times each limit in all (keeping one count across processes would put a shared store
in the path of every connection). A gateway without API keys has nobody to tell apart: every
client is anonymous (key None) and no limit applies; it is meant for local use or behind a
proxy that does its own admission.

Only the event loop calls these.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.gateway.errors import ErrorCode, GatewayError
from services.gateway.metrics import KEY_LIMIT_REFUSALS
from services.gateway.settings import GatewaySettings


class KeyLimit:
    """At most `maximum` held at once per API key; past it, `code` with `message`. `name`
    labels the refusals' metric."""

    def __init__(
        self, name: str, maximum: int, code: ErrorCode, message: str, *, retry_after_s: int
    ) -> None:
        if maximum < 1:
            raise ValueError(f"{name}: the maximum must be at least 1, got {maximum}")
        self.name = name
        self.maximum = maximum
        self._code = code
        self._message = message
        self._retry_after_s = retry_after_s
        self._refused = KEY_LIMIT_REFUSALS.labels(limit=name)
        self._held: dict[str | None, int] = {}

    @contextmanager
    def slot(self, key: str | None) -> Iterator[None]:
        """Hold one of `key`'s slots for the body; GatewayError (nothing held) when it holds
        all of them. Key None (a gateway without API keys) is never limited."""
        if key is None:
            yield
            return
        held = self._held.get(key, 0)
        if held >= self.maximum:
            self._refused.inc()
            raise GatewayError(self._code, self._message, retry_after_s=self._retry_after_s)
        self._held[key] = held + 1
        try:
            yield
        finally:
            if self._held[key] == 1:
                del self._held[key]  # keys that come and go leave nothing behind
            else:
                self._held[key] -= 1

    def held(self, key: str | None) -> int:
        return self._held.get(key, 0)


@dataclass(frozen=True)
class KeyLimits:
    connections: KeyLimit
    replays: KeyLimit
    mcp_requests: KeyLimit

    @classmethod
    def of(cls, settings: GatewaySettings) -> KeyLimits:
        # Retry-After: a stream's slot frees when some stream of the key ends, which takes a
        # while; an MCP request's within about a second.
        return cls(
            connections=KeyLimit(
                "connections",
                settings.gateway_max_connections_per_key,
                ErrorCode.TOO_MANY_CONNECTIONS,
                "this API key holds its maximum of streams "
                f"({settings.gateway_max_connections_per_key}, "
                "GATEWAY_MAX_CONNECTIONS_PER_KEY); retry later",
                retry_after_s=5,
            ),
            replays=KeyLimit(
                "replays",
                settings.gateway_max_replays_per_key,
                ErrorCode.TOO_MANY_REPLAYS,
                "this API key holds its maximum of replays from Kafka "
                f"({settings.gateway_max_replays_per_key}, GATEWAY_MAX_REPLAYS_PER_KEY): "
                "history older than the gateway's memory; retry later from the cursor",
                retry_after_s=5,
            ),
            mcp_requests=KeyLimit(
                "mcp_requests",
                settings.gateway_max_mcp_requests_per_key,
                ErrorCode.TOO_MANY_REQUESTS,
                "this API key has its maximum of /mcp requests in flight "
                f"({settings.gateway_max_mcp_requests_per_key}, "
                "GATEWAY_MAX_MCP_REQUESTS_PER_KEY); retry later",
                retry_after_s=1,
            ),
        )


class RecordRate:
    """At most `per_s` records a second for whoever shares it (one key's replays): each
    `take` waits its turn, so the key's replays divide the rate between them."""

    def __init__(self, per_s: float) -> None:
        self._per_s = per_s
        self._next = time.monotonic()  # when the next record may go

    async def take(self, records: int) -> None:
        now = time.monotonic()
        start = max(self._next, now)
        self._next = start + records / self._per_s
        if start > now:
            await asyncio.sleep(start - now)


class ReplayRates:
    """Each API key's `RecordRate` for reading history from Kafka
    (GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY; 0: unpaced, as is every replay without keys)."""

    def __init__(self, per_s: float) -> None:
        self._per_s = per_s
        self._rates: dict[str, RecordRate] = {}  # the configured keys: a bounded set

    async def take(self, key: str | None, records: int) -> None:
        if key is None or not self._per_s:
            return
        rate = self._rates.get(key)
        if rate is None:
            rate = self._rates[key] = RecordRate(self._per_s)
        await rate.take(records)
