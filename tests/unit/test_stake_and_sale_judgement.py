"""The offline analyzer on schema v3's stakes and sale notices (judgement/stakes.py,
judgement/sale_notices.py): the priority rules, and a summary that names the holder, the stake
and the issuer, read from the corpus documents through the same path a filing takes
(reading/facts.extract_facts)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.analyze.analysis import Analysis, Priority
from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.reading.facts import FilingFacts, extract_facts
from services.analyze.reading.forms.beneficial_ownership import parse_stake, read_stake_text
from services.analyze.reading.forms.sale_notice import parse_sale_notice
from services.common.records import Entity, Filing, FilingSource
from tests.support.records import CORPUS_DIR

STAKES = CORPUS_DIR / "documents" / "beneficial-ownership"
SALES = CORPUS_DIR / "documents" / "form144"


def _filing(form_type: str, entities: tuple[Entity, ...] = ()) -> Filing:
    return Filing(
        accession_number="0000000000-25-000001",
        form_type=form_type,
        accepted_at=dt.datetime(2025, 5, 1, 16, 0, tzinfo=dt.UTC),
        filed_date=dt.date(2025, 5, 1),
        entities=entities,
        index_url="https://www.sec.gov/Archives/edgar/data/1/000000000025000001/x-index.htm",
        source=FilingSource.LIVE,
        detected_at=dt.datetime(2025, 5, 1, 16, 0, 1, tzinfo=dt.UTC),
    )


def _analysis(
    form_type: str, document: str, entities: tuple[Entity, ...] = ()
) -> tuple[Analysis, FilingFacts]:
    filing = _filing(form_type, entities)
    parsed = parse_stake((STAKES / document).read_bytes(), form_type)
    facts = extract_facts(filing, None, (), None, parsed=parsed)
    return OfflineAnalyzer().analyze(filing, None, (), None, facts), facts


def test_a_new_13d_is_high_and_its_summary_names_holder_stake_and_issuer() -> None:
    subject = Entity(cik="0001236275", name="QXO, Inc.", role="subject", tickers=("QXO",))
    analysis, facts = _analysis("SCHEDULE 13D", "sc13d-qxo.xml", (subject,))
    assert facts.stake is not None
    assert facts.to_avro_fields()["stake"]["percent_of_class"] == 6.3
    assert analysis.priority is Priority.HIGH
    assert analysis.summary.startswith(
        "Affinity Partners GP LP and 5 other reporting persons report an active (13D) stake"
        " of 6.3%, 32,671,542 shares in QXO, Inc. (QXO)."
    )
    assert analysis.event_types == ("activist_stake",)


def test_a_new_13g_over_five_percent_is_high_as_the_crossing_it_reports() -> None:
    analysis, _ = _analysis("SCHEDULE 13G", "sc13g-citadel-spirit.xml")
    assert analysis.priority is Priority.HIGH
    assert "passive (13G) stake of 9.9%" in analysis.summary
    assert "Spirit Aviation Holdings, Inc." in analysis.summary
    assert analysis.event_types == ("passive_stake",)


def test_an_amended_13d_under_twenty_percent_is_medium_not_high_for_being_a_13d() -> None:
    analysis, facts = _analysis("SCHEDULE 13D/A", "sc13da-zivo-truncated-endtag.xml")
    assert facts.stake is not None
    assert facts.stake.to_avro()["incomplete_reason"]
    assert analysis.priority is Priority.MEDIUM
    assert "amend an active (13D) stake of 12.2%" in analysis.summary


@pytest.mark.parametrize(
    ("percent", "form", "expected"),
    [
        ("22.5", "SC 13G/A", Priority.HIGH),
        ("10.1", "SC 13G/A", Priority.MEDIUM),
        ("6.0", "SC 13G/A", Priority.LOW),
        ("6.0", "SC 13D/A", Priority.MEDIUM),
    ],
)
def test_an_amendment_is_ranked_by_the_stake_it_states(
    percent: str, form: str, expected: Priority
) -> None:
    schedule = form.removeprefix("SC ").removesuffix("/A")
    text = (
        f"SCHEDULE {schedule}\n(Amendment No. 2)\nACME CORP\n(Name of Issuer)\n"
        "(1) Names of reporting persons. Big Holder LP\n"
        f"(9) Aggregate amount beneficially owned by each reporting person. 1,000,000\n"
        f"(11) Percent of class represented by amount in Row (9). {percent}%\n"
    )
    filing = _filing(form)
    facts = extract_facts(filing, text, (), None)
    assert facts.stake is not None
    assert facts.stake.to_avro()["percent_of_class"] == float(percent)
    assert OfflineAnalyzer().analyze(filing, text, (), None, facts).priority is expected


def test_an_old_text_13d_without_a_percent_says_so_and_never_guesses() -> None:
    text = "SCHEDULE 13D\nACME CORP\n(Name of Issuer)\nThe reporting person holds shares.\n"
    facts = extract_facts(_filing("SC 13D"), text, (), None)
    assert facts.stake is not None
    record = facts.stake.to_avro()
    assert record["percent_of_class"] is None
    assert record["incomplete_reason"]
    summary = OfflineAnalyzer().analyze(_filing("SC 13D"), text, (), None, facts).summary
    assert "percent not stated" in summary
    assert read_stake_text(text, "SC 13D").to_avro() == record


def test_a_sale_notice_is_attributed_to_the_issuer_with_its_ticker() -> None:
    notice = parse_sale_notice((SALES / "Sample_144.xml").read_bytes())
    issuer_cik = notice.to_avro()["issuer_cik"]
    issuer = Entity(cik=issuer_cik, name="ISSUER", role="subject", tickers=("ISSR",))
    seller = Entity(cik="0000000001", name="SELLER", role="reporting", tickers=())
    filing = _filing("144", (seller, issuer))
    facts = extract_facts(filing, None, (), None, parsed=notice)
    assert facts.sale_notice is not None
    assert facts.sale_notice.to_avro()["issuer_ticker"] == "ISSR"
    analysis = OfflineAnalyzer().analyze(filing, None, (), None, facts)
    assert "gives notice of a proposed sale" in analysis.summary
    assert "(ISSR)" in analysis.summary
    assert analysis.event_types == ("insider_sale_notice",)
    # Without an entity of the issuer's CIK there is no ticker, never a guessed one.
    alone = extract_facts(_filing("144", (seller,)), None, (), None, parsed=notice)
    assert alone.sale_notice is not None
    assert alone.sale_notice.to_avro()["issuer_ticker"] is None
