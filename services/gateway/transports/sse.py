"""`GET /stream` as Server-Sent Events: the same session as the WebSocket, one way.

Each frame is an event named after its type; filing events carry `id: <cursor>`, so a browser's
EventSource resumes after the last one by itself (`Last-Event-ID`). A comment line every 15 s
keeps proxies from closing an idle stream. Problems found before streaming starts are plain
HTTP errors (400, 401, 404, 429 with Retry-After) with a JSON body naming the parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from services.common.errors import BadParameterError, SecDigesterError
from services.gateway.errors import (
    ErrorCode,
    GatewayError,
    as_gateway_error,
    count_stream_error,
    error_frame,
    error_response,
)
from services.gateway.state import StreamState
from services.gateway.transports.connections import stream_slot

_KEEPALIVE_S = 15.0


def _refuse(error: GatewayError) -> Response:
    """A stream that never starts: counted as the streams ended by an error are, answered JSON."""
    count_stream_error(error)
    return error_response(error)


async def stream_sse(request: Request[StreamState]) -> Response:
    if "text/event-stream" not in request.headers.get("accept", ""):
        return _refuse(
            GatewayError(
                ErrorCode.BAD_PARAMETER,
                "Accept: /stream is a WebSocket, or SSE with Accept: text/event-stream",
            )
        )
    streams = request.state["streams"]
    # Everything the stream holds is released by this stack, when the events generator ends
    # (the client went away, or the stream failed) or at once if the stream never starts.
    held = contextlib.AsyncExitStack()
    try:
        key = await held.enter_async_context(stream_slot(request, "sse"))
        last_event_id = request.headers.get("last-event-id")
        session = await held.enter_async_context(
            streams.session(streams.request(request.query_params, last_event_id), key)
        )
        welcome = await session.resolve()
    except (BadParameterError, GatewayError) as exc:  # the client's request or key
        await held.aclose()
        return _refuse(as_gateway_error(exc))
    # Anything else (the broker failing while the start resolves) is the gateway's own failure:
    # Starlette answers it with a 500.
    except BaseException:
        await held.aclose()
        raise

    async def events() -> AsyncIterator[str]:
        session.start_feed()
        try:
            yield _event("welcome", welcome)
            async for frame in session.frames(keepalive_s=_KEEPALIVE_S):
                if frame is None:
                    yield ": keep-alive\n\n"
                else:
                    cursor = frame.cursor if frame.event == "filing" else None
                    yield _event(frame.event, frame.payload.decode(), cursor)
        except SecDigesterError as exc:
            error = as_gateway_error(exc)
            count_stream_error(error)
            yield _event("error", error_frame(error, session.cursor))
        finally:
            session.stop_feed()
            await held.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event(name: str, data: str, event_id: str | None = None) -> str:
    lines = [f"event: {name}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {data}")
    return "\n".join(lines) + "\n\n"
