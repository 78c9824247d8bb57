"""The REST index: bounds, eviction, replacement, filters and order, on records as served."""

from __future__ import annotations

import copy
import datetime as dt
import random
import time
from typing import Any

import pytest

from services.gateway.index import FilingIndex
from tests.support.filing_json import filing_json

T0 = dt.datetime(2026, 6, 24, 14, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def accessions(records: list[dict[str, Any]]) -> list[str]:
    return [record["filing"]["accession_number"] for record in records]


def accession(sequence: int) -> str:
    return f"0000019617-26-{sequence:06d}"


def test_a_record_comes_back_as_added_and_changing_the_copy_changes_nothing() -> None:
    index = FilingIndex(10)
    record = filing_json(1, tickers=("JPM", "JPM-PD"), form_type="8-K/A")
    index.add(record)
    found = index.get(accession(1))
    assert found == record
    assert found is not None
    found["filing"]["tickers"].clear()
    assert index.get(accession(1)) == record
    assert index.get(accession(2)) is None


def test_it_keeps_the_last_capacity_records_and_evicts_the_first_added() -> None:
    index = FilingIndex(3)
    # Added newest first: eviction follows insertion, not accepted_at.
    for sequence in range(1, 6):
        index.add(filing_json(sequence, accepted_at=at(-sequence)))
    assert len(index) == 3
    assert [index.get(accession(s)) is None for s in range(1, 6)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert accessions(index.query(None, None, None, 10)) == [accession(s) for s in (3, 4, 5)]


def test_a_record_added_again_is_replaced_and_counts_as_just_added() -> None:
    index = FilingIndex(2)
    index.add(filing_json(1, priority="low", accepted_at=at(0)))
    index.add(filing_json(2, accepted_at=at(1)))
    index.add(filing_json(1, priority="critical", accepted_at=at(2)))
    assert len(index) == 2
    assert accessions(index.query(None, None, None, 10)) == [accession(1), accession(2)]
    only = index.query("JPM", "8-K", None, 10)
    assert [r["analysis"]["priority"] for r in only] == ["critical", "medium"]
    index.add(filing_json(3, accepted_at=at(3)))  # evicts 2, added before 1's new version
    assert index.get(accession(2)) is None
    found = index.get(accession(1))
    assert found is not None
    assert found["analysis"]["priority"] == "critical"


def test_a_replacement_moves_the_record_out_of_its_old_ticker_and_form() -> None:
    index = FilingIndex(10)
    index.add(filing_json(1, tickers=("AAPL",), form_type="8-K"))
    index.add(filing_json(1, tickers=("MSFT",), form_type="10-Q"))
    assert index.query("AAPL", None, None, 10) == []
    assert index.query(None, "8-K", None, 10) == []
    assert accessions(index.query("MSFT", "10-Q", None, 10)) == [accession(1)]


def test_newest_accepted_first_whatever_the_arrival_order_and_later_added_first_on_ties() -> None:
    index = FilingIndex(10)
    for sequence, minutes in [(1, 5), (2, 1), (3, 9), (4, 5), (5, 3)]:
        index.add(filing_json(sequence, accepted_at=at(minutes)))
    newest_first = index.query(None, None, None, 10)
    assert accessions(newest_first) == [accession(s) for s in (3, 4, 1, 5, 2)]
    assert accessions(index.query(None, None, None, 2)) == [accession(3), accession(4)]


def test_ticker_matches_any_of_the_filings_tickers_ignoring_case() -> None:
    index = FilingIndex(10)
    index.add(filing_json(1, tickers=("BRK-A", "BRK-B"), accepted_at=at(1)))
    index.add(filing_json(2, tickers=("JPM",), accepted_at=at(2)))
    index.add(filing_json(3, tickers=("brk-b",), accepted_at=at(3)))
    assert accessions(index.query("brk-b", None, None, 10)) == [accession(3), accession(1)]
    assert accessions(index.query("BRK-A", None, None, 10)) == [accession(1)]
    assert index.query("BRK", None, None, 10) == []
    assert index.query("NOPE", None, None, 10) == []


def test_form_matches_itself_and_its_amendment_only() -> None:
    index = FilingIndex(10)
    forms = {1: "8-K", 2: "8-K/A", 3: "8-K12B", 4: "SC 13D", 5: "SC 13D/A", 6: "10-Q"}
    for sequence, form in forms.items():
        index.add(filing_json(sequence, form_type=form, accepted_at=at(sequence)))

    def forms_of(form: str) -> list[str]:
        return [r["filing"]["form_type"] for r in index.query(None, form, None, 10)]

    assert forms_of("8-K") == ["8-K/A", "8-K"]
    assert forms_of("8-k") == ["8-K/A", "8-K"]
    assert forms_of("8-K/A") == ["8-K/A"]
    assert forms_of("SC 13D") == ["SC 13D/A", "SC 13D"]
    assert forms_of("8") == []
    assert forms_of("10-K") == []


def test_since_keeps_filings_accepted_at_or_after_that_instant() -> None:
    index = FilingIndex(10)
    for minutes in range(5):
        index.add(filing_json(minutes + 1, accepted_at=at(minutes)))
    assert accessions(index.query(None, None, at(3), 10)) == [accession(5), accession(4)]
    eastern = dt.timezone(dt.timedelta(hours=-4))
    same_instant = at(3).astimezone(eastern)
    assert accessions(index.query(None, None, same_instant, 10)) == [accession(5), accession(4)]
    assert index.query(None, None, at(5), 10) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        index.query(None, None, dt.datetime(2026, 6, 24), 10)


def test_filters_combine() -> None:
    index = FilingIndex(100)
    for sequence in range(1, 41):
        index.add(
            filing_json(
                sequence,
                tickers=("JPM",) if sequence % 2 else ("GS",),
                form_type="8-K" if sequence % 3 else "10-Q",
                accepted_at=at(sequence),
            )
        )
    found = index.query("jpm", "8-K", at(20), 3)
    assert accessions(found) == [accession(s) for s in (37, 35, 31)]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit"):
        FilingIndex(10).query(None, None, None, 0)


def test_a_random_history_answers_like_a_plain_scan() -> None:
    """Many adds, replacements and evictions, then every kind of query against a brute force
    model of the same rules: the secondary lists never drift from the records held."""
    rng = random.Random(20260624)
    capacity = 60
    index = FilingIndex(capacity)
    held: dict[str, tuple[int, dict[str, Any]]] = {}  # accession -> (insertion, record)
    tickers = ["AAPL", "MSFT", "JPM", "GS", "BRK-B"]
    forms = ["8-K", "8-K/A", "10-Q", "4", "4/A"]
    template = filing_json(1)
    for insertion in range(600):
        record = copy.deepcopy(template)
        filing = record["filing"]
        filing["accession_number"] = accession(rng.randrange(150))
        filing["tickers"] = rng.sample(tickers, rng.randint(0, 2))
        filing["form_type"] = rng.choice(forms)
        filing["accepted_at"] = at(rng.randrange(40)).isoformat().replace("+00:00", "Z")
        index.add(record)
        held.pop(filing["accession_number"], None)
        if len(held) == capacity:
            del held[next(iter(held))]
        held[filing["accession_number"]] = (insertion, record)

    def scan(ticker: str | None, form: str | None, since: dt.datetime | None) -> list[str]:
        def keep(record: dict[str, Any]) -> bool:
            filing = record["filing"]
            accepted = dt.datetime.fromisoformat(filing["accepted_at"])
            return (
                (ticker is None or ticker in filing["tickers"])
                and (form is None or filing["form_type"] in (form, form + "/A"))
                and (since is None or accepted >= since)
            )

        kept = [(r["filing"]["accepted_at"], i, r) for i, r in held.values() if keep(r)]
        return accessions([r for _, _, r in sorted(kept, key=lambda k: (k[0], k[1]))[::-1]])

    assert len(index) == len(held)
    for ticker in [None, *tickers]:
        for form in [None, "8-K", "4", "4/A", "10-Q"]:
            for since in [None, at(10), at(39)]:
                expected = scan(ticker, form, since)
                assert accessions(index.query(ticker, form, since, 1000)) == expected
                assert accessions(index.query(ticker, form, since, 5)) == expected[:5]


def test_a_ticker_query_reads_that_tickers_filings_not_the_whole_index() -> None:
    """50,000 records of which 10 are of a rare ticker: answering for it must not scan them
    all (a scan takes tens of milliseconds here, the ticker's list well under one)."""
    index = FilingIndex(50_000)
    template = filing_json(1)
    for sequence in range(50_000):
        tickers = ["RARE"] if sequence % 5000 == 0 else ["JPM"]
        filing = {**template["filing"], "accession_number": accession(sequence), "tickers": tickers}
        index.add({**template, "filing": filing})
    started = time.perf_counter()
    for _ in range(200):
        assert len(index.query("rare", None, None, 50)) == 10
    assert time.perf_counter() - started < 0.5
