"""ASGI middleware that logs every client request and applies the queued faults to it.

Requests to the control endpoints (/_emulator/...) are neither logged nor faulted: they are
the test talking to the emulator, not the client under test talking to EDGAR.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.emulator.connection_reset import reset_current_connection
from services.emulator.control import EmulatorControl
from services.emulator.control_api import CONTROL_PREFIX
from services.emulator.faults import (
    ERROR_PAGE,
    RATE_LIMITED_PAGE,
    UNDECLARED_TOOL_PAGE,
    Fault,
    FaultKind,
)
from services.emulator.request_log import LoggedRequest


class FaultsAndLogMiddleware:
    def __init__(self, app: ASGIApp, *, control: EmulatorControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(f"{CONTROL_PREFIX}/"):
            await self.app(scope, receive, send)
            return
        fault = self.control.faults.take(scope["path"])
        query = scope["query_string"].decode("latin-1")
        number = self.control.requests.arrive(
            LoggedRequest(
                monotonic=time.monotonic(),
                wall_time=dt.datetime.now(dt.UTC),
                method=scope["method"],
                target=scope["path"] + (f"?{query}" if query else ""),
                user_agent=Headers(scope=scope).get("user-agent"),
                status=None,
                fault=fault.kind if fault else None,
            )
        )

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Logged before it is sent, so a client that has its answer finds it logged.
                self.control.requests.answered(number, message["status"])
            await send(message)

        await self._answer(fault, scope, receive, logging_send)

    async def _answer(
        self, fault: Fault | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault is None:
            await self.app(scope, receive, send)
            return
        match fault.kind:
            case FaultKind.RATE_LIMITED:
                retry_after = {b"retry-after": str(fault.retry_after).encode()}
                await _send_page(send, 429, RATE_LIMITED_PAGE, retry_after)
            case FaultKind.FORBIDDEN:
                await _send_page(send, 403, UNDECLARED_TOOL_PAGE, {})
            case FaultKind.MALFORMED:
                await _send_page(send, 200, ERROR_PAGE, {})
            case FaultKind.STALL:
                await asyncio.sleep(fault.stall_seconds)
                await self.app(scope, receive, send)
            case FaultKind.TRUNCATE:
                await self.app(scope, receive, _HalfBody(send))
            case FaultKind.RESET:
                if not await reset_current_connection():
                    # Not served by the resettable protocol: the next best thing is a broken
                    # answer, which uvicorn turns into a 500 or a dropped connection.
                    raise ConnectionAbortedError("emulator fault: connection reset")


class _HalfBody:
    """A `send` that holds the answer back and sends the first half of its body, with a
    Content-Length that matches the half: the transfer looks complete, the document is not."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._start: Message | None = None
        self._body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._body += message.get("body", b"")
        if message.get("more_body", False):
            return
        half = bytes(self._body[: len(self._body) // 2])
        headers = MutableHeaders(raw=list(self._start["headers"]))
        headers["content-length"] = str(len(half))
        await self._send({**self._start, "headers": headers.raw})
        await self._send({"type": "http.response.body", "body": half})


async def _send_page(send: Send, status: int, page: bytes, extra: dict[bytes, bytes]) -> None:
    headers = [
        (b"content-type", b"text/html"),
        (b"content-length", str(len(page)).encode()),
        *extra.items(),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": page})
