"""Commands that read the gateway's stream through the client library (`tail`, `alerts`).

They share where the gateway is and the key to show it, and how the library's final errors
reach the user: as the CLI's own errors (a refused key or a rejected parameter is a
configuration problem, exit 2; anything else exit 1), not as a traceback. It lives with `tail`,
the first of them, so that only the two commands that read the stream import the client
library; `alerts` imports it from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from pydantic import AfterValidator, SecretStr
from sec_digester_client import (
    AuthenticationError,
    BadParameterError,
    ClientConfig,
    ClientError,
)

from services.common.errors import ConfigurationError, SecDigesterError
from services.common.settings import CommonSettings, setting_label


def _check_ws_url(url: str) -> str:
    if not re.match(r"^wss?://[^/\s]+", url):
        raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
    return url


WebSocketUrl = Annotated[str, AfterValidator(_check_ws_url)]


class StreamClientSettings(CommonSettings):
    gateway_url: WebSocketUrl = "ws://localhost:8000/stream"
    # One of the gateway's GATEWAY_API_KEYS; unset for a gateway without keys.
    gateway_api_key: SecretStr | None = None

    def client_config(self, **parameters: object) -> ClientConfig:
        """A ClientConfig for this gateway; `parameters` are ClientConfig's other fields."""
        key = self.gateway_api_key.get_secret_value() if self.gateway_api_key else None
        try:
            return ClientConfig(url=self.gateway_url, api_key=key, **parameters)  # type: ignore[arg-type]
        except BadParameterError as exc:
            raise ConfigurationError(f"invalid configuration: {exc}") from exc


@contextmanager
def client_errors() -> Iterator[None]:
    """Translate the client library's final errors into the CLI's."""
    try:
        yield
    except AuthenticationError as exc:
        raise ConfigurationError(f"{setting_label('gateway_api_key')}: {exc}") from exc
    except BadParameterError as exc:
        raise ConfigurationError(f"the gateway rejected a parameter: {exc}") from exc
    except ClientError as exc:
        raise SecDigesterError(str(exc)) from exc
