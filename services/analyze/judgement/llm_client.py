"""The one place that calls litellm: one chat completion, its usage and cost, and litellm's
errors translated to ours.

Import litellm only through this module, which deals with three things litellm does by default:
- It downloads its model price map from GitHub unless LITELLM_LOCAL_MODEL_COST_MAP is "True"
  (read once, at import). This module sets that default before importing litellm, so the
  analyzer reaches nothing but the configured api_base and prices come from the map bundled
  with the pinned litellm release. An operator who wants the live map sets the variable to
  "False" in the environment.
- It prints a "Give Feedback / Get Help" banner to stdout with every exception unless
  `suppress_debug_info` is set; it is set here, since our logs say what failed.
- It gives its "LiteLLM" logger a stderr handler of its own, on top of propagating to the root
  logger, and logs every call at INFO ("LiteLLM completion() model=..."): with the services'
  INFO logging, each call would print two unstructured multi-line records. Here that logger
  loses its own handler (records reach the services' handlers only) and keeps WARNING and up.

No retries happen here: litellm's own (`num_retries`) and the OpenAI SDK's (`max_retries`) are
both turned off, so the analyzer's policy is the only one and every attempt is counted.
Errors: a litellm (OpenAI SDK) exception becomes `UpstreamError`, retriable for timeouts,
connection failures, 429 and 5xx, not for refusals (401, 403, 404, 400 such as a context
window exceeded); a 429 becomes `RateLimitedError` carrying its Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

# Before importing litellm, which reads it once, on import (see the module docstring).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import openai
from litellm import exceptions as litellm_errors

from services.common.edgar import retry_after_seconds
from services.common.errors import ConfigurationError, UpstreamError

litellm.suppress_debug_info = True


def _quiet_litellm_logger() -> None:
    logger = logging.getLogger("LiteLLM")
    logger.setLevel(logging.WARNING)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)


_quiet_litellm_logger()

_MAX_ERROR_CHARS = 300
# Transient by nature (429 has its own class); any other status >= 500 is treated the same way.
_RETRIABLE = (
    litellm_errors.Timeout,
    litellm_errors.APIConnectionError,
    litellm_errors.InternalServerError,
    litellm_errors.ServiceUnavailableError,
    litellm_errors.BadGatewayError,
)


class RateLimitedError(UpstreamError):
    """A 429 from the LLM API; `retry_after_s` is its Retry-After, when it sent one."""

    retriable = True

    def __init__(self, message: str, *, url: str, retry_after_s: float | None) -> None:
        super().__init__(message, url=url, status=429)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one or more completions. `cost_usd` is None when litellm does not
    know the model's price; a sum with an unknown part is unknown."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cost,
        )


@dataclass(frozen=True, slots=True)
class Completion:
    content: str | None  # the assistant message, unvalidated
    usage: Usage  # what this completion cost, whatever its content


def check_model(model: str) -> None:
    """Fail at start-up, naming the setting, when litellm cannot tell the model's provider."""
    try:
        litellm.get_llm_provider(model)
    except openai.OpenAIError as exc:
        raise ConfigurationError(
            f"LLM_MODEL={model!r} is not a litellm model string (e.g. 'openai/gpt-4o-mini'): "
            f"{str(exc)[:_MAX_ERROR_CHARS]}"
        ) from exc


async def complete(
    *,
    model: str,
    api_base: str | None,
    messages: Sequence[dict[str, str]],
    timeout_s: float,
    temperature: float,
) -> Completion:
    """One chat completion in JSON mode, within `timeout_s` in all (connect, wait, read)."""
    url = api_base or model  # what an error names: the endpoint, or the provider's default
    try:
        # litellm's timeout bounds each socket operation; asyncio's bounds the whole call.
        async with asyncio.timeout(timeout_s):
            response = await litellm.acompletion(
                model=model,
                messages=list(messages),
                api_base=api_base,
                timeout=timeout_s,
                temperature=temperature,
                response_format={"type": "json_object"},
                num_retries=0,
                max_retries=0,
            )
    except TimeoutError as exc:
        raise UpstreamError(f"no answer within {timeout_s}s", url=url, retriable=True) from exc
    except openai.OpenAIError as exc:
        raise _translated(exc, url) from exc
    if not isinstance(response, litellm.ModelResponse) or not response.choices:
        raise UpstreamError(f"unexpected completion: {type(response).__name__}", url=url)
    choice = response.choices[0]
    content = choice.message.content if isinstance(choice, litellm.Choices) else None
    return Completion(content=content, usage=_usage(response))


def _usage(response: litellm.ModelResponse) -> Usage:
    usage = getattr(response, "usage", None)
    try:
        cost: float | None = float(litellm.completion_cost(completion_response=response))
    except Exception:  # litellm raises bare Exception for a model missing from its price map
        cost = None
    return Usage(
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=cost,
    )


def _translated(exc: openai.OpenAIError, url: str) -> UpstreamError:
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    message = str(exc)[:_MAX_ERROR_CHARS]
    if isinstance(exc, litellm_errors.RateLimitError):
        headers = getattr(exc, "litellm_response_headers", None)
        retry_after = retry_after_seconds(headers.get("retry-after") if headers else None)
        return RateLimitedError(message, url=url, retry_after_s=retry_after)
    retriable = isinstance(exc, _RETRIABLE) or (status is not None and status >= 500)
    return UpstreamError(message, url=url, status=status, retriable=retriable)
