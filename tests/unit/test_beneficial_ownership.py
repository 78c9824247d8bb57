"""Schedules 13D and 13G read from the corpus XML (samples/edgar-corpus/documents/
beneficial-ownership/, real documents byte for byte) against tests/fixtures/facts/
stake_expected.json, which lists every field of each. The expectation was checked by hand against
each XML: issuer, CUSIP, CIK, class, event date, and every reporting person's powers, aggregate,
percent, type and citizenship. The text cover pages below are written here in the standard
layout of the SEC's cover page (rows 1 to 14 of a 13D)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.analyze.reading.forms.beneficial_ownership import (
    PURPOSE_LIMIT,
    STAKE_FORMS,
    Stake,
    StakeHolder,
    StakeKind,
    StakeSource,
    parse_stake,
    read_stake_text,
)
from services.common.errors import SerializationError
from tests.support.records import CORPUS_DIR
from tests.support.stake_schema import valid_stake

STAKE_DIR = CORPUS_DIR / "documents" / "beneficial-ownership"
EXPECTED: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "facts" / "stake_expected.json").read_text()
)
TRUNCATED = "sc13da-zivo-truncated-endtag.xml"


def _parse(name: str) -> Stake:
    return parse_stake((STAKE_DIR / name).read_bytes(), "SCHEDULE 13D")


def test_the_expectation_covers_every_corpus_document() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in STAKE_DIR.glob("*.xml"))
    assert frozenset({"SCHEDULE 13D", "SCHEDULE 13G", "SC 13D", "SC 13G"}) == STAKE_FORMS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_document_parses_to_its_expectation(name: str) -> None:
    record = _parse(name).to_avro()
    assert record == EXPECTED[name]
    assert valid_stake(record)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_str_document_reads_as_its_bytes(name: str) -> None:
    assert parse_stake((STAKE_DIR / name).read_text(), "SCHEDULE 13G") == _parse(name)


def test_the_largest_percent_is_taken_not_the_sum() -> None:
    qxo = _parse("sc13d-qxo.xml")
    assert qxo.kind is StakeKind.ACTIVE
    assert qxo.source is StakeSource.XML
    assert qxo.percent_of_class == 6.3
    assert qxo.aggregate_amount == 32_671_542
    citadel = _parse("sc13g-citadel-spirit.xml")
    assert citadel.kind is StakeKind.PASSIVE
    # Several persons state 9.9%: the one with the largest amount is Mr. Griffin's.
    assert (citadel.percent_of_class, citadel.aggregate_amount) == (9.9, 1_624_877)
    assert citadel.purpose is None


def test_a_truncated_document_gives_what_precedes_the_break_and_says_so() -> None:
    zivo = _parse(TRUNCATED)
    assert zivo.amendment_number == 8
    assert zivo.issuer_name == "Zivo Bioscience, Inc."
    assert zivo.issuer_cusip == "98978N101"
    assert [p.percent_of_class for p in zivo.reporting_persons] == [12.2, 6.13, 6.13, 1.24, 4.55]
    assert zivo.purpose is None  # Item 4 follows the break: not read, not guessed
    assert zivo.incomplete_reason is not None
    assert zivo.incomplete_reason.startswith("document is cut off")


def test_a_value_cut_at_the_end_is_dropped_not_kept() -> None:
    xml = (STAKE_DIR / "sc13d-qxo.xml").read_text()
    cut = xml[: xml.index("<percentOfClass>3.2") + len("<percentOfClass>3")]
    stake = parse_stake(cut, "SCHEDULE 13D")
    assert [p.percent_of_class for p in stake.reporting_persons] == [0.03, None]
    assert stake.incomplete_reason is not None
    assert "cut off" in stake.incomplete_reason
    assert valid_stake(stake.to_avro())


def test_the_purpose_is_cut_at_a_word() -> None:
    xml = (STAKE_DIR / "sc13d-qxo.xml").read_text()
    start = xml.index("<transactionPurpose>") + len("<transactionPurpose>")
    long = xml[:start] + "word " * 1_000 + xml[start:]
    purpose = parse_stake(long, "SCHEDULE 13D").purpose
    assert purpose is not None
    assert len(purpose) <= PURPOSE_LIMIT
    assert purpose.endswith("word")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    '<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D"><a>&lol2;</a></edgarSubmission>'
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D">&xxe;</edgarSubmission>'
)
DTD_ONLY = (
    '<!DOCTYPE edgarSubmission SYSTEM "http://127.0.0.1:1/x.dtd">'
    '<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D"/>'
)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL, DTD_ONLY])
def test_hostile_xml_is_refused(document: str) -> None:
    with pytest.raises(SerializationError):
        parse_stake(document, "SCHEDULE 13D")
    with pytest.raises(SerializationError):
        parse_stake(document.encode(), "SCHEDULE 13D")


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not xml at all",
        b"\xff\xfe\x00garbage",
        b"<html><body>SCHEDULE 13D</body></html>",
        b'<ownershipDocument xmlns="http://www.sec.gov/edgar/schedule13D"/>',
        b"<edgarSubmission><formData/></edgarSubmission>",  # no 13D/13G namespace
        b'<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D"><formData><cover',
    ],
)
def test_non_13d_documents_raise(document: bytes) -> None:
    with pytest.raises(SerializationError):
        parse_stake(document, "SCHEDULE 13D")


COVER_PAGE = """\
                       SECURITIES AND EXCHANGE COMMISSION
                             Washington, D.C. 20549

                                  SCHEDULE 13D
                   Under the Securities Exchange Act of 1934
                               (Amendment No. 2)*

                               ACME WIDGETS, INC.
                                (Name of Issuer)

                    Common Stock, par value $0.01 per share
                         (Title of Class of Securities)

                                   004567109
                                 (CUSIP Number)

                              John Smith, Esq.
                  100 Main Street, New York, New York 10001
                               (212) 555-0100
           (Name, Address and Telephone Number of Person Authorized to
                     Receive Notices and Communications)

                                 March 3, 2005
            (Date of Event which Requires Filing of this Statement)

CUSIP No. 004567109                   13D                     Page 2 of 8 Pages
-------------------------------------------------------------------------------
  1    NAMES OF REPORTING PERSONS
       I.R.S. IDENTIFICATION NOS. OF ABOVE PERSONS (ENTITIES ONLY)

       Example Capital Partners, L.P.
-------------------------------------------------------------------------------
  2    CHECK THE APPROPRIATE BOX IF A MEMBER OF A GROUP (SEE INSTRUCTIONS)
                                                                 (a) [ ]
                                                                 (b) [X]
-------------------------------------------------------------------------------
  3    SEC USE ONLY
-------------------------------------------------------------------------------
  4    SOURCE OF FUNDS (SEE INSTRUCTIONS)
       WC
-------------------------------------------------------------------------------
  5    CHECK BOX IF DISCLOSURE OF LEGAL PROCEEDINGS IS REQUIRED PURSUANT TO
       ITEMS 2(d) OR 2(e)                                              [ ]
-------------------------------------------------------------------------------
  6    CITIZENSHIP OR PLACE OF ORGANIZATION
       Delaware
-------------------------------------------------------------------------------
                  7    SOLE VOTING POWER
   NUMBER OF           1,250,000
    SHARES       --------------------------------------------------------------
 BENEFICIALLY     8    SHARED VOTING POWER
   OWNED BY            -0-
     EACH        --------------------------------------------------------------
   REPORTING      9    SOLE DISPOSITIVE POWER
    PERSON             1,250,000
     WITH        --------------------------------------------------------------
                 10    SHARED DISPOSITIVE POWER
                       -0-
-------------------------------------------------------------------------------
 11    AGGREGATE AMOUNT BENEFICIALLY OWNED BY EACH REPORTING PERSON
       1,250,000
-------------------------------------------------------------------------------
 12    CHECK BOX IF THE AGGREGATE AMOUNT IN ROW (11) EXCLUDES CERTAIN SHARES
       (SEE INSTRUCTIONS)                                              [ ]
-------------------------------------------------------------------------------
 13    PERCENT OF CLASS REPRESENTED BY AMOUNT IN ROW (11)
       7.3%
-------------------------------------------------------------------------------
 14    TYPE OF REPORTING PERSON (SEE INSTRUCTIONS)
       PN
-------------------------------------------------------------------------------

Item 1.  Security and Issuer.
"""


def test_a_text_cover_page_gives_its_figures() -> None:
    stake = read_stake_text(COVER_PAGE, "SC 13D/A")
    assert stake.kind is StakeKind.ACTIVE
    assert stake.source is StakeSource.TEXT
    assert stake.amendment_number == 2
    assert stake.issuer_name == "ACME WIDGETS, INC."
    assert stake.issuer_cusip == "004567109"
    assert stake.security_class == "Common Stock, par value $0.01 per share"
    assert stake.event_date == "2005-03-03"
    assert stake.reporting_persons == (
        StakeHolder(
            name="Example Capital Partners, L.P.",
            type="PN",
            citizenship="Delaware",
            sole_voting_power=1_250_000,
            shared_voting_power=0,
            sole_dispositive_power=1_250_000,
            shared_dispositive_power=0,
            aggregate_amount=1_250_000,
            percent_of_class=7.3,
        ),
    )
    assert (stake.percent_of_class, stake.aggregate_amount) == (7.3, 1_250_000)
    assert stake.incomplete_reason is None
    assert valid_stake(stake.to_avro())
    assert any("7.3%" in line for line in stake.describe())


def test_a_cover_page_that_states_no_percent_leaves_it_null_and_says_why() -> None:
    text = COVER_PAGE.replace("       7.3%\n", "       See Item 5.\n")
    stake = read_stake_text(text, "SC 13D")
    assert stake.reporting_persons[0].percent_of_class is None
    assert stake.reporting_persons[0].aggregate_amount == 1_250_000
    assert stake.percent_of_class is None
    assert stake.aggregate_amount is None
    assert stake.incomplete_reason == "cover page states no percent of class"
    assert valid_stake(stake.to_avro())


def test_an_ambiguous_row_is_not_guessed() -> None:
    text = COVER_PAGE.replace("       1,250,000\n---", "       1,250,000 (1) 1,300,000 (2)\n---", 1)
    text = text.replace("       7.3%\n", "       Less than 1%\n")
    stake = read_stake_text(text, "SC 13D")
    person = stake.reporting_persons[0]
    assert person.aggregate_amount is None
    assert person.percent_of_class is None
    assert person.sole_voting_power == 1_250_000
    assert stake.incomplete_reason == (
        "cover page states no percent of class; "
        "cover page states no aggregate amount beneficially owned"
    )


def test_text_with_no_cover_page_names_no_person() -> None:
    stake = read_stake_text("Nothing here resembles a cover page.", "SC 13G")
    assert stake.kind is StakeKind.PASSIVE
    assert stake.reporting_persons == ()
    assert stake.incomplete_reason == "cover page names no reporting person"
    with pytest.raises(SerializationError):
        read_stake_text(COVER_PAGE, "10-K")


def test_describe_gives_plain_lines() -> None:
    lines = _parse("sc13d-qxo.xml").describe()
    assert lines[0] == "Schedule 13D (active)"
    assert "Issuer: QXO, Inc. (CUSIP 82846H405)" in lines
    assert "Largest stake: 6.3% of the class (32,671,542 shares)" in lines


def test_a_compact_cover_page_with_rules_and_references() -> None:
    text = """SCHEDULE 13G
(Amendment No:  1)
GLOBEX HOLDINGS CORP
--------------------------------------------------------
(Name of Issuer)
Class A Common Stock
--------------------------------------------------------
(Title of Class of Securities)
37950E101
--------------------------------------------------------
(CUSIP Number)
December 31, 2019
--------------------------------------------------------
(Date of Event Which Requires Filing of this Statement)
(1)Names of reporting persons. Initech Advisors, L.P.
(2) Check the appropriate box if a member of a group
(3) SEC use only
(4) Citizenship or place of organization
Delaware
(5) Sole voting power
 0
(6) Shared voting power
 -0- (See Item 4(a))
(7) Sole dispositive power
 0
(8) Shared dispositive power
 2,000,000
(9) Aggregate amount beneficially owned by each reporting person
 2,000,000 (See Item 4(a))
(10) Check if the aggregate amount in Row (9) excludes certain shares
(11) Percent of class represented by amount in Row 9
 5.4%
(12) Type of reporting person
IA
"""
    stake = read_stake_text(text, "SC 13G/A")
    assert (stake.amendment_number, stake.issuer_name) == (1, "GLOBEX HOLDINGS CORP")
    assert (stake.issuer_cusip, stake.event_date) == ("37950E101", "2019-12-31")
    assert stake.security_class == "Class A Common Stock"
    assert stake.reporting_persons == (
        StakeHolder(
            name="Initech Advisors, L.P.",
            type="IA",
            citizenship="Delaware",
            sole_voting_power=0,
            shared_voting_power=0,
            sole_dispositive_power=0,
            shared_dispositive_power=2_000_000,
            aggregate_amount=2_000_000,
            percent_of_class=5.4,
        ),
    )
    assert stake.incomplete_reason is None


def test_title_page_values_joined_to_their_caption_by_text_extraction() -> None:
    # A plain-text 13G/A in a complete submission (Trinity Industries, 2024, a held-out
    # document): its title page reads, once extracted, value, rule and caption on one line.
    title = (
        "SCHEDULE 13G\nUnder the Securities Exchange Act of 1934\n(Amendment No: 3)\n"
        "TRINITY INDUSTRIES INC ------------------------------ (Name of Issuer)\n"
        "Common Stock ------------------------------ (Title of Class of Securities)\n"
        "896522109 ------------------------------ (CUSIP Number)\n"
        "December 31, 2023 ----------------------- (Date of Event Which Requires Filing of "
        "this Statement)\n"
    )
    record = read_stake_text(title, "SC 13G/A").to_avro()
    assert (record["issuer_name"], record["security_class"]) == (
        "TRINITY INDUSTRIES INC",
        "Common Stock",
    )
    assert (record["issuer_cusip"], record["event_date"]) == ("896522109", "2023-12-31")
    # A rule on a line of its own is no value: the line above it is taken, as before.
    alone = read_stake_text("ACME CORP\n------------------\n(Name of Issuer)\n", "SC 13G").to_avro()
    assert alone["issuer_name"] == "ACME CORP"
