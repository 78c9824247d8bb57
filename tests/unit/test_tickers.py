"""TickerMap against SEC's recorded company_tickers.json."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from services.common.errors import MalformedResponseError
from services.common.records import Entity
from services.ingest.tickers import TickerMap, filing_tickers, order_by_role

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
RECORDED = CORPUS / "www.sec.gov" / "files" / "company_tickers.json"


def expected_map() -> dict[str, list[str]]:
    """CIK -> tickers in file order, built the plain way."""
    by_cik: dict[str, list[str]] = {}
    for record in json.loads(RECORDED.read_bytes()).values():
        tickers = by_cik.setdefault(str(record["cik_str"]).zfill(10), [])
        if record["ticker"] not in tickers:
            tickers.append(record["ticker"])
    return by_cik


def test_the_bundled_file_is_the_recorded_file_byte_for_byte() -> None:
    bundled = resources.files("services.ingest") / "data" / "company_tickers.json"
    assert bundled.read_bytes() == RECORDED.read_bytes()


def test_every_cik_maps_to_its_tickers_in_file_order() -> None:
    tickers = TickerMap.bundled()
    expected = expected_map()
    assert len(tickers) == len(expected)
    assert {cik: list(tickers.lookup(cik)) for cik in expected} == expected
    assert any(len(listed) > 1 for listed in expected.values())  # share classes exist


def test_lookup_pads_the_cik_and_knows_nothing_of_unlisted_ones() -> None:
    tickers = TickerMap.bundled()
    some_cik, some_tickers = next(iter(expected_map().items()))
    assert tickers.lookup(some_cik.lstrip("0")) == tuple(some_tickers)
    assert tickers.lookup("0000000000") == ()


def test_entity_carries_the_tickers_of_its_cik() -> None:
    tickers = TickerMap.bundled()
    cik, listed = next(iter(expected_map().items()))
    assert tickers.entity(cik=cik, name="X", role="issuer") == Entity(
        cik=cik, name="X", role="issuer", tickers=tuple(listed)
    )


def test_roles_order_issuer_subject_filer_then_owners() -> None:
    entities = [
        Entity(cik="0000000005", name="owner", role="reporting", tickers=("O",)),
        Entity(cik="0000000004", name="investor", role="filed by", tickers=("I", "S")),
        Entity(cik="0000000003", name="agent", role="filer"),
        Entity(cik="0000000002", name="target", role="subject", tickers=("S",)),
        Entity(cik="0000000001", name="company", role="issuer", tickers=("C",)),
    ]
    ordered = order_by_role(entities)
    assert [entity.role for entity in ordered] == [
        "issuer",
        "subject",
        "filer",
        "filed by",
        "reporting",
    ]
    assert filing_tickers(ordered) == ("C", "S", "I", "O")


@pytest.mark.parametrize(
    "body",
    [
        RECORDED.read_bytes()[: len(RECORDED.read_bytes()) // 2],
        b"<html><body>Not Found</body></html>",
        b'[{"cik_str": 320193, "ticker": "AAPL"}]',
        b'{"0": {"cik_str": 320193, "title": "Apple Inc."}}',
        b'{"0": {"cik_str": "320193", "ticker": "AAPL"}}',
        b'{"0": "AAPL"}',
        b"\xff\xfe",
    ],
    ids=["truncated", "html", "list", "no-ticker", "cik-as-string", "not-an-object", "bad-utf8"],
)
def test_malformed_files_raise(body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as raised:
        TickerMap.from_json(body, url="https://www.sec.gov/files/company_tickers.json")
    assert raised.value.url == "https://www.sec.gov/files/company_tickers.json"
