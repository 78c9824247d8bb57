"""The REST API over real HTTP: uvicorn on an ephemeral port, httpx as the client.

uvicorn rather than Starlette's TestClient so that what is tested is what clients get: URL
decoding (a '+' in `since`), status lines, headers and bodies as bytes on a socket. The app is
the gateway's REST routes behind its auth middleware (no keys), over a filings store (SQLite)
holding the records at offsets 0..69 of partition 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.middleware import Middleware

from services.common.filters import LIST_FILTERS, VALUE_FILTERS
from services.gateway.auth import ApiKeyMiddleware
from services.gateway.state import RestState
from services.gateway.transports.json_schema import record_schemas
from services.gateway.transports.openapi import OPENAPI_ROUTE, openapi_document
from services.gateway.transports.rest import REST_ROUTES
from tests.support.asgi_server import serve_app
from tests.support.filing_json import filing_json, filing_record
from tests.support.store import store_of

T0 = dt.datetime(2026, 6, 24, 14, 0, tzinfo=dt.UTC)
RECORDS = 70  # more than the default limit


def accession(sequence: int) -> str:
    return f"0000019617-26-{sequence:06d}"


def accessions(body: dict[str, Any]) -> list[str]:
    return [filing["filing"]["accession_number"] for filing in body["filings"]]


def _shape(sequence: int) -> dict[str, Any]:
    """Filing n accepted n minutes after T0; even ones of GS, every third a 10-Q/A."""
    return {
        "tickers": ("GS",) if sequence % 2 == 0 else ("JPM", "JPM-PC"),
        "form_type": "10-Q/A" if sequence % 3 == 0 else "8-K",
        "accepted_at": T0 + dt.timedelta(minutes=sequence),
    }


def record(sequence: int) -> dict[str, Any]:
    """Filing n as served."""
    return filing_json(sequence, **_shape(sequence))


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    records = [filing_record(n, **_shape(n)) for n in range(1, RECORDS + 1)]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[RestState]:
        async with store_of(tmp_path / "store.sqlite3", records) as store:
            yield {"store": store}

    app = Starlette(
        routes=[*REST_ROUTES, OPENAPI_ROUTE],
        middleware=[Middleware(ApiKeyMiddleware, keys=frozenset())],
        lifespan=lifespan,
    )
    async with (
        serve_app(app, lifespan="on") as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        yield http


@pytest.mark.asyncio
async def test_the_list_is_newest_first_with_the_default_limit(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/filings")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["count"] == 50
    assert accessions(body) == [accession(s) for s in range(RECORDS, RECORDS - 50, -1)]
    assert body["filings"][0] == record(RECORDS)


@pytest.mark.asyncio
async def test_empty_parameters_count_as_absent(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/filings?ticker=&form=&since=&limit=")
    assert response.status_code == 200
    assert response.json()["count"] == 50


@pytest.mark.asyncio
async def test_filters_ticker_form_since_and_limit(client: httpx.AsyncClient) -> None:
    params = {"ticker": "jpm-pc", "form": "10-q", "since": "2026-06-24T14:30:00Z", "limit": "3"}
    body = (await client.get("/api/filings", params=params)).json()
    # Odd (JPM) multiples of 3 (10-Q/A) accepted at 14:30 or later, newest first.
    assert accessions(body) == [accession(s) for s in (69, 63, 57)]
    assert body["count"] == 3


@pytest.mark.parametrize(
    "since",
    [
        "2026-06-24T15:05:00",  # no zone: UTC
        "2026-06-24T15:05:00Z",
        "2026-06-24T11:05:00-04:00",
        "2026-06-24T17:05:00+02:00",  # '+' sent encoded by httpx
    ],
)
@pytest.mark.asyncio
async def test_since_is_an_instant_in_any_zone(client: httpx.AsyncClient, since: str) -> None:
    body = (await client.get("/api/filings", params={"since": since})).json()
    assert accessions(body) == [accession(s) for s in range(RECORDS, 64, -1)]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("limit=%205", "limit"),
        ("limit=1_0", "limit"),
        ("limit=-3", "limit"),
        ("since=yesterday", "since"),
        ("since=2026-13-01", "since"),
        # Shaped as a token, with numbers no Kafka position has (found by schemathesis: a 500).
        (
            "before=2026-01-02T00:00:00.000000Z_0000320193-26-000001_0:9223372036854775808",
            "before",
        ),
        ("before=2026-01-02T00:00:00.000000Z_0000320193-26-000001_2147483648:0", "before"),
    ],
)
@pytest.mark.asyncio
async def test_a_bad_parameter_is_a_400_naming_it(
    client: httpx.AsyncClient, query: str, parameter: str
) -> None:
    response = await client.get(f"/api/filings?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_parameter"
    assert body["message"].startswith(f"{parameter}: ")


@pytest.mark.asyncio
async def test_an_unencoded_plus_in_since_gets_a_hint(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/filings?since=2026-06-24T17:05:00+02:00")
    assert response.status_code == 400
    assert "%2B" in response.json()["message"]


@pytest.mark.asyncio
async def test_limit_bounds_are_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/filings?limit=1")).json()["count"] == 1
    assert (await client.get("/api/filings?limit=1000")).json()["count"] == RECORDS


@pytest.mark.asyncio
async def test_one_filing_by_accession(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/filings/{accession(7)}")
    assert response.status_code == 200
    assert response.json() == record(7)


@pytest.mark.asyncio
async def test_an_unknown_accession_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/filings/{accession(999)}")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    assert accession(999) in body["message"]


@pytest.mark.parametrize("bad", ["0000019617-26-00000", "000001961726000007", "abc", "%0A"])
@pytest.mark.asyncio
async def test_a_malformed_accession_is_a_400(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get(f"/api/filings/{bad}")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_parameter"
    assert response.json()["message"].startswith("accession: ")


@pytest.mark.asyncio
async def test_an_accession_followed_by_a_newline_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/filings/{accession(7)}%0A")
    assert response.status_code == 400


@pytest.mark.asyncio
async def test_pages_follow_next_and_every_answer_says_its_as_of(
    client: httpx.AsyncClient,
) -> None:
    seen: list[str] = []
    params: dict[str, str] = {"tickers": "GS", "limit": "7"}
    while True:
        body = (await client.get("/api/filings", params=params)).json()
        assert body["as_of"] == f"0:{RECORDS}"  # partition 0 read up to offset 70
        seen += accessions(body)
        if body["next"] is None:
            break
        params["before"] = body["next"]
    assert seen == [accession(s) for s in range(RECORDS, 0, -1) if s % 2 == 0]


@pytest.mark.asyncio
async def test_full_text_and_its_bad_input(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/filings", params={"q": "Filing 7 of JPM"})).json()
    assert accessions(body) == [accession(7)]
    for hostile in ('NEAR("a" "b")', "x" * 500, "a AND (b OR c)", '" * (', "x " * 200):
        response = await client.get("/api/filings", params={"q": hostile})
        assert response.status_code == 200
        assert response.json()["count"] == 0
    refused = await client.get("/api/filings", params={"q": "x" * 501})
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("q: ")


def component_validator(document: dict[str, Any], name: str) -> OAS31Validator:
    """A validator of `#/components/schemas/<name>` with the document's references resolved."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)


@pytest.mark.asyncio
async def test_the_openapi_document_is_valid_and_describes_what_is_served(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)  # OpenAPI 3.1, by openapi-spec-validator
    assert document == openapi_document()
    operation = document["paths"]["/api/filings"]["get"]
    # Every stream filter, and the store's own parameters.
    assert {p["name"] for p in operation["parameters"]} == {
        *LIST_FILTERS,
        *VALUE_FILTERS,
        *("ticker", "form", "cik", "q", "since", "until", "limit", "before"),
    }
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    assert limit["schema"] | {"type": "integer"} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 50,
    }
    assert set(operation["responses"]) == {"200", "400", "401", "503"}
    assert set(document["paths"]["/api/filings/{accession}"]["get"]["responses"]) == {
        "200",
        "400",
        "401",
        "404",
        "503",
    }

    listed = (await client.get("/api/filings", params={"limit": 1000})).json()
    component_validator(document, "FilingList").validate(listed)
    one = (await client.get(f"/api/filings/{accession(3)}")).json()
    component_validator(document, "FilingAnalysis").validate(one)
    for path in ("/api/filings?limit=0", f"/api/filings/{accession(999)}"):
        component_validator(document, "Error").validate((await client.get(path)).json())


def test_the_record_schema_rejects_what_the_protocol_forbids() -> None:
    document = openapi_document()
    validator = component_validator(document, "FilingAnalysis")
    good = record(1)
    validator.validate(good)
    bad_time = {**good, "filing": {**good["filing"], "accepted_at": "24 June 2026"}}
    bad_enum = {**good, "document_status": "lost"}
    missing = {key: value for key, value in good.items() if key != "analysis"}
    for wrong in (bad_time, bad_enum, missing):
        assert not validator.is_valid(wrong)


def test_a_named_type_used_twice_is_one_component() -> None:
    avro = {
        "type": "record",
        "name": "ns.Pair",
        "fields": [
            {
                "name": "left",
                "type": {
                    "type": "record",
                    "name": "ns.Side",
                    "fields": [{"name": "at", "type": {"type": "int", "logicalType": "date"}}],
                },
            },
            {"name": "right", "type": ["null", "ns.Side"], "doc": "Optional."},
        ],
    }
    schemas = record_schemas(avro, "#/defs/")
    assert schemas["Side"]["properties"]["at"] == {"type": "string", "format": "date"}
    assert schemas["Pair"]["properties"]["right"] == {
        "anyOf": [{"type": "null"}, {"$ref": "#/defs/Side"}],
        "description": "Optional.",
    }
    with pytest.raises(ValueError, match="fixed"):
        record_schemas({"type": "fixed", "name": "ns.Hash", "size": 16}, "#/defs/")
