"""`GET /stream` as Server-Sent Events: the same session as the WebSocket, one way.

Each frame is an event named after its type; filing events carry `id: <cursor>`, so a browser's
EventSource resumes after the last one by itself (`Last-Event-ID`). A comment line every 15 s
keeps proxies from closing an idle stream. Problems found before streaming starts are plain
HTTP errors (400, 401, 404, 429) with a JSON body naming the parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from services.common.errors import BadParameterError, SecDigesterError
from services.gateway.connections import stream_slot
from services.gateway.metrics import ERRORS, SLOW_CLOSES
from services.gateway.session import SlowConsumerError, StreamSession
from services.gateway.streams import Streams

_KEEPALIVE_S = 15.0


def _error(status: int, code: str, message: str) -> JSONResponse:
    ERRORS.labels(code=code).inc()
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def stream_sse(request: Request) -> Response:
    if "text/event-stream" not in request.headers.get("accept", ""):
        return _error(
            400,
            "bad_parameter",
            "Accept: /stream is a WebSocket, or SSE with Accept: text/event-stream",
        )
    streams: Streams = request.app.state.streams
    # Everything the stream holds is released by this stack, when the events generator ends
    # (the client went away, or the stream failed) or at once if the stream never starts.
    held = contextlib.AsyncExitStack()
    try:
        refusal = await held.enter_async_context(stream_slot(request, "sse"))
        if refusal is not None:
            await held.aclose()
            return _error(refusal.http_status, refusal.code, refusal.message)
        last_event_id = request.headers.get("last-event-id")
        session = await held.enter_async_context(
            streams.session(streams.request(request.query_params, last_event_id))
        )
        welcome = await session.resolve()
    except BadParameterError as exc:
        await held.aclose()
        status, code = (
            (404, "unknown_topic") if exc.parameter == "topic" else (400, "bad_parameter")
        )
        return _error(status, code, str(exc))
    except BaseException:
        await held.aclose()
        raise

    async def events() -> AsyncIterator[str]:
        feed = session.start_feed()
        try:
            yield _event("welcome", welcome)
            async for frame in session.frames(keepalive_s=_KEEPALIVE_S):
                if frame is None:
                    yield ": keep-alive\n\n"
                else:
                    cursor = frame.cursor if frame.event == "filing" else None
                    yield _event(frame.event, frame.payload.decode(), cursor)
        except SlowConsumerError as exc:
            SLOW_CLOSES.inc()
            yield _event("error", _error_text("slow_consumer", str(exc), session))
        except SecDigesterError as exc:
            yield _event("error", _error_text("internal", str(exc), session))
        finally:
            feed.cancel()
            await held.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _error_text(code: str, message: str, session: StreamSession) -> str:
    ERRORS.labels(code=code).inc()
    return orjson.dumps(
        {"type": "error", "code": code, "message": message, "cursor": session.cursor}
    ).decode()


def _event(name: str, data: str, event_id: str | None = None) -> str:
    lines = [f"event: {name}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {data}")
    return "\n".join(lines) + "\n\n"
