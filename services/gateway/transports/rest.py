"""`GET /api/filings` and `GET /api/filings/{accession}`, answered from the filings store.

The store (services/store) is the lifespan state's (state.py): every record of the analyzed
topic, queried by the stream's own filters plus full text, a time window and a CIK, a page at
a time. Each answer carries `as_of`, the topic position the store reflected when it answered,
read in the same database snapshot as the rows: `/stream?from=<as_of>` with the same filters
continues the answer with no gap and no duplicate.

Query parameters left empty (`?ticker=&form=`) count as absent, so a form can send every field.
Parameters nobody asked about are ignored: `api_key` rides along with every browser request.
A bad parameter is a 400 whose message starts with the parameter's name; the OpenAPI document
(openapi.py) describes the limits services/store/query.py enforces.
"""

from __future__ import annotations

import re

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.common.errors import BadParameterError
from services.gateway.errors import ErrorCode, GatewayError, as_gateway_error, error_response
from services.gateway.state import RestState
from services.store.backend import StoreError
from services.store.query import ACCESSION_PATTERN, StoreQuery

_ACCESSION = re.compile(ACCESSION_PATTERN)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _unavailable(exc: StoreError) -> Response:
    return error_response(GatewayError(ErrorCode.UNAVAILABLE, f"the filings store: {exc}"))


async def list_filings(request: Request[RestState]) -> Response:
    try:
        query = StoreQuery.from_params(request.query_params)
    except BadParameterError as exc:
        return error_response(as_gateway_error(exc))
    try:
        page = await request.state["store"].query(query)
    except StoreError as exc:
        return _unavailable(exc)
    # The records are the store's JSON already: joined, not decoded and encoded again.
    head = orjson.dumps({"count": len(page.filings), "next": page.next, "as_of": page.as_of})
    return _json(b'{"filings":[' + b",".join(page.filings) + b"]," + head[1:])


async def get_filing(request: Request[RestState]) -> Response:
    accession: str = request.path_params["accession"]
    if not _ACCESSION.fullmatch(accession):
        return error_response(
            GatewayError(
                ErrorCode.BAD_PARAMETER,
                f"accession: {accession!r} is not an accession number such as 0000950103-25-016011",
            )
        )
    try:
        body, as_of = await request.state["store"].get(accession)
    except StoreError as exc:
        return _unavailable(exc)
    if body is None:
        return error_response(
            GatewayError(
                ErrorCode.NOT_FOUND,
                f"accession: {accession} is not in the filings store, which reflects the "
                f"analyzed topic up to {as_of or 'nothing yet'}",
            )
        )
    return _json(body)


REST_ROUTES = [
    Route("/api/filings", list_filings, methods=["GET"]),
    Route("/api/filings/{accession}", get_filing, methods=["GET"]),
]
