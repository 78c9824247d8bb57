"""Pre-encoded WebSocket frames written straight to the connection: the fan-out fast path.

Through ASGI every send is a message dict that Starlette checks, uvicorn hands to the
websockets state machine, which frames the text again for each client. For a record going to a
thousand clients that is a thousand framings of the same bytes. Instead the gateway frames a
record once (RFC 6455 §5.2: a server's frames are not masked) and writes the bytes to every
idle client's transport.

uvicorn exposes no transport to the app, so the gateway runs uvicorn's sans-I/O WebSocket
protocol with one addition: the handshake puts a `WireWriter` into the ASGI scope under the
`sec-digester.wire` extension. An app served by another server simply finds no writer and sends
through ASGI.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

WIRE_EXTENSION = "sec-digester.wire"
_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented text frame carrying `payload` (UTF-8)."""
    length = len(payload)
    if length < 126:
        return struct.pack("!BB", _FIN_TEXT, length) + payload
    if length < 1 << 16:
        return struct.pack("!BBH", _FIN_TEXT, 126, length) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, length) + payload


class WireWriter:
    """Writes whole frames to one connection, never waiting."""

    def __init__(self, protocol: FanoutWebSocketProtocol) -> None:
        self._protocol = protocol

    @property
    def closed(self) -> bool:
        protocol = self._protocol
        return (
            protocol.close_sent
            or protocol.disconnected
            or protocol.transport.is_closing()
            or protocol.conn.state is not State.OPEN
        )

    def write(self, frames: bytes) -> bool:
        """Write now, or return False: the socket is backed up, or the connection closed.

        The fan-out calls this once per client and batch, so it checks plain flags only:
        `paused` (the transport's flow control, and set once the connection is lost), the
        close frame sent, and the transport closing (a close frame from the client closes it
        in the same call that parsed the frame, so the connection state needs no look)."""
        protocol = self._protocol
        if protocol.paused or protocol.close_sent or protocol.transport.is_closing():
            return False
        protocol.transport.write(frames)
        return True

    async def wait_writable(self) -> None:
        """Until the socket drains (or the connection is lost: uvicorn then sets it too)."""
        await self._protocol.writable.wait()


class FanoutWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, offering the app a `WireWriter` — unless the
    client negotiated an extension (compression), which must frame each message itself."""

    # The transport's flow control as a plain attribute, for WireWriter.write.
    paused = False

    def pause_writing(self) -> None:
        self.paused = True
        super().pause_writing()

    def resume_writing(self) -> None:
        self.paused = False
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.paused = True  # for good: nothing more goes to this transport
        super().connection_lost(exc)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101 and not self.conn.extensions:
            self.scope["extensions"][WIRE_EXTENSION] = {"writer": WireWriter(self)}

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # A handshake the websockets library refuses itself (a request line over 8 KB: 414,
        # header fields too large: 431, not HTTP at all) produces its answer but no event, and
        # uvicorn would neither send it nor close: the client would wait for ever.
        if not self.handshake_complete and self.conn.handshake_exc is not None:
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()


def writer_in(scope: Mapping[str, Any]) -> WireWriter | None:
    extension = (scope.get("extensions") or {}).get(WIRE_EXTENSION)
    return extension["writer"] if extension else None


async def write_all(writer: WireWriter, frames: bytes) -> bool:
    """Write, waiting for the socket to drain as often as needed; False if it closed."""
    while not writer.write(frames):
        if writer.closed:
            return False
        await writer.wait_writable()
    return True
