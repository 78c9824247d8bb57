"""A local OpenAI-compatible chat-completions server, scripted per test.

litellm talks to it over real HTTP (model "openai/<anything>", api_base = `OpenAiStub.api_base`),
so the analyzer's whole client path runs: request building, transport, status handling and
response parsing. Each request takes the next scripted `Reply` from the queue; with the queue
empty the server answers 500 ("nothing scripted"), so a test that makes more calls than it
planned fails loudly instead of passing on a default answer.

The server runs as a task on the test's own event loop (no thread, no locks). Every request
body is recorded, and so is the highest number of requests in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.asgi_server import serve_app

_GRACEFUL_SHUTDOWN_SECONDS = 1


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer: a 200 whose assistant message is `content`, or an error status."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering; longer than the client's timeout = a stall
    prompt_tokens: int = 1200
    completion_tokens: int = 150


def answer(payload: dict[str, Any], *, delay_s: float = 0.0, completion_tokens: int = 150) -> Reply:
    """A 200 whose message content is `payload` as JSON."""
    return Reply(json.dumps(payload), delay_s=delay_s, completion_tokens=completion_tokens)


def text_answer(content: str) -> Reply:
    """A 200 whose message content is `content` verbatim (e.g. not JSON at all)."""
    return Reply(content)


def error(status: int, *, retry_after_s: int | None = None) -> Reply:
    headers = {} if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return Reply(status=status, headers=headers)


def stall(seconds: float) -> Reply:
    """An answer that comes only after `seconds` (a valid-looking but empty JSON object)."""
    return Reply("{}", delay_s=seconds)


class OpenAiStub:
    """The script, the record of what was asked, and the Starlette app that serves both."""

    def __init__(self) -> None:
        self.api_base = ""  # set once the socket is bound
        self.requests: list[dict[str, Any]] = []  # request bodies, in arrival order
        self.max_in_flight = 0
        self._replies: deque[Reply] = deque()
        self._in_flight = 0
        self._closing = asyncio.Event()  # ends stalls at once when the server stops
        routes = [
            Route(path, self._chat_completions, methods=["POST"])
            for path in ("/v1/chat/completions", "/chat/completions")
        ]
        self.app = Starlette(routes=routes)

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def end_stalls(self) -> None:
        """Let every delayed answer go now (on shutdown, so no stall holds it up)."""
        self._closing.set()

    @property
    def prompts(self) -> list[str]:
        """The user message of every request, in arrival order."""
        return [
            next(m["content"] for m in body["messages"] if m["role"] == "user")
            for body in self.requests
        ]

    async def _chat_completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append(body)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            reply = self._replies.popleft() if self._replies else None
            if reply is None:
                return _error_response(500, "openai stub: nothing scripted for this request")
            if reply.delay_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), reply.delay_s)
            if reply.status != 200:
                return _error_response(reply.status, f"scripted {reply.status}", reply.headers)
            return JSONResponse(_completion(body, reply), headers=reply.headers)
        finally:
            self._in_flight -= 1


def _completion(request_body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """A chat completion in the OpenAI response format."""
    return {
        "id": f"chatcmpl-stub-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request_body.get("model", "stub"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return JSONResponse(body, status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def serve_openai_stub() -> AsyncIterator[OpenAiStub]:
    """Serve a fresh stub on an ephemeral port for the duration of the `async with` block."""
    stub = OpenAiStub()
    async with serve_app(stub.app, graceful_shutdown_s=_GRACEFUL_SHUTDOWN_SECONDS) as base_url:
        stub.api_base = f"{base_url}/v1"
        try:
            yield stub
        finally:
            stub.end_stalls()
