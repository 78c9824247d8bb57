"""A local stand-in for Discord's webhook API (and a generic webhook), over real HTTP.

`POST /api/webhooks/{id}/{token}` answers as Discord does: 204 when the message is accepted,
and every `rate_limit_every`-th request 429 with Discord's JSON body (`retry_after` in
seconds) and a Retry-After header. `POST /hook` is a generic webhook that accepts everything
(or, with `signing_secret`, everything correctly signed).
Every request is recorded with its arrival time, so a test can check that a client waited as
long as it was told to before it tried again.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]
    idempotency_key: str | None
    status: int  # what the stub answered
    at: float  # time.monotonic() on arrival
    retry_after_s: float | None = None


@dataclass
class WebhookStub:
    rate_limit_every: int = 3
    retry_after_s: float = 0.4
    # When set, /hook checks each POST's signature as a receiver following the README would
    # (written here from the documented rule, not with the project's code) and answers 401 to
    # a missing or wrong one.
    signing_secret: str | None = None
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/api/webhooks/{id}/{token}", self._discord, methods=["POST"]),
                Route("/hook", self._hook, methods=["POST"]),
            ]
        )
        self._discord_requests = 0

    def accepted(self, path_prefix: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(path_prefix) and r.status < 300]

    async def _discord(self, request: Request) -> Response:
        self._discord_requests += 1
        arrived = time.monotonic()
        body, key = await request.json(), request.headers.get("idempotency-key")
        if self._discord_requests % self.rate_limit_every == 0:
            self.received.append(
                Received(request.url.path, body, key, 429, arrived, self.retry_after_s)
            )
            limited = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after_s,
                "global": False,
            }
            # Discord's header is whole seconds, rounded up; the body is the precise wait.
            return JSONResponse(limited, status_code=429, headers={"Retry-After": "1"})
        self.received.append(Received(request.url.path, body, key, 204, arrived))
        return Response(status_code=204)

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        body, key = json.loads(raw), request.headers.get("idempotency-key")
        status = 200 if self._signed(request.headers, raw) else 401
        self.received.append(Received(request.url.path, body, key, status, time.monotonic()))
        return Response(status_code=status)

    def _signed(self, headers: Mapping[str, str], raw: bytes) -> bool:
        if self.signing_secret is None:
            return True
        timestamp = headers.get("x-timestamp", "")
        mac = hmac.new(self.signing_secret.encode(), f"{timestamp}.".encode() + raw, "sha256")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        return fresh and hmac.compare_digest(
            headers.get("x-signature-256", ""), f"sha256={mac.hexdigest()}"
        )
