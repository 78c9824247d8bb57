"""The middleware in front of every gateway route, outermost first.

CORS must come before the API-key check: a preflight OPTIONS request carries no key, and a 401
without CORS headers is unreadable to the page that should show it (services/gateway/auth.py).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from services.gateway.auth import ApiKeyMiddleware, cors_options
from services.gateway.settings import GatewaySettings


def gateway_middleware(settings: GatewaySettings) -> list[Middleware]:
    return [
        Middleware(CORSMiddleware, **cors_options(settings.cors_origins)),
        Middleware(ApiKeyMiddleware, keys=settings.api_keys),
    ]
