"""The stream's filters on the ownership facts of schema v2: `transaction_codes`,
`min_value_usd` and `insider_roles` (docs/gateway-protocol.md), on records as analyze makes them
of corpus Form 4s; records without facts (v1, or not an ownership form) match none of them."""

from __future__ import annotations

import dataclasses
import string

import pytest
from sec_digester_client import FilingAnalysis, InsiderTransaction

from services.alerts.facts_text import transaction_line
from services.common.errors import BadParameterError
from services.common.filters import TRANSACTION_CODES, RecordFacts, parse_filter
from services.common.transaction_codes import TRANSACTION_CODES as CODE_TABLE
from services.common.transaction_codes import verb_of
from tests.support.facts_records import SALE_DOCUMENT, earnings_record, insider_record
from tests.support.filing_json import as_served
from tests.support.records import sample_analysis

_PURCHASE = RecordFacts.of(as_served(insider_record(1)))  # a director buys $5,000 (code P)
_SALE = RecordFacts.of(as_served(insider_record(2, SALE_DOCUMENT)))  # the CFO sells $28.5M (S)
_NO_FACTS = RecordFacts.of(as_served(sample_analysis(3)))
_EARNINGS = RecordFacts.of(as_served(earnings_record(4)))


def _matching(query: dict[str, str]) -> list[RecordFacts]:
    chosen = parse_filter(query, analyzed=True)
    return [facts for facts in (_PURCHASE, _SALE, _NO_FACTS, _EARNINGS) if chosen.matches(facts)]


def test_the_facts_are_read_once_from_the_record() -> None:
    assert _PURCHASE.transaction_codes == {"P"}  # the holdings rows have no code
    assert _PURCHASE.insider_roles == {"director"}
    assert _PURCHASE.max_value_usd == pytest.approx(5000.0, abs=0.01)
    assert _SALE.insider_roles == {"officer"}
    assert (_NO_FACTS.transaction_codes, _NO_FACTS.max_value_usd, _NO_FACTS.insider_roles) == (
        frozenset(),
        None,
        frozenset(),
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"transaction_codes": "P"}, [_PURCHASE]),
        ({"transaction_codes": "p, s"}, [_PURCHASE, _SALE]),
        ({"transaction_codes": "A,M"}, []),
        ({"min_value_usd": "5000"}, [_PURCHASE, _SALE]),
        ({"min_value_usd": "1e6"}, [_SALE]),
        ({"min_value_usd": "0"}, [_PURCHASE, _SALE]),  # a stated value, even $0, is needed
        ({"insider_roles": "officer"}, [_SALE]),
        ({"insider_roles": "Director,ten_percent_owner"}, [_PURCHASE]),
        ({"transaction_codes": "P", "insider_roles": "officer"}, []),  # filters combine
        ({"transaction_codes": "S", "min_value_usd": "1000000", "tickers": "AAPL"}, [_SALE]),
        ({}, [_PURCHASE, _SALE, _NO_FACTS, _EARNINGS]),
    ],
)
def test_a_filing_matches_if_any_transaction_or_owner_does(
    query: dict[str, str], expected: list[RecordFacts]
) -> None:
    assert _matching(query) == expected


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"transaction_codes": "B"}, "transaction_codes"),
        ({"transaction_codes": "PS"}, "transaction_codes"),
        ({"min_value_usd": "-1"}, "min_value_usd"),
        ({"min_value_usd": "nan"}, "min_value_usd"),
        ({"min_value_usd": "inf"}, "min_value_usd"),
        ({"min_value_usd": "1e999"}, "min_value_usd"),
        ({"min_value_usd": "$5,000"}, "min_value_usd"),
        ({"insider_roles": "ceo"}, "insider_roles"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(query: dict[str, str], named: str) -> None:
    with pytest.raises(BadParameterError) as refused:
        parse_filter(query, analyzed=True)
    assert refused.value.parameter == named
    assert str(refused.value).startswith(f"{named}: ")


@pytest.mark.parametrize("name", ["transaction_codes", "min_value_usd", "insider_roles"])
def test_raw_filings_have_no_facts_to_filter_on(name: str) -> None:
    value = {"transaction_codes": "P", "min_value_usd": "1", "insider_roles": "officer"}[name]
    with pytest.raises(BadParameterError, match=f"^{name}: raw filings have no ownership facts"):
        parse_filter({name: value}, analyzed=False)


def test_the_welcome_frame_describes_the_facts_filters() -> None:
    chosen = parse_filter(
        {"transaction_codes": "s,P", "min_value_usd": "250000", "insider_roles": "officer"},
        analyzed=True,
    )
    assert chosen.describe() == {
        "transaction_codes": ["P", "S"],
        "min_value_usd": 250000.0,
        "insider_roles": ["officer"],
    }


def test_every_code_of_the_shared_table_is_a_filter_and_no_other() -> None:
    assert set(TRANSACTION_CODES) == set(CODE_TABLE)
    for code in TRANSACTION_CODES:
        assert parse_filter(
            {"transaction_codes": code.lower()}, analyzed=True
        ).transaction_codes == {code}
    for letter in sorted(set(string.ascii_uppercase) - set(TRANSACTION_CODES)):
        with pytest.raises(BadParameterError, match="transaction_codes"):
            parse_filter({"transaction_codes": letter}, analyzed=True)


def _row(code: str) -> InsiderTransaction:
    """The corpus purchase's transaction with another code."""
    ownership = FilingAnalysis.from_json(as_served(insider_record(1))).ownership
    assert ownership is not None
    return dataclasses.replace(ownership.transactions[0], code=code)


def test_an_alert_spells_out_each_code_as_the_shared_table_does() -> None:
    for code, entry in CODE_TABLE.items():
        assert f"{code} ({entry.verb})" in transaction_line(_row(code))
    assert verb_of("B") is None
    assert "B (reported)" in transaction_line(_row("B"))
