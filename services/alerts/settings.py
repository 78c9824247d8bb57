"""Settings of `sec-digester alerts`.

Webhook URLs are secrets (a Discord webhook URL carries its token): they are SecretStr, never
logged; logs name a sink by its kind and host only.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator

from services.common.settings import comma_separated
from services.tail.stream_client import StreamClientSettings


class AlertsSettings(StreamClientSettings):
    alerts_min_priority: Literal["low", "medium", "high", "critical"] = "high"
    # A Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>); comma-separated
    # for several channels.
    alerts_discord_webhook: SecretStr | None = None
    # Generic webhooks: each gets the filing's JSON (as the gateway serves it) in a POST;
    # comma-separated for several.
    alerts_webhook: SecretStr | None = None
    # Signs every generic webhook POST (HMAC-SHA256 of "<X-Timestamp>.<body>": X-Signature-256
    # and X-Timestamp headers; services/alerts/signing.py says how a receiver verifies it).
    alerts_webhook_secret: SecretStr | None = None
    # The durable position: a restart with the same id neither repeats nor skips an alert.
    alerts_client_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")] = "alerts"
    # The first run's start (earliest, a time, ...); unset = the committed position, which for
    # a new client id means "from now on". Later runs resume from the committed position only
    # when this is unset.
    alerts_from: str | None = None
    alerts_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    # Backoff between attempts at a sink that failed (5xx, connection error) without saying
    # when to come back; 429s wait as long as the answer says.
    alerts_backoff_initial_s: Annotated[float, Field(gt=0)] = 0.5
    alerts_backoff_max_s: Annotated[float, Field(gt=0)] = 60.0

    FLAG_ALIASES: ClassVar[dict[str, str]] = {
        "alerts_min_priority": "min-priority",
        "alerts_discord_webhook": "discord-webhook",
        "alerts_webhook": "webhook",
        "alerts_client_id": "client-id",
        "alerts_from": "from",
    }

    @staticmethod
    def _urls(secret: SecretStr | None) -> tuple[str, ...]:
        return comma_separated(secret.get_secret_value()) if secret else ()

    @property
    def discord_webhooks(self) -> tuple[str, ...]:
        return self._urls(self.alerts_discord_webhook)

    @property
    def webhooks(self) -> tuple[str, ...]:
        return self._urls(self.alerts_webhook)

    @property
    def webhook_secret(self) -> str | None:
        secret = self.alerts_webhook_secret
        return secret.get_secret_value() if secret else None

    @model_validator(mode="after")
    def _has_valid_sinks(self) -> Self:
        if not self.discord_webhooks and not self.webhooks:
            raise ValueError(
                "no sink: give ALERTS_DISCORD_WEBHOOK (--discord-webhook) "
                "or ALERTS_WEBHOOK (--webhook)"
            )
        for url in (*self.discord_webhooks, *self.webhooks):
            if not re.match(r"^https?://[^/\s]+", url):
                # The URL is a secret: name its scheme only.
                raise ValueError(f"a webhook URL is not http(s):// (it starts {url[:8]!r})")
        if self.alerts_backoff_max_s < self.alerts_backoff_initial_s:
            raise ValueError("ALERTS_BACKOFF_MAX_S is below ALERTS_BACKOFF_INITIAL_S")
        return self
