"""Posting one alert to one sink until the sink has it, or refuses it for good.

What an answer means (`verdict`):
- 2xx: accepted.
- 429: retried after the wait the answer names: Discord's JSON body `retry_after` (seconds,
  fractional), else the Retry-After header (seconds or an HTTP date); backoff if neither.
- 5xx, 408, connection errors and timeouts: retried with exponential backoff and jitter, for as
  long as it takes: alerts wait (in order) rather than being dropped by an outage.
- any other status (400, 401, 403, 404, 413, 3xx ...): permanent. The same request will be
  refused again (a deleted webhook, a malformed payload), and retrying it forever would hold up
  every later alert. It is logged as an error with the sink, the status and the answer, and the
  alert is given up for that sink only.
A shutdown during a retry wait interrupts the delivery: the record stays unacknowledged and is
delivered again after the restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import orjson
import structlog
from sec_digester_client import FilingAnalysis

from services.alerts import discord
from services.alerts.signing import signature_headers
from services.common.edgar import retry_after_seconds
from services.common.errors import SecDigesterError
from services.common.lifecycle import sleep_or_stop
from services.common.retry import RetryPolicy

log = structlog.get_logger(__name__)

# 2^20 times the initial delay is far beyond any cap: keeps the backoff's power finite.


class DeliveryInterruptedError(SecDigesterError):
    """Shutdown came while a sink was being retried; the record was not acknowledged."""

    retriable = True


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Literal["accepted", "retry", "permanent"]
    wait_s: float | None = None  # how long the sink asked us to wait (429, Retry-After)
    reason: str = ""


def verdict(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    if 200 <= status < 300:
        return Verdict("accepted")
    if status == 429:
        wait = _body_retry_after(body)
        if wait is None:
            wait = retry_after_seconds(headers.get("retry-after"))
        return Verdict("retry", wait, "HTTP 429 (rate limited)")
    if status >= 500 or status == 408:
        return Verdict("retry", retry_after_seconds(headers.get("retry-after")), f"HTTP {status}")
    return Verdict("permanent", None, f"HTTP {status}: {body[:300].decode(errors='replace')}")


def _body_retry_after(body: bytes) -> float | None:
    """Discord's 429 body: {"message": ..., "retry_after": 0.25, "global": false}."""
    try:
        value = json.loads(body).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return max(0.0, float(value)) if isinstance(value, int | float) else None


@dataclass(frozen=True, slots=True)
class Sink:
    kind: Literal["discord", "webhook"]
    url: str  # a secret: never logged
    signing_secret: str | None = None  # generic webhooks: sign each POST (signing.py)

    @property
    def name(self) -> str:
        return f"{self.kind}:{urlsplit(self.url).hostname}"

    def body(self, record: FilingAnalysis) -> dict[str, Any]:
        if self.kind == "discord":
            return discord.message(record)
        # The record as the gateway served it, newer fields included.
        return dict(record.raw)


class Poster:
    def __init__(self, http: httpx.AsyncClient, stop: asyncio.Event, policy: RetryPolicy) -> None:
        self._http = http
        self._stop = stop
        self._policy = policy

    async def deliver(self, sink: Sink, record: FilingAnalysis) -> bool:
        """True once the sink accepted it; False if it refused it for good."""
        bound = log.bind(sink=sink.name, accession=record.accession_number)
        # Encoded once: a signature covers exactly the bytes sent, on every attempt.
        body = orjson.dumps(sink.body(record))
        # Lets a receiver drop a repeat (e.g. after a restart during an outage of another sink).
        headers = {"Idempotency-Key": record.accession_number, "Content-Type": "application/json"}
        attempt = 0
        while True:
            attempt += 1
            try:
                signed = signature_headers(sink.signing_secret, body) if sink.signing_secret else {}
                response = await self._http.post(sink.url, content=body, headers=headers | signed)
                result = verdict(response.status_code, response.headers, response.content)
            except httpx.TransportError as exc:  # connection refused or reset, timeouts
                result = Verdict("retry", None, f"{type(exc).__name__}: {exc}")
            if result.kind == "accepted":
                bound.info("alert posted", attempts=attempt)
                return True
            if result.kind == "permanent":
                bound.error("sink refused the alert; given up for this sink", reason=result.reason)
                return False
            delay = result.wait_s
            if delay is None:
                delay = self._policy.backoff(attempt)
            bound.warning("alert not accepted yet", reason=result.reason, retry_in_s=delay)
            if await sleep_or_stop(self._stop, delay):
                raise DeliveryInterruptedError(
                    f"stopped while retrying {sink.name} for {record.accession_number}"
                )
