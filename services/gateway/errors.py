"""The gateway's errors: one table of codes, and how each transport reports one.

`ErrorCode` is the table of docs/gateway-protocol.md ("Errors"): each code with the WebSocket
close code and the HTTP status that go with it, and whether trying again may succeed
(`retriable`, the notion of services/common/errors.py; the client library draws the same line
between what it reconnects after and what it raises, tests/unit/test_gateway_errors.py checks
that the doc, this table and the client agree). A client handles one set of codes whichever
transport it uses.

`GatewayError` carries its code. Errors raised by code shared with other services (a
`BadParameterError` of a cursor, a Kafka failure) become one in `as_gateway_error`. Then one
mapper per transport, as Starlette's ExceptionMiddleware has one handler per scope type:

    close_websocket   an `error` frame, then the close code (WebSocket)
    error_response    the JSON body `{"error": ..., "message": ...}` with the HTTP status
                      (REST, and SSE before the stream starts)
    error_frame       the `error` frame itself: also the data of SSE's `error` event, for errors
                      once the stream runs (the HTTP status has been sent by then)

They are called where the error is caught rather than registered as Starlette exception
handlers: a stream's error frame carries the session's cursor, and it must be sent while the
session still holds its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from enum import StrEnum, unique
from typing import Any

import orjson
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from services.common.errors import BadParameterError, SecDigesterError
from services.gateway.metrics import ERRORS, SLOW_CLOSES

# The code of an `error` frame that is a notice, not an ending: the gateway skipped a record it
# cannot decode and the stream goes on. Not an ErrorCode: it has no close code or HTTP status.
UNDECODABLE_RECORD = "undecodable_record"


@unique
class ErrorCode(StrEnum):
    """The `code` of an `error` frame and the `error` of a JSON error body (the value)."""

    close_code: int | None  # None: never ends a WebSocket (REST only)
    http_status: int | None  # None: only happens once a stream runs, after its 200
    retriable: bool  # whether the same request, made again, may succeed

    def __new__(
        cls, code: str, close_code: int | None, http_status: int | None, retriable: bool
    ) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.close_code = close_code
        member.http_status = http_status
        member.retriable = retriable
        return member

    BAD_PARAMETER = "bad_parameter", 4400, 400, False
    UNAUTHORIZED = "unauthorized", 4401, 401, False
    UNKNOWN_TOPIC = "unknown_topic", 4404, 404, False
    SLOW_CONSUMER = "slow_consumer", 4408, None, True
    TOO_MANY_CONNECTIONS = "too_many_connections", 4429, 429, True
    SUPERSEDED = "superseded", 4409, None, False
    TOO_MANY_REPLAYS = "too_many_replays", 4430, 429, True
    INTERNAL = "internal", 1011, None, True
    UNSUPPORTED_DATA = "unsupported_data", 1003, None, False
    NOT_FOUND = "not_found", None, 404, False
    UNAVAILABLE = "unavailable", None, 503, True  # starting, or the filings store cannot answer
    TOO_MANY_REQUESTS = "too_many_requests", None, 429, True  # /mcp: requests in flight per key


# The codes a JSON error body can carry (the OpenAPI document's enum of `error`).
HTTP_ERROR_CODES = tuple(code for code in ErrorCode if code.http_status is not None)


class GatewayError(SecDigesterError):
    """An error the protocol names; `code` says how each transport reports it.

    `retry_after_s`: how long the client had better wait before trying again, when the gateway
    can say (a limit refused it): HTTP's Retry-After, and `retry_after_s` of the error frame."""

    def __init__(self, code: ErrorCode, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message, retriable=code.retriable)
        self.code = code
        self.retry_after_s = retry_after_s


def as_gateway_error(exc: SecDigesterError) -> GatewayError:
    """The protocol's error for `exc`: a bad parameter, or else the gateway's own failure."""
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, BadParameterError):
        return GatewayError(ErrorCode.BAD_PARAMETER, str(exc))
    return GatewayError(ErrorCode.INTERNAL, str(exc))


def count_stream_error(error: GatewayError) -> None:
    """Count a stream (WebSocket or SSE) ended or refused by `error`."""
    ERRORS.labels(code=error.code.value).inc()
    if error.code is ErrorCode.SLOW_CONSUMER:
        SLOW_CLOSES.inc()


def error_frame(
    error: GatewayError, cursor: str | None = None, *, reply_to: str | None = None
) -> str:
    """The `error` frame; `cursor`, when the stream has one, is where the client may resume;
    `reply_to`, the type of the client frame it refuses, when the stream goes on after it."""
    frame: dict[str, str | int] = {
        "type": "error",
        "code": error.code.value,
        "message": str(error),
    }
    if cursor:
        frame["cursor"] = cursor
    if error.retry_after_s is not None:
        frame["retry_after_s"] = error.retry_after_s
    if reply_to:
        frame["reply_to"] = reply_to
    return orjson.dumps(frame).decode()


async def close_websocket(
    websocket: WebSocket[Any], error: GatewayError, cursor: str | None, timeout_s: float
) -> None:
    """End an accepted WebSocket with the error frame and the code's close code."""
    close_code = error.code.close_code
    if close_code is None:
        raise ValueError(f"{error.code.value} is not an error a WebSocket ends with")
    count_stream_error(error)
    # A client that stopped reading may never make room for these: give it a little while.
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, TimeoutError):
        async with asyncio.timeout(timeout_s):
            await websocket.send_text(error_frame(error, cursor))
            await websocket.close(close_code, reason=error.code.value)


def error_response(error: GatewayError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error body with the code's HTTP status (and Retry-After when the error says)."""
    status = error.code.http_status
    if status is None:
        raise ValueError(f"{error.code.value} is not an error an HTTP answer carries")
    if error.retry_after_s is not None:
        headers = {**(headers or {}), "Retry-After": str(error.retry_after_s)}
    return JSONResponse(
        {"error": error.code.value, "message": str(error)}, status_code=status, headers=headers
    )
