"""Who may use the gateway: API keys and cross-origin browsers.

API keys (`GATEWAY_API_KEYS`) are checked by a pure ASGI middleware in front of every HTTP and
WebSocket path (BaseHTTPMiddleware would not see WebSocket scopes, and buffers responses).

A key comes as `Authorization: Bearer <key>` or, for browsers (which cannot set headers on a
WebSocket or an EventSource), as the `api_key` query parameter; the header wins when both are
sent. With no keys configured everything is open and every connection is anonymous.

What the middleware leaves in the scope, for every HTTP and WebSocket connection, public or not:

    scope["state"]["api_key"]     the configured key the client presented, or None
                                  (no keys configured: anonymous; or not authorized)
    scope["state"]["auth_error"]  None when authorized, else why not (a message for the client)

Starlette shows them as `request.state.api_key` / `websocket.state.auth_error`; `auth_outcome`
reads both. An HTTP request that is not authorized gets 401 with the protocol's JSON error body
here. A WebSocket handshake is never refused here: the protocol wants it accepted, an `error`
frame sent and the socket closed with 4401, which only the stream endpoint can do, so every
WebSocket endpoint must check `auth_outcome` before doing anything else.

Public without a key: `/healthz` and `/readyz` (probes carry no keys), and the dashboard page `/`
with its assets under `/static/`: they hold no data, and the page has to load to ask the user
for a key, which its own API calls then pass as `api_key`.

How much each key may hold at once is services/gateway/limits.py's business.

`cors_options` configures Starlette's CORSMiddleware (`GATEWAY_CORS_ORIGINS`), which must sit
outside (before) ApiKeyMiddleware: a preflight OPTIONS request carries no key, and a 401 without
CORS headers is unreadable to the page that should show it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, MutableMapping, Sequence
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.errors import ErrorCode, GatewayError, error_response

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/"})
PUBLIC_PREFIX = "/static/"
API_KEY = "api_key"  # the scope["state"] entries, and the query parameter of the key
AUTH_ERROR = "auth_error"
_BEARER = "bearer"
_ANY_ORIGIN = "*"
_PREFLIGHT_CACHE_S = 600


def auth_outcome(scope: Scope) -> tuple[str | None, str | None]:
    """(the client's key or None, why it is not authorized or None) as the middleware found.

    Raises when the middleware did not run: a stream must never be open by omission.
    """
    state: MutableMapping[str, Any] = scope.get("state", {})
    if AUTH_ERROR not in state:
        raise RuntimeError("ApiKeyMiddleware is not installed in front of this endpoint")
    return state[API_KEY], state[AUTH_ERROR]


def _digest(key: str) -> bytes:
    # Comparing digests keeps every comparison the same length: compare_digest is constant-time
    # only for inputs of equal length, so comparing the raw strings would leak a key's length.
    return hashlib.sha256(key.encode()).digest()


class ApiKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: Collection[str]) -> None:
        self._app = app
        self._keys = [(key, _digest(key)) for key in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        key, problem = self._authenticate(HTTPConnection(scope))
        state = scope.setdefault("state", {})
        state[API_KEY] = key
        state[AUTH_ERROR] = problem
        if problem is not None and scope["type"] == "http" and not _is_public(scope):
            response = error_response(
                GatewayError(ErrorCode.UNAUTHORIZED, problem),
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _authenticate(self, connection: HTTPConnection) -> tuple[str | None, str | None]:
        if not self._keys:
            return None, None
        header = connection.headers.get("authorization")
        if header is not None:
            scheme, _, presented = header.partition(" ")
            presented = presented.strip()
            if scheme.lower() != _BEARER or not presented:
                return None, "the Authorization header must be 'Bearer <key>'"
        else:
            presented = connection.query_params.get(API_KEY, "")
            if not presented:
                return None, (
                    "an API key is required: send 'Authorization: Bearer <key>' "
                    "or the api_key query parameter"
                )
        return self._match(presented)

    def _match(self, presented: str) -> tuple[str | None, str | None]:
        digest = _digest(presented)
        matched = None
        for key, key_digest in self._keys:  # all compared: the time says nothing of which
            if hmac.compare_digest(digest, key_digest):
                matched = key
        if matched is None:
            return None, "wrong API key"
        return matched, None


def _is_public(scope: Scope) -> bool:
    # Without the root path a proxy may mount the gateway under, as the router matches it.
    path: str = scope["path"].removeprefix(scope.get("root_path", ""))
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIX)


def cors_options(origins: Sequence[str]) -> dict[str, Any]:
    """Keyword arguments of CORSMiddleware for the configured origins.

    No origins: no cross-origin access, the browser's same-origin policy holds. Credentials
    (cookies, browser-held HTTP auth) only for origins named one by one: with "*" Starlette
    would echo any origin back with allow-credentials, letting every site act with the user's
    credentials. The API key itself is a header or a query parameter and needs no credentials.
    """
    explicit = _ANY_ORIGIN not in origins
    return {
        "allow_origins": list(origins) if explicit else [_ANY_ORIGIN],
        "allow_methods": ["GET"],
        # Last-Event-ID: an SSE client resuming through fetch rather than EventSource.
        "allow_headers": ["Authorization", "Last-Event-ID"],
        "allow_credentials": explicit and bool(origins),
        "max_age": _PREFLIGHT_CACHE_S,
    }
