"""Limits per API key (services/gateway/limits.py) and how their refusals reach a client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
from prometheus_client import REGISTRY

from services.gateway.errors import ErrorCode, GatewayError, error_frame, error_response
from services.gateway.limits import KeyLimit, KeyLimits, ReplayRates
from services.gateway.settings import GatewaySettings


def _refusals(limit: str) -> float:
    value = REGISTRY.get_sample_value("gateway_key_limit_refusals_total", {"limit": limit})
    return value or 0.0


def _limit(maximum: int) -> KeyLimit:
    return KeyLimit("replays", maximum, ErrorCode.TOO_MANY_REPLAYS, "too many", retry_after_s=5)


def test_a_key_holds_at_most_its_maximum_and_other_keys_are_not_affected() -> None:
    limit = _limit(2)
    refused_before = _refusals("replays")
    with limit.slot("a"), limit.slot("a"):
        assert limit.held("a") == 2
        with pytest.raises(GatewayError) as refused, limit.slot("a"):
            pass
        assert refused.value.code is ErrorCode.TOO_MANY_REPLAYS
        assert refused.value.retriable
        assert refused.value.retry_after_s == 5
        assert limit.held("a") == 2  # a refusal holds nothing
        with limit.slot("b"), limit.slot("b"):
            assert limit.held("b") == 2
    assert limit.held("a") == limit.held("b") == 0
    assert _refusals("replays") == refused_before + 1


def test_a_freed_slot_can_be_used_again_however_its_holder_ended() -> None:
    limit = _limit(1)

    class EndedError(Exception):
        pass

    with pytest.raises(EndedError), limit.slot("a"):
        raise EndedError
    with limit.slot("a"):  # the failure gave it back
        assert limit.held("a") == 1
    with limit.slot("a"):
        pass
    assert limit.held("a") == 0


def test_without_api_keys_nothing_is_limited() -> None:
    limit = _limit(1)
    with limit.slot(None), limit.slot(None), limit.slot(None):
        assert limit.held(None) == 0


def test_a_maximum_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _limit(0)


def test_the_settings_give_each_limit_its_maximum_and_code() -> None:
    limits = KeyLimits.of(GatewaySettings(gateway_max_replays_per_key=2))
    assert limits.connections.maximum == 100  # the defaults
    assert limits.replays.maximum == 2
    assert limits.mcp_requests.maximum == 8
    expected = {
        "connections": (ErrorCode.TOO_MANY_CONNECTIONS, "GATEWAY_MAX_CONNECTIONS_PER_KEY"),
        "replays": (ErrorCode.TOO_MANY_REPLAYS, "GATEWAY_MAX_REPLAYS_PER_KEY"),
        "mcp_requests": (ErrorCode.TOO_MANY_REQUESTS, "GATEWAY_MAX_MCP_REQUESTS_PER_KEY"),
    }
    for limit in (limits.connections, limits.replays, limits.mcp_requests):
        code, setting = expected[limit.name]
        with contextlib.ExitStack() as held:
            for _ in range(limit.maximum):
                held.enter_context(limit.slot("k"))
            with pytest.raises(GatewayError) as refused, limit.slot("k"):
                pass
        assert refused.value.code is code
        assert setting in str(refused.value)  # the message names what to change


@pytest.mark.parametrize(
    ("code", "close_code"),
    [(ErrorCode.TOO_MANY_CONNECTIONS, 4429), (ErrorCode.TOO_MANY_REPLAYS, 4430)],
)
def test_a_refused_stream_is_a_retriable_close_or_a_429_with_retry_after(
    code: ErrorCode, close_code: int
) -> None:
    error = GatewayError(code, "held", retry_after_s=5)
    assert (code.close_code, code.http_status, code.retriable) == (close_code, 429, True)
    frame = json.loads(error_frame(error, "0:7,1:3"))
    assert frame == {
        "type": "error",
        "code": code.value,
        "message": "held",
        "cursor": "0:7,1:3",
        "retry_after_s": 5,
    }
    response = error_response(error)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert json.loads(bytes(response.body)) == {"error": code.value, "message": "held"}


def test_a_refused_mcp_request_is_an_http_429_only() -> None:
    code = ErrorCode.TOO_MANY_REQUESTS
    assert (code.close_code, code.http_status, code.retriable) == (None, 429, True)
    response = error_response(GatewayError(code, "busy", retry_after_s=1))
    assert response.headers["retry-after"] == "1"


def test_errors_without_a_wait_carry_no_retry_after() -> None:
    error = GatewayError(ErrorCode.BAD_PARAMETER, "from: no")
    assert "retry-after" not in error_response(error).headers
    assert "retry_after_s" not in json.loads(error_frame(error))


@pytest.mark.asyncio
async def test_one_keys_replays_share_its_record_rate_and_other_keys_have_their_own() -> None:
    rates = ReplayRates(per_s=1000)
    started = time.monotonic()
    # Key a: 300 records in three batches = 0.3 s at 1000/s (the first goes at once).
    await asyncio.gather(*(rates.take("a", 100) for _ in range(3)))
    shared = time.monotonic() - started
    started = time.monotonic()
    await rates.take("b", 100)  # its own rate: not behind key a's
    await rates.take(None, 10_000)  # without keys: unlimited
    others = time.monotonic() - started
    assert shared >= 0.2
    assert others < 0.1
    unlimited = ReplayRates(per_s=0)
    started = time.monotonic()
    for _ in range(10):
        await unlimited.take("a", 10_000)
    assert time.monotonic() - started < 0.1
