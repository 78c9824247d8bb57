"""API keys, stream slots per key and CORS, over real HTTP and real WebSocket handshakes.

The app: the gateway's REST routes, public health and dashboard paths, and a tiny WebSocket
endpoint that answers the way the protocol asks a stream to (error frame, close 4401), behind
CORSMiddleware and ApiKeyMiddleware in the gateway's order, served by uvicorn. The WebSocket
client is the `websockets` library, so the upgrade goes through the middleware for real.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from services.gateway.auth import ApiKeyMiddleware, auth_outcome, cors_options
from services.gateway.state import RestState
from services.gateway.transports.openapi import OPENAPI_ROUTE
from services.gateway.transports.rest import REST_ROUTES
from tests.support.asgi_server import serve_app
from tests.support.store import store_of

KEYS = frozenset({"key-alpha", "key-beta"})
DASHBOARD_ORIGIN = "https://dash.example"


async def text(request: Request) -> Response:
    return PlainTextResponse(request.url.path)


async def whoami(websocket: WebSocket) -> None:
    """What a stream endpoint does: accept, then refuse with the protocol's frame and code."""
    await websocket.accept()
    key, problem = auth_outcome(websocket.scope)
    if problem is not None:
        await websocket.send_json({"type": "error", "code": "unauthorized", "message": problem})
        await websocket.close(4401)
        return
    await websocket.send_json({"type": "welcome", "api_key": key})
    await websocket.close()


def gateway_like_app(keys: frozenset[str], origins: Sequence[str] = ()) -> Starlette:
    routes = [
        *REST_ROUTES,
        OPENAPI_ROUTE,
        *(Route(path, text) for path in ("/", "/healthz", "/readyz", "/static/js/main.js")),
        Route("/metrics", text),
        WebSocketRoute("/stream", whoami),
    ]
    middleware = [
        Middleware(CORSMiddleware, **cors_options(origins)),
        Middleware(ApiKeyMiddleware, keys=keys),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[RestState]:
        with tempfile.TemporaryDirectory() as directory:
            async with store_of(Path(directory) / "store.sqlite3", []) as store:
                yield {"store": store}

    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


@asynccontextmanager
async def served(
    keys: frozenset[str] = KEYS, origins: Sequence[str] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serve_app(gateway_like_app(keys, origins), lifespan="on") as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        yield client


async def stream(client: httpx.AsyncClient, query: str = "", **headers: str) -> list[Any]:
    """The frames of one /stream WebSocket session, then its close code."""
    url = str(client.base_url).replace("http", "ws", 1) + "/stream" + query
    frames: list[Any] = []
    async with connect(url, additional_headers=headers) as websocket:
        with contextlib.suppress(ConnectionClosed):  # any close code: it is returned below
            while True:
                frames.append(json.loads(await websocket.recv()))
    return [*frames, websocket.close_code]


def assert_unauthorized(response: httpx.Response) -> str:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"] == "unauthorized"
    message: str = body["message"]
    return message


@pytest.mark.asyncio
async def test_without_keys_everything_is_open_and_anonymous() -> None:
    async with served(keys=frozenset()) as client:
        assert (await client.get("/api/filings")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200
        assert await stream(client) == [{"type": "welcome", "api_key": None}, 1000]


@pytest.mark.asyncio
async def test_with_keys_a_request_without_one_is_refused_naming_both_ways() -> None:
    async with served() as client:
        for path in ("/api/filings", "/api/filings/0000019617-26-000001", "/openapi.json"):
            message = assert_unauthorized(await client.get(path))
        assert "Authorization: Bearer" in message
        assert "api_key" in message
        assert_unauthorized(await client.get("/metrics"))


@pytest.mark.asyncio
async def test_a_wrong_key_is_refused_as_header_or_query() -> None:
    async with served() as client:
        wrong_header = await client.get("/api/filings", headers={"Authorization": "Bearer nope"})
        assert assert_unauthorized(wrong_header) == "wrong API key"
        wrong_query = await client.get("/api/filings", params={"api_key": "key-alph"})
        assert assert_unauthorized(wrong_query) == "wrong API key"
        basic = await client.get("/api/filings", headers={"Authorization": "Basic a2V5LWFscGhh"})
        assert "Bearer <key>" in assert_unauthorized(basic)
        # The header wins: a right key in the query does not rescue a wrong header.
        both = await client.get(
            "/api/filings", params={"api_key": "key-alpha"}, headers={"Authorization": "Bearer x"}
        )
        assert_unauthorized(both)


@pytest.mark.asyncio
async def test_a_right_key_opens_the_api_as_header_or_query() -> None:
    async with served() as client:
        for headers, params in [
            ({"Authorization": "Bearer key-alpha"}, {}),
            ({"Authorization": "bearer   key-beta"}, {}),
            ({}, {"api_key": "key-beta"}),
        ]:
            response = await client.get("/api/filings", headers=headers, params=params)
            assert response.status_code == 200
            assert response.json() == {"filings": [], "count": 0, "next": None, "as_of": "0:0"}


@pytest.mark.asyncio
async def test_probes_and_the_dashboard_page_need_no_key() -> None:
    async with served() as client:
        for path in ("/healthz", "/readyz", "/", "/static/js/main.js"):
            response = await client.get(path)
            assert response.status_code == 200
            assert response.text == path


@pytest.mark.asyncio
async def test_a_websocket_without_a_right_key_is_accepted_then_closed_with_4401() -> None:
    async with served() as client:
        missing = await stream(client)
        assert missing[0]["type"] == "error"
        assert missing[0]["code"] == "unauthorized"
        assert "api_key" in missing[0]["message"]
        assert missing[1] == 4401
        wrong = await stream(client, "?api_key=nope")
        assert wrong == [
            {"type": "error", "code": "unauthorized", "message": "wrong API key"},
            4401,
        ]


@pytest.mark.asyncio
async def test_a_websocket_with_a_right_key_knows_which_key_it_is() -> None:
    async with served() as client:
        by_query = await stream(client, "?from=latest&api_key=key-alpha")
        assert by_query == [{"type": "welcome", "api_key": "key-alpha"}, 1000]
        by_header = await stream(client, Authorization="Bearer key-beta")
        assert by_header == [{"type": "welcome", "api_key": "key-beta"}, 1000]


def test_reading_the_outcome_without_the_middleware_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match="ApiKeyMiddleware"):
        auth_outcome({"type": "websocket", "path": "/stream"})


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }


@pytest.mark.asyncio
async def test_a_named_origin_may_call_with_credentials_even_before_it_has_a_key() -> None:
    async with served(origins=[DASHBOARD_ORIGIN]) as client:
        allowed = await client.options("/api/filings", headers=preflight(DASHBOARD_ORIGIN))
        assert allowed.status_code == 200  # the preflight carries no key and must not get 401
        assert allowed.headers["access-control-allow-origin"] == DASHBOARD_ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        # The page can read why it was refused.
        refused = await client.get("/api/filings", headers={"Origin": DASHBOARD_ORIGIN})
        assert_unauthorized(refused)
        assert refused.headers["access-control-allow-origin"] == DASHBOARD_ORIGIN
        stranger = await client.options("/api/filings", headers=preflight("https://evil.example"))
        assert stranger.status_code == 400
        assert "access-control-allow-origin" not in stranger.headers


@pytest.mark.asyncio
async def test_any_origin_never_gets_credentials() -> None:
    async with served(keys=frozenset(), origins=["*"]) as client:
        response = await client.get("/api/filings", headers={"Origin": "https://any.example"})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_no_origins_means_same_origin_only() -> None:
    options = cors_options([])
    assert options["allow_origins"] == []
    assert options["allow_credentials"] is False
