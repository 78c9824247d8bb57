"""uvicorn's HTTP protocol with a deadline for the request head.

uvicorn times out idle keep-alive connections, but not a client that sends its request head a
byte at a time (slow loris): each such connection would hold a socket and a protocol object for
as long as the client likes. Here every request head (the first on a connection, and each one
after that) must be complete within `GATEWAY_HANDSHAKE_TIMEOUT_S`, or the connection gets a
408 and is closed. A WebSocket handshake is such a request head.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\nconnection: close\r\n\r\nrequest head not sent in time\r\n"
)


class HeadDeadlineProtocol(HttpToolsProtocol):
    head_timeout_s: float = 10.0  # set per gateway by `with_head_deadline`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:  # a further request on a kept-alive connection
            self._start_head_deadline()

    def on_headers_complete(self) -> None:
        self._cancel_head_deadline()
        super().on_headers_complete()

    def _start_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(self.head_timeout_s, self._head_too_late)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.logger.info("request head not complete in %.0f s: closed", self.head_timeout_s)
            self.transport.write(_REQUEST_TIMEOUT)
            self.transport.close()


def with_head_deadline(timeout_s: float) -> type[HeadDeadlineProtocol]:
    """The protocol class for uvicorn's `http=` setting, with this deadline."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout_s": timeout_s})
