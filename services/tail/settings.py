"""Settings of `sec-digester tail`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from services.common.settings import CommaList
from services.tail.stream_client import StreamClientSettings


class TailSettings(StreamClientSettings):
    # Comma-separated, as the gateway takes them (`--ticker AAPL,MSFT`).
    tail_tickers: CommaList = ()
    tail_forms: CommaList = ()
    tail_items: CommaList = ()
    tail_min_priority: Literal["low", "medium", "high", "critical"] | None = None
    # Ownership facts of a Form 3/4/5 (`--transaction-code P,S --min-value-usd 1e6
    # --insider-role officer`); the gateway checks the values.
    tail_transaction_codes: CommaList = ()
    tail_min_value_usd: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    tail_insider_roles: CommaList = ()
    # earliest, latest, committed, a cursor P:O[,P:O...] or an ISO-8601 time; unset =
    # committed with a client id, else latest.
    tail_from: str | None = None
    # Makes the position durable: the next `tail` with the same id continues where this one
    # stopped.
    tail_client_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")] | None = None
    # Records removed before they were read (retention, a topic created again): "report" says
    # so on stderr and goes on; "raise" stops with exit 1 (the position stays before the gap).
    tail_on_gap: Literal["raise", "report"] = "report"
    # JSON lines on stdout (the FilingAnalysis records as the gateway serves them).
    tail_json: bool = False

    FLAG_ALIASES: ClassVar[dict[str, str]] = {
        "tail_tickers": "ticker",
        "tail_forms": "form",
        "tail_items": "item",
        "tail_min_priority": "min-priority",
        "tail_transaction_codes": "transaction-code",
        "tail_min_value_usd": "min-value-usd",
        "tail_insider_roles": "insider-role",
        "tail_from": "from",
        "tail_client_id": "client-id",
        "tail_on_gap": "on-gap",
        "tail_json": "json",
    }
