"""Earnings figures of the corpus releases against the hand-checked
tests/fixtures/facts/earnings_expected.json, and 8-K item facts of the corpus 8-Ks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from services.analyze.reading.forms.earnings_release import (
    FiscalPeriod,
    extract_earnings,
    extract_metrics,
)
from services.analyze.reading.forms.item_facts import extract_item_facts
from services.analyze.reading.items import item_sections
from services.analyze.reading.text import extract_text, parse_submission
from tests.support.facts_corpus import (
    CORPUS,
    earnings_text,
    expected_earnings,
    expected_records,
    parsed_record,
    score_earnings,
    score_fields,
    score_financials,
)

EXPECTED = expected_earnings()
ARCHIVES = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_every_figure_stated_in_prose_or_statement_table_and_nothing_else(key: str) -> None:
    expected = EXPECTED[key]
    figures, fields, extracted = score_earnings(expected, earnings_text(key))
    assert (figures.found, figures.extracted) == (len(expected), len(expected)), extracted
    assert fields.found == fields.expected == fields.extracted, extracted
    for figure in extracted:
        want = next(
            w
            for w in expected
            if (w["name"], w["period"], w["gaap"])
            == (figure.name, figure.period.value, figure.gaap)
        )
        assert figure.source == want["source"], figure


def test_non_gaap_never_stands_in_for_gaap() -> None:
    # "Diluted GAAP EPS $0.05; adjusted EPS $0.17": the map of v1 keeps the GAAP figure only.
    metrics = extract_metrics(earnings_text("earnings/avtr-8k-ex991-1.html"))
    assert metrics["eps_diluted"].value == 0.05
    assert "eps" not in metrics


def test_guidance_is_read_as_guidance_not_as_results() -> None:
    earnings = extract_earnings(
        "For fiscal year 2025, the Company expects revenue of $1.2 billion to $1.3 billion and "
        "diluted EPS between $2.10 and $2.20."
    )
    assert earnings is not None
    assert earnings.figures == ()
    revenue, eps = earnings.guidance
    assert (revenue.name, revenue.low, revenue.high) == ("revenue", 1.2e9, 1.3e9)
    assert (eps.name, eps.low, eps.high) == ("eps_diluted", 2.10, 2.20)
    assert revenue.period is FiscalPeriod.FULL_YEAR


def _primary_sections(path: Path) -> dict[str, str]:
    submission = parse_submission(path.read_bytes())
    extracted = submission.documents[0].text()
    return item_sections(extracted.text if extracted else "")


def test_a_director_leaves() -> None:
    sections = _primary_sections(
        ARCHIVES / "1326801" / "000162828025058337" / "0001628280-25-058337.txt"
    )
    (fact,) = extract_item_facts(sections)
    assert (fact.item, fact.event_type, fact.subject, fact.role) == (
        "5.02",
        "director_departure",
        "Dina Powell McCormick",
        "member of the Board of Directors",
    )


def test_officers_appointed_and_retiring() -> None:
    text = extract_text((CORPUS / "documents" / "form8K.Blackrock.html").read_bytes()).text
    facts = {(f.event_type, f.subject, f.role) for f in extract_item_facts(item_sections(text))}
    assert ("officer_appointment", "Martin Small", "Chief Financial Officer") in facts
    jpm = ARCHIVES / "19617" / "000001961726000241" / "0000019617-26-000241.txt"
    found = {(f.event_type, f.subject) for f in extract_item_facts(_primary_sections(jpm))}
    assert ("officer_departure", "Marianne Lake") in found
    assert ("officer_appointment", "Doug Petno") in found


def test_an_8_01_spin_off_is_tagged_as_a_disposition() -> None:
    sections = _primary_sections(
        ARCHIVES / "66740" / "000006674024000023" / "0000066740-24-000023.txt"
    )
    (fact,) = extract_item_facts(sections)
    assert (fact.item, fact.event_type, fact.subject) == (
        "8.01",
        "acquisition_disposition",
        "Health Care business",
    )


@pytest.mark.parametrize(
    ("item", "sentence", "event_type", "subject"),
    [
        (
            "1.01",
            "On May 1, 2025, the Company entered into a Credit Agreement with Bank of "
            "America, N.A., as administrative agent.",
            "material_agreement",
            "Bank of America",
        ),
        (
            "1.02",
            "On May 1, 2025, the Company terminated the Supply Agreement with Acme Corp. "
            "(the Supplier).",
            "agreement_termination",
            "Acme Corp",
        ),
        (
            "2.01",
            "On June 2, 2025, the Company completed its previously announced acquisition "
            "of Widget Holdings, Inc., a maker of widgets.",
            "acquisition",
            "Widget Holdings",
        ),
        (
            "1.05",
            "On July 3, 2025, the Company detected a cybersecurity incident involving "
            "unauthorized access to its billing systems.",
            "cybersecurity_incident",
            "a cybersecurity incident involving unauthorized access to its billing systems",
        ),
    ],
)
def test_item_facts_of_plain_sentences(
    item: str, sentence: str, event_type: str, subject: str
) -> None:
    (fact,) = extract_item_facts({item: sentence})
    assert (fact.event_type, fact.subject) == (event_type, subject)


@pytest.mark.parametrize("family", ["stake", "sale_notice", "financials"])
def test_the_v3_families_score_full_and_a_wrong_field_counts_against_them(family: str) -> None:
    """bench.facts' per-family figures: every corpus document scores full, and a changed field
    (a changed fact for financials) is one found fewer, while still extracted."""
    score = score_fields if family != "financials" else score_financials
    for name, expected in expected_records(family).items():
        parsed = parsed_record(family, name)
        full = score(expected, parsed)
        assert full.found == full.extracted == full.expected, name
        wrong = copy.deepcopy(parsed)
        if family == "financials":
            if not wrong["facts"]:
                continue
            wrong["facts"][0]["value"] *= 1.01
        else:
            wrong["issuer_name"] = "SOMEONE ELSE"
        worse = score(expected, wrong)
        assert (worse.found, worse.extracted) == (full.found - 1, full.extracted), name
