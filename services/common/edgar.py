"""The one way any service talks to EDGAR: declared User-Agent, rate limit, retries.

Every request waits for the process's `RequestLimiter`; timeouts, connection errors, 5xx and 429
are retried with exponential backoff and full jitter, and a 429's Retry-After pauses the whole
process. Conditional requests (If-None-Match / If-Modified-Since) are used for documents we
re-read, so an unchanged one costs EDGAR nothing. httpx errors become `UpstreamError` here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx
import structlog
from prometheus_client import Counter, Histogram

from services.common.errors import UpstreamError
from services.common.ratelimit import RequestLimiter
from services.common.retry import RetryPolicy

log = structlog.get_logger(__name__)

HTTP_RESPONSES = Counter(
    "edgar_http_responses_total", "EDGAR responses by status ('error' = no response)", ["status"]
)
HTTP_RETRIES = Counter("edgar_http_retries_total", "EDGAR requests retried, by reason", ["reason"])
HTTP_SECONDS = Histogram("edgar_http_request_seconds", "EDGAR request duration")


@dataclass(frozen=True)
class EdgarResponse:
    url: str
    status: int
    body: bytes
    content_type: str
    not_modified: bool = False  # a conditional GET answered 304: `body` is the one seen before


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class EdgarClient:
    """`async with EdgarClient(...) as edgar: response = await edgar.get(url)`."""

    def __init__(
        self,
        *,
        user_agent: str,
        limiter: RequestLimiter,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._limiter = limiter
        self._retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
        )
        # url -> (validators, body) of documents fetched with conditional=True
        self._validated: dict[str, tuple[dict[str, str], EdgarResponse]] = {}

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)

    async def get(
        self, url: str, *, conditional: bool = False, not_found_ok: bool = False
    ) -> EdgarResponse:
        """GET with retries. A 404 returns status 404 when `not_found_ok`, else raises."""
        headers = self._validated[url][0] if conditional and url in self._validated else {}
        for attempt in self._retry.attempts():
            started = time.perf_counter()
            try:
                async with self._limiter.slot():
                    response = await self._http.get(url, headers=headers)
            except httpx.TransportError as exc:  # timeouts, resets, refused connections
                HTTP_RESPONSES.labels(status="error").inc()
                reason, wait_s = type(exc).__name__, self._retry.backoff(attempt)
            else:
                HTTP_SECONDS.observe(time.perf_counter() - started)
                HTTP_RESPONSES.labels(status=str(response.status_code)).inc()
                outcome = self._outcome(url, response, conditional, not_found_ok)
                if outcome is not None:
                    return outcome
                reason = str(response.status_code)
                wait_s = self._retry.backoff(attempt)
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is not None:
                    self._limiter.pause_for(retry_after)
                    wait_s = max(wait_s, retry_after)
            if self._retry.allows_another(attempt):
                HTTP_RETRIES.labels(reason=reason).inc()
                log.warning(
                    "edgar request retried", url=url, reason=reason, wait_s=round(wait_s, 2)
                )
                await asyncio.sleep(wait_s)
        raise UpstreamError(
            f"GET {url} failed {attempt + 1} times (last: {reason})",
            url=url,
            retriable=True,
        )

    def _outcome(
        self, url: str, response: httpx.Response, conditional: bool, not_found_ok: bool
    ) -> EdgarResponse | None:
        """The result of a final answer, None for one worth retrying; raises on a refusal."""
        status = response.status_code
        if status == 304 and url in self._validated:
            return dataclasses.replace(self._validated[url][1], not_modified=True)
        if status == 200 or (status == 404 and not_found_ok):
            result = EdgarResponse(
                url, status, response.content, response.headers.get("Content-Type", "")
            )
            if conditional and status == 200:
                self._remember(url, response, result)
            return result
        if status == 429 or status >= 500:
            return None
        snippet = response.text[:200].replace("\n", " ")
        hint = " (EDGAR refuses undeclared tools: set EDGAR_USER_AGENT)" if status == 403 else ""
        raise UpstreamError(
            f"GET {url} answered {status}{hint}: {snippet}", url=url, status=status, retriable=False
        )

    def _remember(self, url: str, response: httpx.Response, result: EdgarResponse) -> None:
        validators = {}
        if etag := response.headers.get("ETag"):
            validators["If-None-Match"] = etag
        if modified := response.headers.get("Last-Modified"):
            validators["If-Modified-Since"] = modified
        if validators:
            self._validated[url] = (validators, result)
