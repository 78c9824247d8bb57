"""`export`'s pure parts: positions by flag, the parquet extra, the progress line."""

from __future__ import annotations

import io
import sys

import pytest

from services.common.errors import BadParameterError, ConfigurationError
from services.export.bounds import parse_bound
from services.export.progress import Progress
from services.export.sinks import require_parquet


def test_no_to_means_the_end_at_start() -> None:
    assert parse_bound(None, "--to").kind == "latest"


@pytest.mark.parametrize(
    ("value", "kind"),
    [("earliest", "earliest"), ("latest", "latest"), ("17", "offset"), ("0:3,1:4", "cursor")],
)
def test_positions_mean_what_they_mean_to_the_gateway(value: str, kind: str) -> None:
    assert parse_bound(value, "--from").kind == kind


def test_a_time_without_zone_is_utc() -> None:
    spec = parse_bound("2026-11-20T14:30:00", "--from")
    assert spec.time is not None
    assert spec.time.isoformat() == "2026-11-20T14:30:00+00:00"


def test_errors_name_the_flag() -> None:
    with pytest.raises(BadParameterError, match=r"^--to: 'soon' is not earliest") as caught:
        parse_bound("soon", "--to")
    assert caught.value.parameter == "--to"


def test_parquet_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if pyarrow were not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'sec-digester\[parquet\]'"):
        require_parquet()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_only() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress(total=10, stream=stream)
        progress.records = 10
        progress.advance(10)
        progress.finish("exported 10 records")
    assert "100.0%" in terminal.getvalue()
    assert "\r" in terminal.getvalue()
    assert pipe.getvalue().startswith("exported 10 records in ")
    assert pipe.getvalue().count("\n") == 1
