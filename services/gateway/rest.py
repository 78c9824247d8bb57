"""`GET /api/filings` and `GET /api/filings/{accession}`, answered from the FilingIndex.

The index is the lifespan state's (state.py; index.py says why REST is served from memory, not
from Kafka).
Query parameters left empty (`?ticker=&form=`) count as absent, so a form can send every field.
Parameters nobody asked about are ignored: `api_key` rides along with every browser request.
A bad parameter is a 400 whose message starts with the parameter's name; the OpenAPI document
(openapi.py) defines the limits these handlers enforce.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.errors import BadParameterError
from services.gateway.errors import ErrorCode, GatewayError, as_gateway_error, error_response
from services.gateway.openapi import ACCESSION_PATTERN, LIMIT_DEFAULT, LIMIT_MAX
from services.gateway.state import RestState

_ACCESSION = re.compile(ACCESSION_PATTERN)
_DIGITS = re.compile(r"\d{1,7}")  # int() alone would also take " 5", "+5" and "1_0"


class _OrjsonResponse(JSONResponse):
    """Up to 1,000 records per answer: orjson encodes them several times faster than json."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


@dataclass(frozen=True, slots=True)
class FilingQuery:
    ticker: str | None
    form: str | None
    since: dt.datetime | None  # timezone-aware
    limit: int

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> FilingQuery:
        """Raises BadParameterError naming the first parameter that is wrong."""
        since = params.get("since") or None
        limit = params.get("limit") or None
        return cls(
            ticker=params.get("ticker") or None,
            form=params.get("form") or None,
            since=None if since is None else _parse_since(since),
            limit=LIMIT_DEFAULT if limit is None else _parse_limit(limit),
        )


def _parse_since(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        hint = " (a '+' in a URL means a space: write it %2B)" if " " in value else ""
        raise BadParameterError(
            "since", f"{value!r} is not an ISO-8601 time such as 2025-12-12T18:00:00Z{hint}"
        ) from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment  # naive = UTC


def _parse_limit(value: str) -> int:
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= LIMIT_MAX:
        raise BadParameterError("limit", f"{value!r} is not an integer from 1 to {LIMIT_MAX}")
    return int(value)


async def list_filings(request: Request[RestState]) -> Response:
    try:
        query = FilingQuery.from_params(request.query_params)
    except BadParameterError as exc:
        return error_response(as_gateway_error(exc))
    filings = request.state["index"].query(query.ticker, query.form, query.since, query.limit)
    return _OrjsonResponse({"filings": filings, "count": len(filings)})


async def get_filing(request: Request[RestState]) -> Response:
    accession: str = request.path_params["accession"]
    if not _ACCESSION.fullmatch(accession):
        return error_response(
            GatewayError(
                ErrorCode.BAD_PARAMETER,
                f"accession: {accession!r} is not an accession number such as 0000950103-25-016011",
            )
        )
    index = request.state["index"]
    filing = index.get(accession)
    if filing is None:
        return error_response(
            GatewayError(
                ErrorCode.NOT_FOUND,
                f"accession: {accession} is not among the {index.capacity} most recent filings "
                "the gateway holds; older ones are on the analyzed topic (replay or read it)",
            )
        )
    return _OrjsonResponse(filing)


REST_ROUTES = [
    Route("/api/filings", list_filings, methods=["GET"]),
    Route("/api/filings/{accession}", get_filing, methods=["GET"]),
]
