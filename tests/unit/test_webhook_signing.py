"""Signed webhooks: what `alerts` sends, checked the way the README tells a receiver to."""

from __future__ import annotations

import hashlib
import hmac

from services.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_headers, verify

SECRET = "whsec-test"
BODY = b'{"filing":{"accession_number":"0000019617-26-000001"}}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    headers = signature_headers(SECRET, BODY, now=1_764_950_400)
    assert headers[TIMESTAMP_HEADER] == "1764950400"
    expected = hmac.new(SECRET.encode(), b"1764950400." + BODY, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"


def test_a_receiver_accepts_it_and_refuses_tampering_replays_and_other_secrets() -> None:
    headers = signature_headers(SECRET, BODY, now=1_764_950_400)
    assert verify(SECRET, headers, BODY, now=1_764_950_460)
    assert not verify(SECRET, headers, BODY + b" ", now=1_764_950_460)  # body changed
    assert not verify("another", headers, BODY, now=1_764_950_460)
    assert not verify(SECRET, headers, BODY, now=1_764_950_400 + 301)  # replayed too late
    later = headers | {TIMESTAMP_HEADER: "1764950500"}  # timestamp changed, signature kept
    assert not verify(SECRET, later, BODY, now=1_764_950_500)
    assert not verify(SECRET, {}, BODY)
    assert not verify(SECRET, headers | {TIMESTAMP_HEADER: "soon"}, BODY)
