"""Property-based tests of the Form 144 parser: for any input, a notice whose `to_avro()` is a
valid SaleNotice record, or `SerializationError`, never another exception. Inputs are the real
corpus documents (samples/edgar-corpus/documents/form144/) mutated (bytes flipped, cut,
inserted, slices repeated, entity declarations put in front) and raw bytes. Profiles:
tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyze.reading.forms.sale_notice import parse_sale_notice
from services.common.errors import SerializationError
from tests.support.records import CORPUS_DIR
from tests.unit.test_properties_parsers import ENTITY_PREAMBLES, mutated
from tests.unit.test_sale_notice import assert_valid_avro

pytestmark = pytest.mark.timeout(300)

DOCUMENTS = [
    path.read_bytes() for path in sorted((CORPUS_DIR / "documents" / "form144").glob("*.xml"))
]


@st.composite
def with_entities(draw: st.DrawFn) -> bytes:
    document = draw(st.sampled_from(DOCUMENTS))
    body = document.split(b"?>", 1)[-1]
    preamble = draw(st.sampled_from(ENTITY_PREAMBLES))
    return preamble + body.replace(b"<issuerName>", b"<issuerName>&lol3;&xxe;", 1)


@st.composite
def value_edits(draw: st.DrawFn) -> str:
    """A corpus document with element texts replaced by arbitrary text (still well-formed)."""
    text = draw(st.sampled_from(DOCUMENTS)).decode("utf-8")
    for tag in draw(
        st.lists(
            st.sampled_from(
                [
                    "issuerCik",
                    "issuerName",
                    "noOfUnitsSold",
                    "aggregateMarketValue",
                    "noOfUnitsOutstanding",
                    "approxSaleDate",
                    "saleDate",
                    "grossProceeds",
                    "planAdoptionDate",
                    "relationshipToIssuer",
                ]
            ),
            max_size=4,
        )
    ):
        value = draw(
            st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<&\r"), max_size=20)
        )
        start = text.find(f"<{tag}>")
        end = text.find(f"</{tag}>", start)
        if start >= 0 and end >= 0:
            text = text[: start + len(tag) + 2] + value + text[end:]
    return text


@given(st.one_of(mutated(DOCUMENTS), with_entities(), value_edits(), st.binary(max_size=4_096)))
def test_the_parser_gives_a_valid_notice_or_its_own_error(document: bytes | str) -> None:
    try:
        notice = parse_sale_notice(document)
    except SerializationError:
        return
    assert_valid_avro(notice)
    assert notice.issuer_ticker is None
    assert notice.issuer_cik is None or (
        len(notice.issuer_cik) == 10 and notice.issuer_cik.isdigit()
    )
    assert all(isinstance(line, str) for line in notice.describe())
    assert "lollollol" not in repr(notice)  # no entity was ever expanded


def test_the_inputs_are_the_real_corpus_files() -> None:
    assert len(DOCUMENTS) == 2
