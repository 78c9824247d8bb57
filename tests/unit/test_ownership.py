"""Forms 3, 4 and 5 read from the corpus ownership XML (samples/edgar-corpus/documents/
ownership/, real documents byte for byte) against tests/fixtures/facts/ownership_expected.json,
which lists every owner and every row with every parsed field. The expectation was checked by
hand against each XML (and against manifest.jsonl's description of it); the regex test below
checks codes, shares and prices once more without the parser."""

from __future__ import annotations

import re

import pytest

from services.analyze.analysis import Priority
from services.analyze.judgement.insider import read_ownership
from services.analyze.reading.forms.ownership import parse_ownership
from services.common.errors import SerializationError
from tests.support.facts_corpus import OWNERSHIP_DIR, expected_ownership, parsed_ownership

EXPECTED = expected_ownership()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_document_parses_to_its_expectation(name: str) -> None:
    assert parsed_ownership(name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_codes_shares_and_prices_agree_with_the_raw_xml(name: str) -> None:
    xml = (OWNERSHIP_DIR / name).read_text()
    codes = re.findall(r"<transactionCode>\s*(\w)\s*</transactionCode>", xml)
    shares = re.findall(r"<transactionShares>\s*<value>\s*([\d.]+)", xml)
    prices = re.findall(r"<transactionPricePerShare>\s*<value>\s*([\d.]+)", xml)
    rows = parse_ownership(xml.encode()).transactions
    assert [row.code for row in rows] == codes
    assert [row.shares for row in rows] == [float(s) for s in shares]
    assert [row.price_per_share for row in rows if row.price_per_share is not None] == [
        float(p) for p in prices
    ]


def test_the_filing_is_the_issuers_never_an_owners() -> None:
    ownership = parse_ownership((OWNERSHIP_DIR / "betr-4-1.xml").read_bytes())
    assert ownership.issuer.trading_symbol == "BETR"
    assert len(ownership.owners) == 8
    assert all(owner.is_ten_percent_owner and not owner.is_officer for owner in ownership.owners)


@pytest.mark.parametrize("document_type", ["5", "4/A", "3/A", "5/A"])
def test_form_5_and_amendments(document_type: str) -> None:
    # No Form 5 or amendment is in the corpus: these are the real aapl-4-2.xml with its
    # documentType changed, and nothing else.
    original = (OWNERSHIP_DIR / "aapl-4-2.xml").read_bytes()
    variant = original.replace(
        b"<documentType>4</documentType>", f"<documentType>{document_type}</documentType>".encode()
    )
    assert variant != original
    parsed, base = parse_ownership(variant), parse_ownership(original)
    assert parsed.document_type == document_type
    assert parsed.rows == base.rows
    assert parsed.owners == base.owners


_MINIMAL = """<?xml version="1.0" encoding="ISO-8859-1"?>
<ownershipDocument>
  <schemaVersion>X0609</schemaVersion>
  <documentType>4</documentType>
  <issuer><issuerCik>0000000001</issuerCik><issuerName>Small Co</issuerName>
    <issuerTradingSymbol> smco </issuerTradingSymbol></issuer>
  <reportingOwner>
    <reportingOwnerId>
      <rptOwnerCik>0000000002</rptOwnerCik><rptOwnerName>Doe Jane</rptOwnerName>
    </reportingOwnerId>
    <reportingOwnerRelationship>
      <isOfficer>true</isOfficer><officerTitle>Chief Executive Officer</officerTitle>
    </reportingOwnerRelationship>
  </reportingOwner>
  {aff}
  <nonDerivativeTable>
    <nonDerivativeTransaction>
      <securityTitle>Common Stock</securityTitle>
      <transactionDate><value>2025-01-02</value></transactionDate>
      <transactionCoding><transactionCode>P</transactionCode></transactionCoding>
      <transactionAmounts>
        <transactionShares><value>40,000</value></transactionShares>
        <transactionPricePerShare>
          <value>12.50</value><footnoteId id="F1"/>
        </transactionPricePerShare>
        <transactionAcquiredDisposedCode><value>A</value></transactionAcquiredDisposedCode>
      </transactionAmounts>
      <postTransactionAmounts>
        <sharesOwnedFollowingTransaction><value>100000</value></sharesOwnedFollowingTransaction>
      </postTransactionAmounts>
      <ownershipNature><directOrIndirectOwnership><value>D</value></directOrIndirectOwnership></ownershipNature>
    </nonDerivativeTransaction>
  </nonDerivativeTable>
  <footnotes><footnote id="F1">{note}</footnote></footnotes>
</ownershipDocument>"""


def _minimal(aff: str = "", note: str = "Weighted average price.") -> bytes:
    return _MINIMAL.format(aff=aff, note=note).encode("latin-1")


def test_bare_values_missing_elements_and_other_schema_versions() -> None:
    # No <value> around the security title, no derivative table, no remarks, a thousands
    # separator in the shares, an ISO-8859-1 declaration: all tolerated.
    ownership = parse_ownership(_minimal())
    (row,) = ownership.rows
    assert ownership.schema_version == "X0609"
    assert ownership.issuer.trading_symbol == "SMCO"
    assert (row.security_title, row.shares, row.price_per_share) == ("Common Stock", 40_000, 12.5)
    assert row.price_footnote_ids == ("F1",)
    assert row.weighted_average_price
    assert row.value_usd == 500_000
    assert row.exercise_date is None
    assert row.underlying_title is None


@pytest.mark.parametrize(
    ("aff", "note", "flag"),
    [
        ("<aff10b5One>1</aff10b5One>", "Price.", True),
        ("<aff10b5One>0</aff10b5One>", "Price.", False),
        ("", "Sold under a Rule 10b5-1 trading plan adopted May 1.", True),
        ("", "Price.", None),
    ],
)
def test_the_10b5_1_flag(aff: str, note: str, flag: bool | None) -> None:
    assert parse_ownership(_minimal(aff, note)).rows[0].rule_10b5_1 is flag


@pytest.mark.parametrize(
    "document",
    [
        b"<ownershipDocument><issuer>",  # truncated
        b"<html><body>Not found</body></html>",  # an error page
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ownershipDocument>&a;'
        b"</ownershipDocument>",  # a DTD: forbidden
        b"",
    ],
)
def test_malformed_documents_raise_the_projects_error(document: bytes) -> None:
    with pytest.raises(SerializationError):
        parse_ownership(document)


def test_an_officers_purchase_leads_with_its_figures() -> None:
    reading = read_ownership(parse_ownership(_minimal("<aff10b5One>0</aff10b5One>", "Price.")))
    assert reading.summary == (
        "Form 4 for Small Co (SMCO): CEO Doe Jane bought 40,000 shares of Common Stock at "
        "$12.50 ($500,000), 10b5-1: no."
    )
    assert reading.priority is Priority.HIGH
    assert reading.event_types == ("insider_purchase",)


@pytest.mark.parametrize(
    ("name", "priority", "summary"),
    [
        (
            "aapl-4-2.xml",
            Priority.MEDIUM,
            "Form 4 for Apple Inc. (AAPL): CFO Maestri Luca sold "
            "243,431 shares of Common Stock at an average $116.89 ($28,454,650), 10b5-1: yes.",
        ),
        (
            "isba-4-1.xml",
            Priority.MEDIUM,
            "Form 4 for ISABELLA BANK Corp (ISBA): Director "
            "McGuirk Richard L bought 275.634 shares of common at $18.14 ($5,000), 10b5-1: no.",
        ),
        (
            "zip-4-1.xml",
            Priority.LOW,
            "Form 4 for ZIPRECRUITER, INC. (ZIP): President TRAVERS "
            "DAVID acquired on exercise or conversion 60,732 shares of Class A Common Stock; had "
            "withheld for taxes 33,148 shares of Class A Common Stock at $5.96 ($197,562); "
            "exercised or converted 60,732 Restricted Stock Units.",
        ),
        (
            "spwr-3-1.xml",
            Priority.LOW,
            "Form 3: Director Hegde Vinayak reported owning no securities of SUNPOWER CORP (SPWR).",
        ),
    ],
)
def test_corpus_forms_ranked_and_summarized(name: str, priority: Priority, summary: str) -> None:
    reading = read_ownership(parse_ownership((OWNERSHIP_DIR / name).read_bytes()))
    assert (reading.priority, reading.summary) == (priority, summary)
