"""Property-based tests of the XBRL financials reader (analyze/reading/forms/financials.py).

For any input, a `Financials` whose `to_avro()` validates against the FilingAnalysis schema's
`Financials` record, or a `SerializationError`; never another exception, never more than the
profile's deadline (a second) per example and never more than the test's timeout in all. Inputs:
real corpus instances (the 8-K and Tesla's 10-Q), the hand-built instance and inline fragment of
test_financials.py, mutated (bytes flipped, cut, inserted, repeated, entity declarations put in
front), and arbitrary bytes and text. Profiles: tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import io

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyze.reading.forms.financials import parse_financials
from services.common.errors import SerializationError
from tests.support.xbrl_documents import INLINE_10Q
from tests.unit.test_financials import SCHEMA, _instance, _read, _rev
from tests.unit.test_properties_parsers import ENTITY_PREAMBLES, mutated

INSTANCES = [
    _read("WatersCorp.8-K.xbrl.xml"),
    _read("tsla-20240630_htm.xml.gz"),
    _instance(_rev("Q", "100") + _rev("D6", "180") + _rev("D3", "80")).encode(),
]
INLINES = [INLINE_10Q.encode()]


def _check(document: bytes | str, *, inline: bool) -> None:
    try:
        financials = parse_financials(document, inline=inline)
    except SerializationError:
        return
    record = financials.to_avro()
    fastavro.validation.validate(record, SCHEMA, raise_errors=True)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMA, record)
    assert b"lollollol" not in repr(financials).encode()


@st.composite
def with_entities(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    body = draw(st.sampled_from(originals))
    body = body.split(b"?>", 1)[-1] if body.lstrip().startswith(b"<?xml") else body
    return draw(st.sampled_from(ENTITY_PREAMBLES)) + body


@pytest.mark.timeout(240)
@given(st.one_of(mutated(INSTANCES), with_entities(INSTANCES), st.binary(max_size=4_096)))
def test_an_instance_gives_valid_financials_or_serialization_error(document: bytes) -> None:
    _check(document, inline=False)


@pytest.mark.timeout(240)
@given(
    st.one_of(mutated(INLINES), with_entities(INLINES), st.text(max_size=2_000)),
    st.booleans(),
)
def test_an_inline_document_gives_valid_financials_or_serialization_error(
    document: bytes | str, inline: bool
) -> None:
    _check(document, inline=inline)
