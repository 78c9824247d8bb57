"""What a client connects to and how it behaves when the connection does not.

The parameters are the gateway's (docs/gateway-protocol.md); they are checked here only as far
as a mistake would otherwise be retried or silently mean something else: the gateway is the
authority on everything else and answers a bad value with close code 4400.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sec_digester_client.errors import BadParameterError
from sec_digester_client.records import Priority

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# The filters that are lists (comma-separated in the URL, JSON arrays in a subscribe frame).
LIST_FILTERS = ("tickers", "forms", "items", "transaction_codes", "insider_roles")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    url: str = "ws://localhost:8000/stream"
    # Makes the position durable: acknowledged records are committed by the gateway under
    # this id, and a new process with the same id resumes right after them.
    client_id: str | None = None
    api_key: str | None = None
    # Records are typed as FilingAnalysis, which only the analyzed topic carries.
    topic: str = "analyzed"
    tickers: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    min_priority: str | None = None
    items: tuple[str, ...] = ()
    # Ownership facts of a Form 3/4/5: any transaction with one of these codes (P, S, ...),
    # any transaction worth at least this many dollars, any reporting owner in one of these
    # roles (director, officer, ten_percent_owner, other).
    transaction_codes: tuple[str, ...] = ()
    min_value_usd: float | None = None
    insider_roles: tuple[str, ...] = ()
    # Beneficial ownership facts of a Schedule 13D/13G: a stake of at least this percent of
    # the class, and of this kind ("active" for a 13D, "passive" for a 13G).
    min_stake_pct: float | None = None
    stake_kind: Literal["active", "passive"] | None = None
    # The first connection's `from`; None = committed with a client_id, else latest.
    # Reconnections always continue from where this client got to.
    start: str | None = None
    # Records removed before this client read them (retention, a topic created again): "raise"
    # a GapError before the first record after them, or "report" the gap (to the StreamClient's
    # gap_handler, or as a warning log) and go on.
    on_gap: Literal["raise", "report"] = "raise"
    ping_interval_s: float = 15.0
    # No pong (nor any other frame) this long after a ping: the connection is dead.
    pong_timeout_s: float = 10.0
    # For the TCP connection, the WebSocket handshake and the welcome frame together.
    connect_timeout_s: float = 10.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # Accession numbers remembered to drop redeliveries (at-least-once across reconnects).
    dedupe_window: int = 10_000
    # A filing frame carries a whole analysis; the gateway sends nothing larger.
    max_frame_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in {"ws", "wss"}:
            raise BadParameterError(f"url: {self.url!r} is not a ws:// or wss:// URL")
        if self.client_id is not None and not _CLIENT_ID.match(self.client_id):
            raise BadParameterError("client_id: use 1-100 of A-Z a-z 0-9 . _ -")
        if self.topic != "analyzed":
            raise BadParameterError(f"topic: {self.topic!r}: this client reads 'analyzed'")
        if self.min_priority is not None and self.min_priority not in set(Priority):
            raise BadParameterError(
                f"min_priority: {self.min_priority!r} is not one of "
                + ", ".join(p.value for p in Priority)
            )
        if self.on_gap not in {"raise", "report"}:
            raise BadParameterError(f"on_gap: {self.on_gap!r} is not 'raise' or 'report'")
        for name in LIST_FILTERS:
            if isinstance(getattr(self, name), str):
                raise BadParameterError(f"{name}: a tuple of strings, not one string")
        if self.min_value_usd is not None and not (
            math.isfinite(self.min_value_usd) and self.min_value_usd >= 0
        ):
            raise BadParameterError(f"min_value_usd: {self.min_value_usd!r} is not a number >= 0")
        if self.min_stake_pct is not None and not (
            math.isfinite(self.min_stake_pct) and 0 <= self.min_stake_pct <= 100
        ):
            raise BadParameterError(
                f"min_stake_pct: {self.min_stake_pct!r} is not a percentage from 0 to 100"
            )
        if self.stake_kind not in {None, "active", "passive"}:
            raise BadParameterError(f"stake_kind: {self.stake_kind!r} is not 'active' or 'passive'")
        for name in (
            "ping_interval_s",
            "pong_timeout_s",
            "connect_timeout_s",
            "backoff_initial_s",
            "backoff_max_s",
            "dedupe_window",
            "max_frame_bytes",
        ):
            if getattr(self, name) <= 0:
                raise BadParameterError(f"{name}: must be positive")
        if self.backoff_max_s < self.backoff_initial_s:
            raise BadParameterError("backoff_max_s: must not be below backoff_initial_s")

    def filters(self) -> dict[str, Any]:
        """The filters set, as a `subscribe` frame carries them (lists as lists)."""
        chosen: dict[str, Any] = {
            name: list(getattr(self, name)) for name in LIST_FILTERS if getattr(self, name)
        }
        if self.min_priority is not None:
            chosen["min_priority"] = self.min_priority
        for name in ("min_value_usd", "min_stake_pct"):
            if (number := getattr(self, name)) is not None:
                chosen[name] = float(number)
        if self.stake_kind is not None:
            chosen["stake_kind"] = self.stake_kind
        return chosen

    def stream_url(self, start: str | None) -> str:
        """The URL to connect to, starting at `start` (a `from` value; None = the default)."""
        parts = urlsplit(self.url)
        query = dict(parse_qsl(parts.query))
        wanted = {"topic": self.topic, "client_id": self.client_id, "from": start}
        query |= {name: value for name, value in wanted.items() if value}
        for name, value in self.filters().items():
            # A float's str is the shortest text that reads back as it (1e+20, 250000.0).
            query[name] = ",".join(value) if isinstance(value, list) else str(value)
        return urlunsplit(parts._replace(query=urlencode(query, safe=",:")))

    def headers(self) -> dict[str, str]:
        # A header rather than the api_key query parameter: URLs end up in logs.
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
