from __future__ import annotations

import asyncio
import time

import pytest

from services.common.edgar import retry_after_seconds
from services.common.ratelimit import RequestLimiter
from services.common.retry import RetryPolicy


async def _start_times(limiter: RequestLimiter, count: int) -> list[float]:
    starts = []
    for _ in range(count):
        async with limiter.slot():
            starts.append(time.monotonic())
    return starts


@pytest.mark.asyncio
async def test_no_one_second_window_holds_more_than_the_limit() -> None:
    starts = await _start_times(RequestLimiter(10), 25)
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s - start < 1.0) <= 10


@pytest.mark.asyncio
async def test_a_fractional_rate_spaces_requests_out() -> None:
    starts = await _start_times(RequestLimiter(2.5), 4)
    # 2.5/s is one request per 0.4 s on average: 4 requests need at least one full window.
    assert starts[-1] - starts[0] >= 1.0


@pytest.mark.asyncio
async def test_a_request_in_flight_holds_its_place_until_answered() -> None:
    limiter = RequestLimiter(1)
    slow = limiter.slot()
    await slow.__aenter__()  # in flight: it may reach the server at any moment until answered
    waiting = asyncio.create_task(_start_times(limiter, 1))
    await asyncio.sleep(1.5)
    assert not waiting.done()
    answered = time.monotonic()
    await slow.__aexit__(None, None, None)
    started = (await waiting)[0]
    assert started - answered >= 1.0


@pytest.mark.asyncio
async def test_a_pause_holds_every_caller() -> None:
    limiter = RequestLimiter(10)
    limiter.pause_for(0.5)
    begun = time.monotonic()

    async def one() -> None:
        async with limiter.slot():
            pass

    await asyncio.gather(one(), one())
    assert time.monotonic() - begun >= 0.5


def test_retry_after_forms() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0)
    delays = [policy.backoff(attempt) for attempt in range(10) for _ in range(20)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 100


def test_a_policy_without_a_limit_retries_for_ever_and_its_backoff_stays_capped() -> None:
    policy = RetryPolicy.forever(base_delay_s=0.5, max_delay_s=4.0)
    attempts = policy.attempts()
    assert [next(attempts) for _ in range(3)] == [0, 1, 2]
    assert policy.allows_another(10**9)
    assert 0 <= policy.backoff(10**9) <= 4.0  # no overflow after a long outage
    limited = RetryPolicy(max_attempts=3)
    assert list(limited.attempts()) == [0, 1, 2]
    assert limited.allows_another(1)
    assert not limited.allows_another(2)
