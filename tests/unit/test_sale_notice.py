"""Form 144 notices: the corpus documents (samples/edgar-corpus/documents/form144/, SEC's own
samples byte for byte) against tests/fixtures/facts/sale_notice_expected.json (hand-checked),
partial and hostile documents, and the Avro record."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from services.analyze.reading.forms.sale_notice import (
    SALE_NOTICE_FORMS,
    SaleNotice,
    parse_sale_notice,
)
from services.common.errors import SerializationError
from services.common.schemas import SchemaName, schema_dict
from tests.support.records import CORPUS_DIR

pytestmark = pytest.mark.timeout(60)

DOCUMENTS = CORPUS_DIR / "documents" / "form144"
EXPECTED_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
EXPECTED: dict[str, Any] = json.loads(
    (EXPECTED_FILE / "sale_notice_expected.json").read_text(encoding="utf-8")
)
SAMPLE = (DOCUMENTS / "Sample_144.xml").read_bytes()


def _find_record(node: Any, name: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == "record" and node.get("name") in (name, f"io.secdigester.{name}"):
            return node
        children: list[Any] = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_record(child, name)
        if found is not None:
            return found
    return None


def sale_notice_schema() -> Any:
    record = _find_record(schema_dict(SchemaName.FILING_ANALYSIS), "SaleNotice")
    assert record is not None
    return fastavro.parse_schema(record)


SCHEMA = sale_notice_schema()


def assert_valid_avro(notice: SaleNotice) -> None:
    record = notice.to_avro()
    assert fastavro.validation.validate(record, SCHEMA, raise_errors=True)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    buffer.seek(0)
    assert fastavro.schemaless_reader(buffer, SCHEMA) == record


def test_the_forms() -> None:
    assert frozenset({"144"}) == SALE_NOTICE_FORMS


def test_every_corpus_document_has_an_expectation() -> None:
    assert sorted(path.name for path in DOCUMENTS.glob("*.xml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_document_equals_its_expectation(name: str) -> None:
    notice = parse_sale_notice((DOCUMENTS / name).read_bytes())
    assert notice.to_avro() == EXPECTED[name]
    assert_valid_avro(notice)


def test_text_input_with_a_declaration_reads_the_same() -> None:
    assert parse_sale_notice(SAMPLE.decode("utf-8")) == parse_sale_notice(SAMPLE)


def test_total_market_value_and_ticker() -> None:
    notice = parse_sale_notice(SAMPLE)
    assert notice.total_market_value == 1282000.0 + 126500000.0
    assert notice.issuer_ticker is None
    with_ticker = notice.with_ticker("RUFS")
    assert with_ticker.issuer_ticker == "RUFS"
    assert with_ticker.to_avro()["issuer_ticker"] == "RUFS"
    assert_valid_avro(with_ticker)


def test_total_market_value_is_none_when_a_row_does_not_state_it() -> None:
    text = SAMPLE.decode().replace("<aggregateMarketValue>1282000.00</aggregateMarketValue>", "")
    notice = parse_sale_notice(text)
    assert notice.securities[0].aggregate_market_value is None
    assert notice.total_market_value is None
    assert notice.incomplete_reason is None  # an absent optional value is not a missing part


def test_describe_states_the_facts() -> None:
    lines = parse_sale_notice(SAMPLE).with_ticker("RUFS").describe()
    assert lines[0] == "Form 144 notice of proposed sale: RUFUS TEST CO (RUFS)"
    assert lines[1] == "Seller: van der Velden Jan (Officer, Director, Stakeholder)"
    assert any("17,087 units of Common stock" in line and "2022-08-27" in line for line in lines)
    assert "Total market value to be sold: $127,782,000" in lines
    assert all(isinstance(line, str) and line for line in lines)


def test_a_prefixed_namespace_reads_the_same() -> None:
    text = SAMPLE.decode()
    prefixed = (
        text.replace("<", "<o:")
        .replace("<o:/", "</o:")
        .replace("<o:?", "<?")
        .replace("o:com:", "com:")
        .replace(
            'xmlns="http://www.sec.gov/edgar/ownership"',
            'xmlns:o="http://www.sec.gov/edgar/ownership"',
        )
    )
    assert "<o:edgarSubmission" in prefixed
    assert parse_sale_notice(prefixed) == parse_sale_notice(SAMPLE)


def test_a_document_missing_parts_gives_the_rest_with_a_reason() -> None:
    text = SAMPLE.decode()
    start = text.index("<securitiesInformation>")
    end = text.rindex("</securitiesInformation>") + len("</securitiesInformation>")
    text = text[:start] + text[end:]
    text = text.replace(
        "<nameOfPersonForWhoseAccountTheSecuritiesAreToBeSold>van der Velden Jan"
        "</nameOfPersonForWhoseAccountTheSecuritiesAreToBeSold>",
        "",
    )
    notice = parse_sale_notice(text)
    assert notice.securities == ()
    assert notice.seller_name is None
    assert notice.issuer_name == "RUFUS TEST CO"
    assert len(notice.sold_past_three_months) == 1
    assert notice.incomplete_reason == "missing seller, securitiesInformation"
    assert_valid_avro(notice)


def test_an_unreadable_value_is_none_and_named() -> None:
    text = (
        SAMPLE.decode()
        .replace("<noOfUnitsSold>17087</noOfUnitsSold>", "<noOfUnitsSold>lots</noOfUnitsSold>")
        .replace("<saleDate>08/27/2022</saleDate>", "<saleDate>2022-08-27</saleDate>")
    )
    notice = parse_sale_notice(text)
    assert notice.securities[0].units_to_be_sold is None
    assert notice.sold_past_three_months[0].sale_date is None  # never guessed from another format
    assert notice.incomplete_reason == (
        "unreadable units to be sold 'lots'; unreadable past sale date '2022-08-27'"
    )


def test_a_bare_notice_without_header_is_read() -> None:
    notice = parse_sale_notice(
        '<edgarSubmission xmlns="http://www.sec.gov/edgar/ownership"><formData><issuerInfo>'
        "<issuerCik>320193</issuerCik><issuerName>Apple Inc.</issuerName>"
        "<nameOfPersonForWhoseAccountTheSecuritiesAreToBeSold>X</nameOfPersonForWhoseAccount"
        "TheSecuritiesAreToBeSold></issuerInfo><securitiesInformation><noOfUnitsSold>1,000"
        "</noOfUnitsSold></securitiesInformation></formData></edgarSubmission>"
    )
    assert notice.issuer_cik == "0000320193"
    assert notice.securities[0].units_to_be_sold == 1000.0
    assert notice.incomplete_reason is None


@pytest.mark.parametrize("cut", [100, 1500, len(SAMPLE) // 2, len(SAMPLE) - 20])
def test_a_truncated_document_raises(cut: int) -> None:
    # Not well-formed XML: refused rather than read as a fragment (module docstring, rule 6).
    with pytest.raises(SerializationError):
        parse_sale_notice(SAMPLE[:cut])


BODY = SAMPLE.split(b"?>", 1)[1]
HOSTILE = [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
    b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    + BODY.replace(b"<issuerName>", b"<issuerName>&lol2;", 1),
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + BODY.replace(b"<issuerName>", b"<issuerName>&xxe;", 1),
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>' + BODY,
    b'<?xml version="1.0"?><!DOCTYPE edgarSubmission SYSTEM "http://127.0.0.1:1/x.dtd">' + BODY,
]


@pytest.mark.parametrize("document", HOSTILE, ids=["billion-laughs", "xxe", "param", "dtd"])
def test_hostile_xml_raises(document: bytes) -> None:
    with pytest.raises(SerializationError):
        parse_sale_notice(document)


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not xml at all",
        b"\x00\xff\xfe garbage",
        "144 NOTICE OF PROPOSED SALE",
        b"<html><body>Form 144</body></html>",
        b"<ownershipDocument><documentType>4</documentType></ownershipDocument>",
        b'<edgarSubmission xmlns="http://www.sec.gov/edgar/thirteenffiler"/>',
        b'<edgarSubmission xmlns="http://www.sec.gov/edgar/ownership"><headerData>'
        b"<submissionType>13F-HR</submissionType></headerData></edgarSubmission>",
    ],
)
def test_non_xml_or_not_a_form_144_raises(document: str | bytes) -> None:
    with pytest.raises(SerializationError):
        parse_sale_notice(document)
