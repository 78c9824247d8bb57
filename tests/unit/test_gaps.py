"""The gap signal's pure parts: what a requested position becomes against a partition's log
(services/common/positions.py), the gap frame as the client library reads it, its settings,
and where it is documented. On the real broker: tests/integration/test_gap.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sec_digester_client import (
    BadParameterError,
    ClientConfig,
    ClientError,
    Gap,
    GapError,
    PartitionGap,
    ProtocolError,
)
from sec_digester_client.protocol import parse_frame

from services.cli import COMMANDS, build_parser
from services.common import positions
from services.common.positions import PartitionBeyondEnd, at_time, describe_gaps, within_log
from services.common.settings import load_settings
from services.tail.settings import TailSettings

ROOT = Path(__file__).resolve().parents[2]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10**12), st.integers(0, 10**6), st.integers(0, 10**12 + 10**6 + 5)
        ),
        min_size=1,
        max_size=5,
    )
)
def test_a_position_becomes_one_the_log_holds_and_what_it_is_not_is_reported(
    logs: list[tuple[int, int, int]],
) -> None:
    low = {p: start for p, (start, _, _) in enumerate(logs)}
    high = {p: start + size for p, (start, size, _) in enumerate(logs)}
    requested = {p: asked for p, (_, _, asked) in enumerate(logs)}
    resolved = within_log(requested, low, high)
    for p, asked in requested.items():
        assert low[p] <= resolved.positions[p] <= high[p]
        if low[p] <= asked <= high[p]:
            assert resolved.positions[p] == asked
    assert [(g.partition, g.requested, g.first_available, g.missing) for g in resolved.gaps] == [
        (p, asked, low[p], low[p] - asked) for p, asked in requested.items() if asked < low[p]
    ]
    assert {g.partition: resolved.positions[g.partition] for g in resolved.gaps} == {
        g.partition: g.first_available for g in resolved.gaps
    }
    assert resolved.beyond_end == tuple(
        PartitionBeyondEnd(p, asked, high[p]) for p, asked in requested.items() if asked > high[p]
    )


def test_a_time_is_a_gap_where_its_first_record_is_the_first_left_after_a_removal() -> None:
    low = {0: 0, 1: 50, 2: 50, 3: 50, 4: 50}
    high = {0: 80, 1: 80, 2: 80, 3: 80, 4: 50}
    # 0: nothing removed; 1: the time's first record is the first left; 2: a later one;
    # 3: nothing at or after the time (starts at the end); 4: everything removed.
    found = {0: 0, 1: 50, 2: 60, 3: -1, 4: -1}
    resolved = at_time(found, low, high)
    assert resolved.positions == {0: 0, 1: 50, 2: 60, 3: 80, 4: 50}
    assert resolved.gaps == (
        positions.PartitionGap(1, None, 50),
        positions.PartitionGap(4, None, 50),
    )
    assert resolved.beyond_end == ()


def test_gaps_are_described_for_a_person() -> None:
    offsets = positions.PartitionGap(0, 3, 120)
    time = positions.PartitionGap(2, None, 40)
    assert (offsets.missing, time.missing) == (117, 40)
    assert describe_gaps((offsets, time)) == (
        "partition 0: offsets 3-119 are gone (117), reading from 120; "
        "partition 2: the 40 records before offset 40 are gone, some of them may have been "
        "at or after the time asked for, reading from 40"
    )


GAP_FRAME = {
    "type": "gap",
    "topic": "sec.filings.analyzed",
    "partitions": [
        {"partition": 0, "requested": 3, "first_available": 120, "missing": 117},
        {"partition": 2, "requested": None, "first_available": 40, "missing": 40},
    ],
    "cursor": "0:120,1:7,2:40",
}


def test_the_client_reads_a_gap_frame() -> None:
    gap = parse_frame(json.dumps(GAP_FRAME))
    assert gap == Gap(
        "sec.filings.analyzed",
        (PartitionGap(0, 3, 120, 117), PartitionGap(2, None, 40, 40)),
        "0:120,1:7,2:40",
    )
    assert isinstance(gap, Gap)
    assert gap.describe() == (
        "sec.filings.analyzed no longer holds partition 0: offsets 3-119 (117); "
        "partition 2: the 40 records before offset 40; going on from 0:120,1:7,2:40"
    )
    error = GapError(gap)
    assert isinstance(error, ClientError)
    assert error.gap is gap
    assert str(error) == gap.describe()


def test_an_unreadable_gap_frame_is_a_protocol_error() -> None:
    broken = GAP_FRAME | {"partitions": [{"partition": 0}]}
    with pytest.raises(ProtocolError):
        parse_frame(json.dumps(broken))


def test_on_gap_is_raise_by_default_and_checked() -> None:
    assert ClientConfig().on_gap == "raise"
    assert ClientConfig(on_gap="report").on_gap == "report"
    with pytest.raises(BadParameterError, match="on_gap"):
        ClientConfig(on_gap="ignore")  # type: ignore[arg-type]


def test_tail_reports_gaps_unless_told_to_stop() -> None:
    assert load_settings(TailSettings).tail_on_gap == "report"
    argv = ["tail", "--on-gap", "raise"]
    args = build_parser(COMMANDS, argv).parse_args(argv)
    overrides = {k.removeprefix("setting:"): v for k, v in vars(args).items() if ":" in k}
    assert load_settings(TailSettings, overrides).tail_on_gap == "raise"


def test_the_gap_is_documented_for_the_protocol_and_the_client() -> None:
    protocol = (ROOT / "docs" / "gateway-protocol.md").read_text()
    assert '{"type":"gap",' in protocol
    assert "event: gap" in protocol or "`gap`" in protocol
    client = (ROOT / "clients" / "python" / "README.md").read_text()
    assert "on_gap" in client
    assert "GapError" in client
