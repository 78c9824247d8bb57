"""Resetting a client's TCP connection from inside an ASGI app.

ASGI gives an app no handle on its connection: an app that fails before answering gets a 500
from uvicorn, not a dropped connection. This h11 protocol subclass makes the connection's
transport visible to the request it is serving: the request task is created inside
`data_received` and copies the context at that moment, so a context variable set just before
carries this connection's transport into the task.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
import struct

from uvicorn.protocols.http.h11_impl import H11Protocol

_TRANSPORT: contextvars.ContextVar[asyncio.Transport | None] = contextvars.ContextVar(
    "emulator_transport", default=None
)


class ResettableH11Protocol(H11Protocol):
    def data_received(self, data: bytes) -> None:
        _TRANSPORT.set(self.transport)
        super().data_received(data)


async def reset_current_connection() -> bool:
    """Abort the connection of the request being served with a TCP RST (SO_LINGER 0, so the
    client sees 'connection reset', not an orderly close). False if it is not reachable."""
    transport = _TRANSPORT.get()
    if transport is None or transport.is_closing():
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # abort() schedules connection_lost; letting it run first marks the request as
    # disconnected, so uvicorn does not try to answer it with a 500 afterwards.
    await asyncio.sleep(0)
    return True
