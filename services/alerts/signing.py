"""Signed webhooks: a receiver can tell that a POST came from this `alerts` and is recent.

With `ALERTS_WEBHOOK_SECRET` set, every generic webhook POST carries

    X-Timestamp: 1764950400                 (Unix seconds when it was sent)
    X-Signature-256: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<raw body>" under the secret>

A receiver recomputes the HMAC over the header's timestamp, a dot and the body bytes exactly as
received (before parsing the JSON), compares it with `hmac.compare_digest`, and refuses a
timestamp older than a few minutes (a replayed request). Discord webhooks are not signed:
Discord does not check signatures. `verify` is the receiver's side, for tests and users.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Timestamp"


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: _digest(secret, timestamp, body)}


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_age_s: float = 300,
    now: float | None = None,
) -> bool:
    """Whether the request is signed with `secret` and no older than `max_age_s`."""
    timestamp = headers.get(TIMESTAMP_HEADER) or headers.get(TIMESTAMP_HEADER.lower())
    signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > max_age_s:
        return False
    return hmac.compare_digest(_digest(secret, timestamp, body), signature)
