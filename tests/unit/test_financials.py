"""The XBRL financials reader: the corpus instances equal their hand-checked expectation, and
each rule of services/analyze/reading/forms/financials.py has its own test."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from services.analyze.reading.forms.financials import (
    FINANCIAL_FORMS,
    Financials,
    Role,
    Source,
    parse_financials,
)
from services.common.errors import SerializationError
from services.common.schemas import SchemaName, schema_dict
from tests.support.records import CORPUS_DIR
from tests.support.xbrl_documents import INLINE_10Q

XBRL_DIR = CORPUS_DIR / "documents" / "xbrl"
EXPECTED_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "facts" / "financials_expected.json"
)
EXPECTED: dict[str, Any] = json.loads(EXPECTED_PATH.read_text())


def _read(name: str) -> bytes:
    path = XBRL_DIR / name
    if name.endswith(".gz"):
        with gzip.open(path) as stream:
            return stream.read()
    return path.read_bytes()


def _financials_schema() -> Any:
    schema = schema_dict(SchemaName.FILING_ANALYSIS)
    field = next(f for f in schema["fields"] if f["name"] == "financials")
    record = next(t for t in field["type"] if isinstance(t, dict))
    return fastavro.parse_schema(record)


SCHEMA = _financials_schema()


def _valid(financials: Financials) -> bool:
    record = financials.to_avro()
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    buffer.seek(0)
    return bool(fastavro.schemaless_reader(buffer, SCHEMA, SCHEMA) == record)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_instance_equals_its_expectation(name: str) -> None:
    financials = parse_financials(_read(name), inline=False)
    assert financials.to_avro() == EXPECTED[name]
    assert _valid(financials)


def test_the_8k_instance_has_no_facts_and_says_why() -> None:
    financials = parse_financials(_read("WatersCorp.8-K.xbrl.xml"), inline=False)
    assert financials.facts == ()
    assert financials.document_type == "8-K"
    assert financials.incomplete_reason


def test_figure_and_describe() -> None:
    apple = parse_financials(_read("aapl-20230930_htm.xml.gz"), inline=False)
    revenue = apple.figure("revenue")
    assert revenue is not None
    assert revenue.value == 383_285_000_000
    prior = apple.figure("revenue", Role.PRIOR_YEAR)
    assert prior is not None
    assert prior.value == 394_328_000_000
    assert apple.figure("revenue", "prior_year") == prior
    assert apple.figure("nonsense") is None
    lines = apple.describe()
    assert lines[0].startswith("XBRL 10-K for the period ending 2023-09-30")
    assert any("383,285,000,000 USD" in line for line in lines)


def test_a_10k_reads_the_year_never_a_quarter() -> None:
    apple = parse_financials(_read("aapl-20230930_htm.xml.gz"), inline=False)
    durations = [fact for fact in apple.facts if fact.period_start]
    assert durations
    assert {fact.period_label for fact in durations} == {"fiscal_year"}
    assert {fact.period_start for fact in durations if fact.role is Role.CURRENT} == {"2022-09-25"}


def test_a_10q_reports_the_quarter_and_the_year_to_date() -> None:
    tesla = parse_financials(_read("tsla-20240630_htm.xml.gz"), inline=False)
    current = {
        fact.period_label: fact.value
        for fact in tesla.facts
        if fact.name == "revenue" and fact.role is Role.CURRENT
    }
    assert current == {"quarter": 25_500_000_000, "six_months": 46_801_000_000}
    prior = tesla.figure("revenue", Role.PRIOR_YEAR)
    assert prior is not None
    assert (prior.period_start, prior.period_end) == (
        "2023-04-01",
        "2023-06-30",
    )
    # the six-month cash flow is six_months, never a quarter
    ocf = [fact for fact in tesla.facts if fact.name == "operating_cash_flow"]
    assert {fact.period_label for fact in ocf} == {"six_months"}


def test_a_predecessor_successor_split_gives_no_current_duration() -> None:
    aeon = parse_financials(_read("aeon-20230930x10q_htm.xml.gz"), inline=False)
    assert not [f for f in aeon.facts if f.period_start and f.role is Role.CURRENT]
    assert aeon.incomplete_reason
    assert "predecessor" in aeon.incomplete_reason
    loss = aeon.figure("net_income", Role.PRIOR_YEAR)
    assert loss is not None
    assert loss.value == -10_438_000


# A small instance built for the rules: a 10-Q for Q2 2024 ending 2024-06-30.
def _instance(facts: str, *, dei: bool = True, period: str = "2024-06-30", fp: str = "Q2") -> str:
    cover = (
        f'<dei:DocumentType contextRef="D6">10-Q</dei:DocumentType>'
        f'<dei:DocumentPeriodEndDate contextRef="D6">{period}</dei:DocumentPeriodEndDate>'
        f'<dei:DocumentFiscalYearFocus contextRef="D6">2024</dei:DocumentFiscalYearFocus>'
        f'<dei:DocumentFiscalPeriodFocus contextRef="D6">{fp}</dei:DocumentFiscalPeriodFocus>'
        if dei
        else ""
    )

    def duration(cid: str, start: str, end: str, member: str = "") -> str:
        segment = (
            "<xbrli:segment><xbrldi:explicitMember"
            ' dimension="us-gaap:StatementBusinessSegmentsAxis"'
            f">{member}</xbrldi:explicitMember></xbrli:segment>"
            if member
            else ""
        )
        return (
            f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
            f"0000000001</xbrli:identifier>{segment}</xbrli:entity><xbrli:period>"
            f"<xbrli:startDate>{start}</xbrli:startDate><xbrli:endDate>{end}</xbrli:endDate>"
            f"</xbrli:period></xbrli:context>"
        )

    def instant(cid: str, day: str) -> str:
        return (
            f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">'
            f"0000000001</xbrli:identifier></xbrli:entity><xbrli:period>"
            f"<xbrli:instant>{day}</xbrli:instant></xbrli:period></xbrli:context>"
        )

    contexts = "".join(
        [
            duration("Q", "2024-04-01", "2024-06-30"),
            duration("D6", "2024-01-01", "2024-06-30"),
            duration("D3", "2024-01-01", "2024-03-31"),
            duration("PQ", "2023-04-01", "2023-06-30"),
            duration("P6", "2023-01-01", "2023-06-30"),
            duration("Y", "2023-07-01", "2024-06-30"),
            duration("SEG", "2024-04-01", "2024-06-30", "abc:AutomotiveMember"),
            instant("I", "2024-06-30"),
            instant("IP", "2023-06-30"),
            instant("FYE", "2023-12-31"),
        ]
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance"'
        ' xmlns:xbrldi="http://xbrl.org/2006/xbrldi" xmlns:iso4217="http://www.xbrl.org/2003/iso4217"'
        ' xmlns:us-gaap="http://fasb.org/us-gaap/2024" xmlns:dei="http://xbrl.sec.gov/dei/2024">'
        f"{contexts}"
        '<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>'
        '<xbrli:unit id="eps"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD'
        "</xbrli:measure></xbrli:unitNumerator><xbrli:unitDenominator><xbrli:measure>xbrli:shares"
        "</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>"
        f"{cover}{facts}</xbrli:xbrl>"
    )


def _rev(context: str, value: str, concept: str = "Revenues", decimals: str = "-6") -> str:
    return (
        f'<us-gaap:{concept} contextRef="{context}" unitRef="usd" decimals="{decimals}">'
        f"{value}</us-gaap:{concept}>"
    )


def _figures(financials: Financials, name: str = "revenue") -> dict[tuple[str, str], float]:
    return {
        (fact.role.value, fact.period_label): fact.value
        for fact in financials.facts
        if fact.name == name
    }


def test_a_segment_fact_is_never_the_total() -> None:
    financials = parse_financials(_instance(_rev("SEG", "900000000")), inline=False)
    assert financials.facts == ()
    both = parse_financials(_instance(_rev("SEG", "900000000") + _rev("Q", "100")), inline=False)
    assert _figures(both) == {("current", "quarter"): 100}


def test_a_year_context_in_a_10q_is_not_the_quarter() -> None:
    financials = parse_financials(_instance(_rev("Y", "5000")), inline=False)
    assert _figures(financials) == {}


def test_a_10k_never_takes_a_quarter_for_the_year() -> None:
    document = _instance(_rev("Q", "100"), fp="FY").replace(">10-Q<", ">10-K<")
    assert _figures(parse_financials(document, inline=False)) == {}
    document = _instance(_rev("Q", "100") + _rev("Y", "400"), fp="FY").replace(">10-Q<", ">10-K<")
    assert _figures(parse_financials(document, inline=False)) == {("current", "fiscal_year"): 400}


def test_quarter_ytd_and_prior_year() -> None:
    facts = _rev("Q", "100") + _rev("D6", "180") + _rev("PQ", "90") + _rev("P6", "170")
    financials = parse_financials(_instance(facts), inline=False)
    assert _figures(financials) == {
        ("current", "quarter"): 100,
        ("current", "six_months"): 180,
        ("prior_year", "quarter"): 90,
        ("prior_year", "six_months"): 170,
    }
    assert not any(fact.derived for fact in financials.facts)


def test_a_quarter_is_derived_only_from_both_year_to_dates() -> None:
    derived = parse_financials(_instance(_rev("D6", "180") + _rev("D3", "80")), inline=False)
    quarter = [f for f in derived.facts if f.period_label == "quarter"]
    assert len(quarter) == 1
    assert quarter[0].value == 100
    assert quarter[0].derived
    assert (quarter[0].period_start, quarter[0].period_end) == ("2024-04-01", "2024-06-30")
    alone = parse_financials(_instance(_rev("D6", "180")), inline=False)
    assert _figures(alone) == {("current", "six_months"): 180}
    stated = parse_financials(
        _instance(_rev("D6", "180") + _rev("D3", "80") + _rev("Q", "101")), inline=False
    )
    assert [f.derived for f in stated.facts if f.period_label == "quarter"] == [False]


def test_a_loss_stays_negative_and_eps_has_its_unit() -> None:
    facts = (
        '<us-gaap:NetIncomeLoss contextRef="Q" unitRef="usd" decimals="-3">'
        "-2500000</us-gaap:NetIncomeLoss>"
        '<us-gaap:EarningsPerShareBasic contextRef="Q" unitRef="eps" decimals="2">-0.25'
        "</us-gaap:EarningsPerShareBasic>"
    )
    financials = parse_financials(_instance(facts), inline=False)
    loss = financials.figure("net_income")
    eps = financials.figure("eps_basic")
    assert loss is not None
    assert loss.value == -2_500_000
    assert loss.decimals == -3
    assert eps is not None
    assert eps.value == -0.25
    assert eps.unit == "USD/shares"


def test_instants_at_the_period_end_and_a_year_before_not_the_fiscal_year_end() -> None:
    facts = (
        '<us-gaap:Assets contextRef="I" unitRef="usd" decimals="INF">500</us-gaap:Assets>'
        '<us-gaap:Assets contextRef="FYE" unitRef="usd" decimals="INF">450</us-gaap:Assets>'
        '<us-gaap:CashAndCashEquivalentsAtCarryingValue contextRef="I" unitRef="usd" decimals="-6">'
        "40</us-gaap:CashAndCashEquivalentsAtCarryingValue>"
        '<us-gaap:CashAndCashEquivalentsAtCarryingValue contextRef="IP" unitRef="usd"'
        ' decimals="-6">'
        "30</us-gaap:CashAndCashEquivalentsAtCarryingValue>"
    )
    financials = parse_financials(_instance(facts), inline=False)
    assert _figures(financials, "total_assets") == {("current", "instant"): 500}
    assert _figures(financials, "cash") == {
        ("current", "instant"): 40,
        ("prior_year", "instant"): 30,
    }
    assets = financials.figure("total_assets")
    assert assets is not None
    assert assets.decimals is None
    assert assets.period_start is None


def test_no_dei_means_no_facts_and_a_reason() -> None:
    financials = parse_financials(_instance(_rev("Q", "100"), dei=False), inline=False)
    assert financials.facts == ()
    assert financials.incomplete_reason
    assert _valid(financials)


def test_no_context_at_the_period_end_means_no_facts() -> None:
    financials = parse_financials(_instance(_rev("Q", "100"), period="2025-12-31"), inline=False)
    assert financials.facts == ()
    assert financials.incomplete_reason


def test_duplicates_fold_and_conflicts_are_dropped_and_reported() -> None:
    same = parse_financials(_instance(_rev("Q", "100") + _rev("Q", "100")), inline=False)
    assert _figures(same) == {("current", "quarter"): 100}
    assert same.incomplete_reason is None
    rounded = _rev("Q", "123456789", decimals="0") + _rev("Q", "123000000", decimals="-6")
    kept = parse_financials(_instance(rounded), inline=False).figure("revenue")
    assert kept is not None
    assert kept.value == 123_456_789
    assert kept.decimals == 0
    clash = _rev("Q", "100", decimals="0") + _rev("Q", "200", decimals="0")
    conflict = parse_financials(_instance(clash), inline=False)
    assert _figures(conflict) == {}
    assert conflict.incomplete_reason
    assert "conflicting" in conflict.incomplete_reason


def test_the_2009_taxonomies_under_xbrl_us_read_as_us_gaap_and_dei() -> None:
    old = (
        _instance(_rev("Q", "100") + _rev("PQ", "90"))
        .replace("http://fasb.org/us-gaap/2024", "http://xbrl.us/us-gaap/2009-01-31")
        .replace("http://xbrl.sec.gov/dei/2024", "http://xbrl.us/dei/2009-01-31")
    )
    financials = parse_financials(old, inline=False)
    assert (financials.document_type, financials.fiscal_period) == ("10-Q", "Q2")
    assert _figures(financials) == {("current", "quarter"): 100, ("prior_year", "quarter"): 90}
    revenue = financials.figure("revenue")
    assert revenue is not None
    assert revenue.concept == "us-gaap:Revenues"


def test_revenue_concepts_in_their_order() -> None:
    facts = _rev("Q", "70", "RevenueFromContractWithCustomerExcludingAssessedTax") + _rev(
        "Q", "100"
    )
    revenue = parse_financials(_instance(facts), inline=False).figure("revenue")
    assert revenue is not None
    assert revenue.concept == "us-gaap:Revenues"
    assert revenue.value == 100
    only_606 = _rev("Q", "70", "RevenueFromContractWithCustomerExcludingAssessedTax")
    revenue = parse_financials(_instance(only_606), inline=False).figure("revenue")
    assert revenue is not None
    assert revenue.value == 70


def test_an_inline_document() -> None:
    financials = parse_financials(INLINE_10Q, inline=True)
    assert financials.source is Source.INLINE
    assert (financials.document_type, financials.period_end) == ("10-Q", "2024-03-31")
    assert (financials.fiscal_year, financials.fiscal_period) == (2024, "Q1")
    assert _figures(financials) == {
        ("current", "quarter"): 21_301_000_000,
        ("prior_year", "quarter"): 23_329_000_000,
    }
    assert _figures(financials, "net_income") == {
        ("current", "quarter"): -1_129_000_000,
        ("prior_year", "quarter"): 0,
    }
    eps = financials.figure("eps_basic")
    assert eps is not None
    assert eps.value == -0.36
    assert eps.unit == "USD/shares"
    cash = financials.figure("cash")
    assert cash is not None
    assert cash.value == 12_345_600
    assert _valid(financials)


def test_inline_needs_an_ix_header_and_an_instance_an_xbrl_root() -> None:
    with pytest.raises(SerializationError):
        parse_financials("<html><body>no XBRL</body></html>", inline=True)
    with pytest.raises(SerializationError):
        parse_financials(INLINE_10Q, inline=False)
    with pytest.raises(SerializationError):
        parse_financials(_instance(""), inline=True)


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not xml at all",
        b"<xbrl",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xbrl>&a;</xbrl>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd"><x/>',
        b"<ownershipDocument/>",
    ],
)
def test_hostile_or_foreign_xml_raises_serialization_error(document: bytes) -> None:
    for inline in (False, True):
        with pytest.raises(SerializationError):
            parse_financials(document, inline=inline)


def test_financial_forms() -> None:
    assert frozenset({"10-Q", "10-K", "10-QT", "10-KT", "20-F", "40-F"}) == FINANCIAL_FORMS
