"""One WebSocket to the gateway, with a reader and a heartbeat around it.

The reader turns frames into events, in order, into a small queue: the consumer (the client)
takes them when it wants the next record, and the queue's bound stops reading from the socket
when it does not, so a slow handler slows the gateway down (which closes a client too far
behind with its cursor, 4408) instead of filling memory.

The heartbeat sends `ping` every `ping_interval_s`; if nothing at all comes back within
`pong_timeout_s` — the pong queues behind any frames already on their way, so any frame counts
— the gateway is presumed dead (a frozen process, a half-open TCP connection) and the connection
is dropped, which the reader reports like any lost connection. While the reader waits for queue
space it reads nothing, so silence then is the consumer's doing and does not count.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from sec_digester_client.config import ClientConfig
from sec_digester_client.errors import ClientError, ProtocolError
from sec_digester_client.protocol import UNDECODABLE, Closed, Event, Pong, Refused, parse_frame

log = logging.getLogger(__name__)

_QUEUE_FRAMES = 256  # read ahead of the consumer; a filing frame is a few kilobytes


class Connection:
    def __init__(self, websocket: ClientConnection, config: ClientConfig) -> None:
        self._websocket = websocket
        self._config = config
        self._events: asyncio.Queue[Event | ClientError] = asyncio.Queue(_QUEUE_FRAMES)
        self._heard = asyncio.Event()  # a frame arrived since the last ping
        self._stalled = False  # the reader waited for queue space since the last ping
        self._gave_up: str | None = None
        self._reader = asyncio.create_task(self._read())
        self._heartbeat = asyncio.create_task(self._beat())

    @classmethod
    async def open(cls, config: ClientConfig, start: str | None) -> Connection:
        """Connect; raises OSError, TimeoutError or a websockets error (all worth retrying)."""
        websocket = await connect(
            config.stream_url(start),
            additional_headers=config.headers(),
            open_timeout=config.connect_timeout_s,
            # The protocol's own ping/pong frames (the heartbeat) replace websockets' keepalive.
            ping_interval=None,
            # No permessage-deflate: the gateway sends every client the same pre-encoded
            # frames, which a compressed connection would have to re-encode, one by one.
            compression=None,
            close_timeout=config.pong_timeout_s,
            max_size=config.max_frame_bytes,
        )
        return cls(websocket, config)

    @property
    def alive(self) -> bool:
        return not self._reader.done() and self._gave_up is None

    async def next_event(self) -> Event:
        """The next event; the last one is `Closed`. Raises ProtocolError on an unreadable frame."""
        event = await self._events.get()
        if isinstance(event, ClientError):
            raise event
        return event

    async def send(self, message: dict[str, Any]) -> bool:
        """Send a frame; False if the connection is gone (the reader reports how it ended)."""
        try:
            await self._websocket.send(json.dumps(message))
        except ConnectionClosed:
            return False
        return True

    async def close(self) -> None:
        self._heartbeat.cancel()
        self._reader.cancel()
        await asyncio.gather(self._heartbeat, self._reader, return_exceptions=True)
        await self._websocket.close()

    async def _read(self) -> None:
        refused: Refused | None = None
        try:
            while True:
                text = await self._websocket.recv()
                self._heard.set()
                event = parse_frame(text)
                if isinstance(event, Pong):
                    continue
                if isinstance(event, Refused) and event.code != UNDECODABLE:
                    refused = event  # the close that follows is explained by this
                await self._put(event)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            reason = closed.rcvd.reason if closed.rcvd else (self._gave_up or "connection lost")
            await self._put(Closed(code, reason, refused))
        except ProtocolError as exc:
            await self._put(exc)

    async def _put(self, event: Event | ClientError) -> None:
        if self._events.full():
            self._stalled = True
        await self._events.put(event)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._config.ping_interval_s)
            if self._reader.done():
                return  # the end is already reported; nothing left to watch
            self._heard.clear()
            self._stalled = False
            await self.send({"type": "ping"})
            try:
                async with asyncio.timeout(self._config.pong_timeout_s):
                    await self._heard.wait()
            except TimeoutError:
                if self._stalled or self._events.full():
                    continue
                self._gave_up = f"no answer to a ping within {self._config.pong_timeout_s}s"
                log.warning("the gateway stopped answering: %s", self._gave_up)
                # No closing handshake with a peer that does not answer: drop the TCP connection.
                self._websocket.transport.abort()
                return
