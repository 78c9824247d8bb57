"""The gateway's error table, wherever it is written: the protocol doc, the gateway, its clients.

docs/gateway-protocol.md ("Errors") is what client writers read; `ErrorCode` is what the gateway
sends; the client library (clients/python) and the dashboard decide from a close code or an
error code whether reconnecting can help. A code added, renumbered or reclassified in one place
and not in the others fails here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from sec_digester_client.errors import SupersededError
from sec_digester_client.protocol import (
    UNDECODABLE,
    Closed,
    Refused,
    final_error,
    handshake_error,
)

from services.common.errors import BadParameterError, KafkaClientError
from services.gateway.errors import (
    UNDECODABLE_RECORD,
    ErrorCode,
    GatewayError,
    as_gateway_error,
)

ROOT = Path(__file__).parents[2]
PROTOCOL_DOC = ROOT / "docs" / "gateway-protocol.md"
DASHBOARD_SCRIPT = ROOT / "services" / "gateway" / "static" / "js" / "stream.js"
TABLE_HEADER = "| close code | `error.code` | HTTP status | retry | meaning |"


@dataclass(frozen=True)
class DocRow:
    close_code: int | None
    error_code: str | None
    http_status: int | None
    retry: bool


def _number(cell: str) -> int | None:
    return int(cell) if cell else None


def doc_rows() -> list[DocRow]:
    """The rows of the doc's error table, in the doc's order."""
    lines = PROTOCOL_DOC.read_text().splitlines()
    body = lines[lines.index(TABLE_HEADER) + 2 :]  # past the header and its |---| line
    rows = []
    for line in itertools.takewhile(lambda text: text.startswith("|"), body):
        close, code, status, retry, _meaning = (
            cell.strip() for cell in line.strip("|").split("|", maxsplit=4)
        )
        assert retry in {"yes", "no"}, line
        rows.append(
            DocRow(_number(close), code.strip("`") or None, _number(status), retry == "yes")
        )
    return rows


def test_the_doc_table_is_the_gateway_error_codes() -> None:
    documented = [
        (row.error_code, row.close_code, row.http_status, row.retry)
        for row in doc_rows()
        if row.error_code is not None
    ]
    assert documented == [
        (code.value, code.close_code, code.http_status, code.retriable) for code in ErrorCode
    ]


def test_the_client_library_reconnects_after_exactly_the_closes_the_doc_says_to_retry() -> None:
    for row in doc_rows():
        if row.close_code is None:
            continue  # REST only: no WebSocket ends this way
        refused = None if row.error_code is None else Refused(row.error_code, "why", None)
        with_frame = Closed(row.close_code, row.error_code or "", refused)
        code_alone = Closed(row.close_code, "", None)  # the error frame did not arrive
        assert (final_error(with_frame) is None) == row.retry, row
        assert (final_error(code_alone) is None) == row.retry, row
        if refused is not None:
            frame_alone = Closed(None, "", refused)  # the connection was lost after the frame
            assert (final_error(frame_alone) is None) == row.retry, row


def test_the_client_library_retries_a_refused_handshake_as_the_doc_says_for_its_status() -> None:
    for row in doc_rows():
        if row.http_status is not None:
            assert (handshake_error(row.http_status) is None) == row.retry, row


def test_the_dashboard_gives_up_after_exactly_the_close_codes_not_worth_retrying() -> None:
    # Its frames are a few bytes, so it need not give up on 1009 (too large) as other clients do.
    final = {
        int(code) for code in re.findall(r"const CLOSE_\w+ = (\d+);", DASHBOARD_SCRIPT.read_text())
    }
    assert final == {
        code.close_code for code in ErrorCode if not code.retriable and code.close_code
    }


def test_the_dashboard_explains_every_close_by_a_key_limit() -> None:
    script = DASHBOARD_SCRIPT.read_text()
    table = script[script.index("const KEY_LIMIT_CLOSES = {") :].split("};", 1)[0]
    explained = {int(code) for code in re.findall(r"^\s*(\d+): \"", table, re.MULTILINE)}
    limits = {ErrorCode.TOO_MANY_CONNECTIONS, ErrorCode.TOO_MANY_REPLAYS}
    assert explained == {code.close_code for code in limits}
    assert all(code.retriable for code in limits)


def test_the_undecodable_record_notice_is_documented_and_known_to_the_client() -> None:
    assert UNDECODABLE_RECORD == UNDECODABLE
    assert f"`{UNDECODABLE_RECORD}`" in PROTOCOL_DOC.read_text()
    assert UNDECODABLE_RECORD not in {code.value for code in ErrorCode}  # a notice: never an end


def test_errors_of_code_shared_with_other_services_get_the_protocols_codes() -> None:
    bad = as_gateway_error(BadParameterError("from", "'soon' is not a position"))
    assert (bad.code, str(bad), bad.retriable) == (
        ErrorCode.BAD_PARAMETER,
        "from: 'soon' is not a position",
        False,
    )
    lost = as_gateway_error(KafkaClientError("broker down"))
    assert (lost.code, str(lost), lost.retriable) == (ErrorCode.INTERNAL, "broker down", True)
    slow = GatewayError(ErrorCode.SLOW_CONSUMER, "behind")
    assert as_gateway_error(slow) is slow
    assert slow.retriable


def test_a_takeover_is_raised_as_superseded_not_retried() -> None:
    # Two copies of one program must not take the stream from each other in turn.
    frame = Refused("superseded", "a newer connection with this client_id took over", "0:5")
    for closed in (Closed(4409, "superseded", frame), Closed(4409, "", None)):
        assert isinstance(final_error(closed), SupersededError)
