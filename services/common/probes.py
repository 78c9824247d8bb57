"""Readiness probes shared by every service: is Kafka reachable, is the registry?"""

from __future__ import annotations

import asyncio

import httpx

from services.common.errors import SecDigesterError
from services.common.kafka import connection_config, probe_broker, probe_topics
from services.common.settings import CommonSettings

PROBE_TIMEOUT_S = 3.0


async def kafka_reachable(settings: CommonSettings) -> bool:
    try:
        await asyncio.to_thread(probe_broker, connection_config(settings), PROBE_TIMEOUT_S)
    except SecDigesterError:
        return False
    return True


async def kafka_topics(settings: CommonSettings) -> set[str] | None:
    """The cluster's topic names; None while Kafka does not answer."""
    try:
        return await asyncio.to_thread(probe_topics, connection_config(settings), PROBE_TIMEOUT_S)
    except SecDigesterError:
        return None


async def registry_reachable(settings: CommonSettings) -> bool:
    return await registry_subjects(settings) is not None


async def registry_subjects(settings: CommonSettings) -> set[str] | None:
    """The registry's subjects; None while it does not answer (or answers with an error)."""
    secret = settings.schema_registry_basic_auth
    auth = tuple(secret.get_secret_value().split(":", 1)) if secret else None
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S, auth=auth) as client:  # type: ignore[arg-type]
            response = await client.get(f"{settings.schema_registry_url}/subjects")
            if response.status_code != 200:
                return None
            names = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return {str(name) for name in names} if isinstance(names, list) else None
