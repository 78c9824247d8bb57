"""EDGAR's daily form index (Archives/edgar/daily-index/YYYY/QTRn/form.YYYYMMDD.idx), for backfill.

The file is a preamble, a header line naming the columns, a line of dashes, then one
fixed-width row per (filing, filer):

    Form Type   Company Name              CIK         Date Filed  File Name
    ---------------------------------------------------------------------------------
    4           CARVANA CO.               1690820     20200318    edgar/data/1690820/00012...txt

Column positions are read from the header line, not assumed. A filing with several filers
(a Form 4's issuer and reporting owners) has one row each, under the same accession number
(the last part of File Name); those rows become one `Filing` with one entity per CIK.

What the index does not say, and what the records carry instead:
- the time of acceptance: `accepted_at` is the filing date at 00:00 America/New_York
  (EDGAR's clock), the earliest moment the filing can have been accepted on that date;
- each filer's role: every entity gets EDGAR's generic label "filer";
- the size and the 8-K items: `size_bytes` is null and `items` empty.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.common.errors import MalformedResponseError
from services.common.records import Filing, FilingSource
from services.ingest.tickers import TickerMap, filing_tickers

EDGAR_TIME_ZONE = ZoneInfo("America/New_York")
_COLUMNS = ("Form Type", "Company Name", "CIK", "Date Filed", "File Name")
_FILE_NAME = re.compile(r"^edgar/data/(?P<cik>\d{1,10})/(?P<accession>\d{10}-\d{2}-\d{6})\.txt$")
_ROLE = "filer"


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A row that does not fit the columns; skipped rather than guessed at."""

    line_number: int  # 1-based, in the file
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class DailyIndex:
    filings: tuple[Filing, ...]  # one per accession number, in file order
    rejected: tuple[RejectedLine, ...]  # for the caller to log and count


@dataclass(frozen=True, slots=True)
class _Row:
    form_type: str
    company_name: str
    cik: str  # 10 digits
    filed_date: dt.date
    directory_cik: str  # the CIK folder File Name points into, unpadded as in the path
    accession_number: str


class _RowError(Exception):
    pass


def daily_index_path(day: dt.date) -> str:
    """The EDGAR path of a day's form index:
    /Archives/edgar/daily-index/2020/QTR1/form.20200318.idx for 2020-03-18."""
    quarter = (day.month - 1) // 3 + 1
    return f"/Archives/edgar/daily-index/{day.year}/QTR{quarter}/form.{day:%Y%m%d}.idx"


def filing_index_url(base_url: str, cik: str, accession_number: str) -> str:
    """The filing index page: {base}/Archives/edgar/data/{cik}/{acc-no-dashes}/{acc}-index.htm."""
    folder = f"{base_url.rstrip('/')}/Archives/edgar/data/{int(cik)}/"
    return f"{folder}{accession_number.replace('-', '')}/{accession_number}-index.htm"


def parse_daily_index(
    body: bytes,
    *,
    base_url: str,
    detected_at: dt.datetime,
    tickers: TickerMap,
    url: str | None = None,
) -> DailyIndex:
    """Parse a form.YYYYMMDD.idx file. Raises `MalformedResponseError` when it has no column
    header (an HTML error page, a truncated download); a row that does not fit is rejected."""
    # EDGAR writes these files in ASCII; latin-1 decodes any byte, so one odd byte costs a row
    # at most, never the file.
    lines = body.decode("latin-1").splitlines()
    header_index, spans = _column_spans(lines, body, url)
    groups: dict[str, list[_Row]] = {}
    rejected: list[RejectedLine] = []
    for index in range(header_index + 2, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        try:
            row = _parse_row(line, spans)
        except _RowError as exc:
            rejected.append(RejectedLine(line_number=index + 1, reason=str(exc), text=line))
            continue
        groups.setdefault(row.accession_number, []).append(row)
    filings = tuple(
        _filing(rows, base_url=base_url, detected_at=detected_at, tickers=tickers)
        for rows in groups.values()
    )
    return DailyIndex(filings=filings, rejected=tuple(rejected))


def _column_spans(
    lines: list[str], body: bytes, url: str | None
) -> tuple[int, dict[str, tuple[int, int | None]]]:
    """Find the header line; return its index and each column's [start, end) (end None = to
    the end of the line)."""
    for index, line in enumerate(lines):
        if all(column in line for column in _COLUMNS):
            starts = sorted((line.index(column), column) for column in _COLUMNS)
            ends: list[int | None] = [start for start, _ in starts[1:]]
            ends.append(None)
            pairs = zip(starts, ends, strict=True)
            return index, {column: (start, end) for (start, column), end in pairs}
    snippet = " ".join(body[:160].decode("latin-1").split())
    raise MalformedResponseError(
        f"daily index {url or '(no url)'}: no column header; body starts {snippet!r}",
        url=url or "",
    )


def _parse_row(line: str, spans: dict[str, tuple[int, int | None]]) -> _Row:
    for start, _ in spans.values():
        # A value that overflows its column runs into the next one; cutting it would give
        # wrong fields, so such a row is rejected instead.
        if 0 < start < len(line) and line[start - 1] != " ":
            raise _RowError(f"a value runs across the column boundary at {start}")
    fields = {column: line[start:end].strip() for column, (start, end) in spans.items()}
    file_name = _FILE_NAME.match(fields["File Name"])
    if file_name is None:
        raise _RowError(f"File Name {fields['File Name']!r} is not edgar/data/CIK/ACCESSION.txt")
    if not fields["CIK"].isdigit() or len(fields["CIK"]) > 10:
        raise _RowError(f"CIK {fields['CIK']!r} is not a number")
    if not fields["Form Type"] or not fields["Company Name"]:
        raise _RowError("empty form type or company name")
    try:
        filed_date = dt.datetime.strptime(fields["Date Filed"], "%Y%m%d").date()
    except ValueError as exc:
        raise _RowError(f"Date Filed {fields['Date Filed']!r} is not YYYYMMDD") from exc
    return _Row(
        form_type=fields["Form Type"],
        company_name=fields["Company Name"],
        cik=fields["CIK"].zfill(10),
        filed_date=filed_date,
        directory_cik=file_name["cik"],
        accession_number=file_name["accession"],
    )


def _filing(
    rows: list[_Row], *, base_url: str, detected_at: dt.datetime, tickers: TickerMap
) -> Filing:
    first = rows[0]
    names_by_cik: dict[str, str] = {}
    for row in rows:
        names_by_cik.setdefault(row.cik, row.company_name)
    entities = tuple(
        tickers.entity(cik=cik, name=name, role=_ROLE) for cik, name in names_by_cik.items()
    )
    return Filing(
        accession_number=first.accession_number,
        form_type=first.form_type,
        accepted_at=dt.datetime.combine(first.filed_date, dt.time(0), tzinfo=EDGAR_TIME_ZONE),
        filed_date=first.filed_date,
        entities=entities,
        index_url=filing_index_url(base_url, first.directory_cik, first.accession_number),
        source=FilingSource.DAILY_INDEX,
        detected_at=detected_at,
        tickers=filing_tickers(entities),
    )
