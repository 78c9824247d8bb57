"""`GET /stream` as a WebSocket: welcome, filings, caught_up; acks, pings and subscribes from
the client.

Three tasks per connection: the feed (replay, then joining the shared tail), the sender (the
session's frames, in order) and the receiver (acks, pings, subscribes). The first that fails
ends the connection with the close code of docs/gateway-protocol.md, after an `error` frame
that says why and, for a slow client, carries the cursor to resume from. A subscribe frame with
a bad filter ends nothing: its `error` answer names the field, and the old filter stays.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from services.common.errors import BadParameterError, SecDigesterError
from services.gateway.errors import ErrorCode, GatewayError, as_gateway_error, close_websocket
from services.gateway.state import StreamState
from services.gateway.stream.acks import DurableConnection, SupersededError
from services.gateway.stream.session import SlowConsumerError, StreamRequest, StreamSession
from services.gateway.stream.streams import Streams
from services.gateway.stream.wire import WireWriter, text_frame, write_all, writer_in
from services.gateway.transports.client_frames import Ack, Ping, Subscribe, parse_client_frame
from services.gateway.transports.connections import stream_slot

log = structlog.get_logger(__name__)


async def stream_websocket(websocket: WebSocket[StreamState]) -> None:
    state = websocket.state
    streams = state["streams"]
    close_timeout_s = state["close_timeout_s"]
    await websocket.accept()
    async with contextlib.AsyncExitStack() as held:
        try:
            key = await held.enter_async_context(stream_slot(websocket, "websocket"))
            request = streams.request(websocket.query_params)
        except (BadParameterError, GatewayError) as exc:  # the client's request or key
            await close_websocket(websocket, as_gateway_error(exc), None, close_timeout_s)
            return
        writer = writer_in(websocket.scope)
        session: StreamSession | None = None
        try:
            durable = await held.enter_async_context(streams.durable(request))
            session = await held.enter_async_context(streams.session(request, key, writer))
            welcome = await session.resolve()
            if durable is not None:
                await streams.claim(durable, session)
            await websocket.send_text(welcome)
            await _serve(websocket, session, streams, request, writer, durable)
        except* WebSocketDisconnect:
            pass
        except* SecDigesterError as group:
            error = as_gateway_error(_first_failure(group))
            if error.code is ErrorCode.INTERNAL:
                log.error("stream failed", error=str(error))
            cursor = session.cursor if session is not None else None
            await close_websocket(websocket, error, cursor, close_timeout_s)


def _first_failure(group: BaseExceptionGroup[SecDigesterError]) -> SecDigesterError:
    """What ended the stream: the first of its tasks to fail (the task group lists them so)."""
    first = group.exceptions[0]
    return first if isinstance(first, SecDigesterError) else _first_failure(first)


async def _serve(
    websocket: WebSocket[StreamState],
    session: StreamSession,
    streams: Streams,
    request: StreamRequest,
    writer: WireWriter | None,
    durable: DurableConnection | None,
) -> None:
    session.start_feed()
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(_send(websocket, session, writer))
            tasks.create_task(_receive(websocket, session, streams, request, durable))
            tasks.create_task(_watch_speed(session))
            if durable is not None:
                tasks.create_task(_watch_takeover(durable))
    finally:
        session.stop_feed()


async def _watch_takeover(durable: DurableConnection) -> None:
    await durable.superseded.wait()
    raise SupersededError(durable.reason)


async def _watch_speed(session: StreamSession) -> None:
    await session.too_slow.wait()
    raise SlowConsumerError(session.queue_size)


async def _send(
    websocket: WebSocket[StreamState], session: StreamSession, writer: WireWriter | None
) -> None:
    """What could not go straight to the socket (services/gateway/stream/wire.py), in order."""
    async for frame in session.frames():
        assert frame is not None  # no keep-alive on WebSocket: ping/pong is the client's
        if writer is None:
            await websocket.send_text(frame.payload.decode())
        elif not await write_all(writer, text_frame(frame.payload)):
            raise WebSocketDisconnect(1006)


async def _receive(
    websocket: WebSocket[StreamState],
    session: StreamSession,
    streams: Streams,
    request: StreamRequest,
    durable: DurableConnection | None,
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            raise GatewayError(
                ErrorCode.UNSUPPORTED_DATA,
                "frame: a binary frame; client frames are JSON text (ack, ping, subscribe)",
            )
        match parse_client_frame(text):
            case Ping():
                session.pong()
            case Ack(cursor):
                streams.acknowledge(request, cursor, durable)
            case Subscribe(fields):
                _subscribe(session, streams, request, fields)


def _subscribe(
    session: StreamSession, streams: Streams, request: StreamRequest, fields: dict[str, Any]
) -> None:
    """A new filter from the session's cursor on; a bad one is answered, and changes nothing.

    Unlike a bad ack or an unreadable frame (a client program's mistake, 4400), a filter is
    often what a person typed: the stream goes on."""
    try:
        chosen = streams.filter_of(request, fields)
    except BadParameterError as exc:
        log.info(
            "subscribe refused",
            topic=request.topic,
            client_id=request.client_id,
            parameter=exc.parameter,
            error=str(exc),
        )
        session.refuse(GatewayError(ErrorCode.BAD_PARAMETER, str(exc)), "subscribe")
        return
    session.resubscribe(chosen)
