"""Readiness probes shared by every service: is Kafka reachable, is the registry?"""

from __future__ import annotations

import asyncio

import httpx

from services.common.errors import SecDigesterError
from services.common.kafka import connection_config, probe_broker
from services.common.settings import CommonSettings


async def kafka_reachable(settings: CommonSettings) -> bool:
    try:
        await asyncio.to_thread(probe_broker, connection_config(settings), 3.0)
    except SecDigesterError:
        return False
    return True


async def registry_reachable(settings: CommonSettings) -> bool:
    secret = settings.schema_registry_basic_auth
    auth = tuple(secret.get_secret_value().split(":", 1)) if secret else None
    try:
        async with httpx.AsyncClient(timeout=3.0, auth=auth) as client:  # type: ignore[arg-type]
            response = await client.get(f"{settings.schema_registry_url}/subjects")
    except httpx.HTTPError:
        return False
    return response.status_code == 200
