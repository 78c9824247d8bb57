"""parse_daily_index against the recorded form index of 2020-03-18."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from services.common.errors import MalformedResponseError
from services.common.records import FilingSource
from services.ingest.daily_index import DailyIndex, daily_index_path, parse_daily_index
from services.ingest.tickers import TickerMap

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
INDEX_PATH = "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
BODY = (CORPUS / INDEX_PATH).read_bytes()
BASE_URL = "http://edgar.test"
DETECTED_AT = dt.datetime(2020, 3, 19, 6, 0, tzinfo=dt.UTC)
# File Name, the last column: edgar/data/<cik>/<accession>.txt
ROW = re.compile(r"^(.*?)\s+(\d+)\s+(\d{8})\s+edgar/data/(\d+)/([\d-]+)\.txt\s*$", re.MULTILINE)


def parse(body: bytes = BODY) -> DailyIndex:
    return parse_daily_index(
        body, base_url=BASE_URL, detected_at=DETECTED_AT, tickers=TickerMap.bundled()
    )


def rows() -> list[tuple[str, str, str, str, str]]:
    """(form type + company name, CIK, date filed, folder CIK, accession) of every row."""
    return [
        (m.group(1), m.group(2), m.group(3), m.group(4), m.group(5))
        for m in ROW.finditer(BODY.decode("ascii"))
    ]


LINES = BODY.decode("ascii").split("\n")
HEADER = next(i for i, line in enumerate(LINES) if line.startswith("Form Type"))


def test_one_filing_per_distinct_accession_number_in_file_order() -> None:
    expected = list(dict.fromkeys(row[4] for row in rows()))
    index = parse()
    assert index.rejected == ()
    assert [filing.accession_number for filing in index.filings] == expected


def test_every_filer_row_becomes_an_entity() -> None:
    ciks_by_accession: dict[str, list[str]] = {}
    for _, cik, _, _, accession in rows():
        listed = ciks_by_accession.setdefault(accession, [])
        if cik.zfill(10) not in listed:
            listed.append(cik.zfill(10))
    index = parse()
    assert any(len(ciks) > 1 for ciks in ciks_by_accession.values())
    for filing in index.filings:
        assert [entity.cik for entity in filing.entities] == ciks_by_accession[
            filing.accession_number
        ]
        assert {entity.role for entity in filing.entities} == {"filer"}


def test_fields_of_a_filing() -> None:
    left, cik, filed, folder_cik, accession = rows()[0]
    name_start = LINES[HEADER].index("Company Name")
    [filing] = [f for f in parse().filings if f.accession_number == accession]
    assert filing.form_type == left[:name_start].strip()
    assert filing.entities[0].name == left[name_start:].strip()
    assert filing.entities[0].cik == cik.zfill(10)
    assert filing.filed_date == dt.datetime.strptime(filed, "%Y%m%d").date()
    no_dashes = accession.replace("-", "")
    assert filing.index_url == (
        f"{BASE_URL}/Archives/edgar/data/{folder_cik}/{no_dashes}/{accession}-index.htm"
    )
    assert filing.source is FilingSource.DAILY_INDEX
    assert filing.detected_at == DETECTED_AT
    assert filing.size_bytes is None
    assert filing.items == ()


def test_accepted_at_is_midnight_in_new_york_on_the_filing_date() -> None:
    for filing in parse().filings:
        assert filing.accepted_at.date() == filing.filed_date
        assert filing.accepted_at.time() == dt.time(0)
        assert filing.accepted_at.tzinfo is not None
    # 18 March 2020 is in daylight saving time: midnight there is 04:00 UTC.
    assert parse().filings[0].accepted_at.utcoffset() == dt.timedelta(hours=-4)


def test_rows_filed_on_earlier_days_keep_their_own_date() -> None:
    earlier = {row[4]: row[2] for row in rows() if row[2] != "20200318"}
    assert earlier
    for filing in parse().filings:
        if filing.accession_number in earlier:
            assert f"{filing.filed_date:%Y%m%d}" == earlier[filing.accession_number]


def test_tickers_come_from_the_ticker_map() -> None:
    tickers = TickerMap.bundled()
    listed = [f for f in parse().filings if any(tickers.lookup(e.cik) for e in f.entities)]
    assert listed
    for filing in listed:
        expected = dict.fromkeys(t for e in filing.entities for t in tickers.lookup(e.cik))
        assert filing.tickers == tuple(expected)


def test_column_positions_come_from_the_header() -> None:
    # Widen the Company Name column by five characters on every line from the header on.
    name_end = LINES[HEADER].index("CIK")
    widened = LINES[:HEADER] + [
        line[:name_end] + ("-----" if line.startswith("---") else "     ") + line[name_end:]
        for line in LINES[HEADER:]
        if line
    ]
    assert parse("\n".join(widened).encode("ascii")).filings == parse().filings


def test_a_row_that_does_not_fit_is_rejected_and_the_rest_kept() -> None:
    lines = list(LINES)
    name_end = LINES[HEADER].index("CIK")
    row = HEADER + 2
    # A company name running into the CIK column.
    lines[row] = lines[row][: name_end - 1] + "X" + lines[row][name_end:]
    lines[row + 1] = lines[row + 1].replace(".txt", ".htm")
    index = parse("\n".join(lines).encode("ascii"))
    assert [rejected.line_number for rejected in index.rejected] == [row + 1, row + 2]
    # The two broken lines are the first two rows; every other row still counts.
    expected = list(dict.fromkeys(accession for *_, accession in rows()[2:]))
    assert [filing.accession_number for filing in index.filings] == expected


def test_a_truncated_file_loses_only_its_cut_row() -> None:
    cut = BODY[: len(BODY) // 2]
    index = parse(cut)
    assert len(index.rejected) <= 1
    complete = [match.group(5) for match in ROW.finditer(cut.decode("ascii"))]
    assert {f.accession_number for f in index.filings} == set(complete)


def test_an_html_error_page_is_malformed() -> None:
    manifest = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
    error_page = next(record for record in manifest if record["status"] != 200)
    with pytest.raises(MalformedResponseError) as raised:
        parse_daily_index(
            (CORPUS / error_page["path"]).read_bytes(),
            base_url=BASE_URL,
            detected_at=DETECTED_AT,
            tickers=TickerMap({}),
            url="https://www.sec.gov/x.idx",
        )
    assert raised.value.url == "https://www.sec.gov/x.idx"


def test_daily_index_path_is_where_edgar_keeps_the_day() -> None:
    manifest = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
    recorded = next(r["url"] for r in manifest if r["path"] == INDEX_PATH)
    assert recorded == "https://www.sec.gov" + daily_index_path(dt.date(2020, 3, 18))
    assert daily_index_path(dt.date(2024, 12, 31)).startswith(
        "/Archives/edgar/daily-index/2024/QTR4/"
    )
    assert daily_index_path(dt.date(2024, 4, 1)).endswith("/2024/QTR2/form.20240401.idx")
