"""Property-based tests of the Schedule 13D/13G reader: for any input, a `Stake` whose
`to_avro()` validates against the `Stake` record of FilingAnalysis, or `SerializationError`,
never another exception, and never more than a second (the profile's deadline). Inputs are the
corpus XML mutated (bytes flipped, cut, inserted, slices repeated), entity tricks put in front,
raw bytes, and text cover pages mutated. Profiles: tests/hypothesis_profiles.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyze.reading.forms.beneficial_ownership import parse_stake, read_stake_text
from services.common.errors import SerializationError
from tests.support.records import CORPUS_DIR
from tests.support.stake_schema import valid_stake
from tests.unit.test_beneficial_ownership import COVER_PAGE
from tests.unit.test_properties_parsers import ENTITY_PREAMBLES, mutated

STAKES = [
    path.read_bytes()
    for path in sorted((CORPUS_DIR / "documents" / "beneficial-ownership").glob("*.xml"))
]


@st.composite
def with_entities(draw: st.DrawFn) -> bytes:
    body = draw(st.sampled_from(STAKES)).split(b"?>", 1)[-1]
    preamble = draw(st.sampled_from(ENTITY_PREAMBLES))
    return preamble + body.replace(b"<issuerName>", b"<issuerName>&lol3;&xxe;", 1)


@pytest.mark.timeout(120)
@given(
    st.one_of(mutated(STAKES), with_entities(), st.binary(max_size=4_096)),
    st.sampled_from(["SCHEDULE 13D", "SCHEDULE 13G/A"]),
)
def test_the_xml_reader_gives_a_valid_stake_or_its_own_error(body: bytes, form: str) -> None:
    try:
        stake = parse_stake(body, form)
    except SerializationError:
        return
    assert valid_stake(stake.to_avro())
    assert b"lollollol" not in repr(stake).encode()
    assert all(isinstance(line, str) for line in stake.describe())


@pytest.mark.timeout(120)
@given(
    st.one_of(
        mutated([COVER_PAGE.encode()]).map(lambda b: b.decode("latin-1")),
        st.text(max_size=2_000),
    ),
    st.sampled_from(["SC 13D", "SC 13G/A"]),
)
def test_the_text_reader_gives_a_valid_stake(text: str, form: str) -> None:
    stake = read_stake_text(text, form)
    assert valid_stake(stake.to_avro())


def test_the_inputs_are_the_real_corpus_files() -> None:
    assert len(STAKES) == 3
