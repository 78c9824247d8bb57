"""`GET /stream` as a WebSocket: welcome, filings, caught_up; acks and pings from the client.

Three tasks per connection: the feed (replay, then joining the shared tail), the sender (the
session's frames, in order) and the receiver (acks, pings). The first that fails ends the
connection with the close code of docs/gateway-protocol.md, after an `error` frame that says
why and, for a slow client, carries the cursor to resume from.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from services.common.errors import BadParameterError, SecDigesterError
from services.gateway.connections import stream_slot
from services.gateway.metrics import ERRORS, SLOW_CLOSES
from services.gateway.session import SlowConsumerError, StreamRequest, StreamSession
from services.gateway.streams import Streams
from services.gateway.wire import WireWriter, text_frame, write_all, writer_in

log = structlog.get_logger(__name__)


async def _close(
    websocket: WebSocket, code: int, error: str, message: str, cursor: str | None = None
) -> None:
    ERRORS.labels(code=error).inc()
    frame = {"type": "error", "code": error, "message": message}
    if cursor:
        frame["cursor"] = cursor
    # A client that stopped reading may never make room for these: give it a little while.
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, TimeoutError):
        async with asyncio.timeout(websocket.app.state.close_timeout_s):
            await websocket.send_text(orjson.dumps(frame).decode())
            await websocket.close(code, reason=error)


async def stream_websocket(websocket: WebSocket) -> None:
    streams: Streams = websocket.app.state.streams
    await websocket.accept()
    async with stream_slot(websocket, "websocket") as refusal:
        if refusal is not None:
            await _close(websocket, refusal.close_code, refusal.code, refusal.message)
            return
        try:
            request = streams.request(websocket.query_params)
        except BadParameterError as exc:
            unknown_topic = exc.parameter == "topic"
            await _close(
                websocket,
                4404 if unknown_topic else 4400,
                "unknown_topic" if unknown_topic else "bad_parameter",
                str(exc),
            )
            return
        writer = writer_in(websocket.scope)
        async with streams.session(request, writer) as session:
            try:
                await websocket.send_text(await session.resolve())
                await _serve(websocket, session, streams, request, writer)
            except* WebSocketDisconnect:
                pass
            except* SlowConsumerError as group:
                SLOW_CLOSES.inc()
                await _close(
                    websocket, 4408, "slow_consumer", str(group.exceptions[0]), session.cursor
                )
            except* BadParameterError as group:
                await _close(
                    websocket, 4400, "bad_parameter", str(group.exceptions[0]), session.cursor
                )
            except* SecDigesterError as group:
                log.error("stream failed", error=str(group.exceptions[0]))
                await _close(websocket, 1011, "internal", str(group.exceptions[0]), session.cursor)


async def _serve(
    websocket: WebSocket,
    session: StreamSession,
    streams: Streams,
    request: StreamRequest,
    writer: WireWriter | None,
) -> None:
    feed = session.start_feed()
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(_send(websocket, session, writer))
            tasks.create_task(_receive(websocket, session, streams, request))
            tasks.create_task(_watch_speed(session))
    finally:
        feed.cancel()


async def _watch_speed(session: StreamSession) -> None:
    await session.too_slow.wait()
    raise SlowConsumerError(f"the client fell more than {session.queue_size} frames behind")


async def _send(websocket: WebSocket, session: StreamSession, writer: WireWriter | None) -> None:
    """What could not go straight to the socket (services/gateway/wire.py), in order."""
    async for frame in session.frames():
        assert frame is not None  # no keep-alive on WebSocket: ping/pong is the client's
        if writer is None:
            await websocket.send_text(frame.payload.decode())
        elif not await write_all(writer, text_frame(frame.payload)):
            raise WebSocketDisconnect(1006)


async def _receive(
    websocket: WebSocket, session: StreamSession, streams: Streams, request: StreamRequest
) -> None:
    while True:
        text = await websocket.receive_text()
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise BadParameterError("frame", f"not JSON: {exc}") from exc
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            session.pong()
        elif kind == "ack":
            cursor = message.get("cursor")
            if not isinstance(cursor, str):
                raise BadParameterError("ack.cursor", "missing or not a string")
            streams.acknowledge(request, cursor)
        else:
            raise BadParameterError("frame", f"unknown type {kind!r}: send ack or ping")
