"""DocumentFetcher through a real EdgarClient against the EDGAR emulator serving the recorded
corpus: which way it reads a filing, what it reads, and what it does when EDGAR fails."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.analyze.reading.documents import (
    EXHIBIT_HEADING,
    DocumentFetcher,
    DocumentStatus,
    FilingDocuments,
)
from services.analyze.reading.text import html_to_text, parse_submission
from services.common.edgar import EdgarClient
from services.common.ratelimit import RequestLimiter
from services.common.records import Entity, Filing, FilingSource
from services.emulator import EmulatorHandle, Fault, FaultKind, run_emulator

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
SEC = "https://www.sec.gov"
FETCH_FORMS = frozenset({"8-K", "10-K"})
MAX_BYTES = 1_000_000
# The ITEM INFORMATION titles these filings' headers carry, by their item code.
HEADER_TITLES = {
    "Departure of Directors or Certain Officers": "5.02",
    "Financial Statements and Exhibits": "9.01",
    "Other Events": "8.01",
}
MARKUP = re.compile(r"<[a-zA-Z/!][^>]*>|&(?:nbsp|amp|lt|gt|#\d+);")


def archive_file(path: str) -> Path:
    """The corpus file of a www.sec.gov path."""
    return CORPUS / "www.sec.gov" / path.lstrip("/")


@dataclass(frozen=True)
class Recorded:
    cik: str
    accession: str
    primary: str  # the primary document's file name
    size_bytes: int  # of the complete submission

    @property
    def folder(self) -> str:
        return f"/Archives/edgar/data/{self.cik}/{self.accession.replace('-', '')}"

    @property
    def submission_path(self) -> str:
        return f"{self.folder}/{self.accession}.txt"

    @property
    def index_paths(self) -> tuple[str, str]:
        return (
            f"{self.folder}/{self.accession}-index.htm",
            f"/Archives/edgar/data/{self.cik}/{self.accession}-index.html",
        )

    def submission_bytes(self) -> bytes:
        return archive_file(self.submission_path).read_bytes()

    def header_items(self) -> tuple[str, ...]:
        """The header's items, read with a regex of this test rather than the code under test."""
        titles = re.findall(rb"^ITEM INFORMATION:\s*(.+)$", self.submission_bytes(), re.M)
        codes = {
            code
            for title in titles
            for known, code in HEADER_TITLES.items()
            if title.decode().startswith(known)
        }
        return tuple(sorted(codes))


JPM = Recorded("19617", "0000019617-26-000241", "jpm-20260624.htm", 680_336)
META = Recorded("1326801", "0001628280-25-058337", "meta-20251219.htm", 179_965)
MMM = Recorded("66740", "0000066740-24-000023", "mmm-20240308.htm", 257_959)  # no index page
ABSENT = Recorded("19617", "0000019617-26-999999", "absent.htm", 50_000)


def feed_filing(recorded: Recorded, size_bytes: int | None, form_type: str = "8-K") -> Filing:
    """The filing as the live feed gives it: index_url in the feed's `-index.htm` form."""
    return Filing(
        accession_number=recorded.accession,
        form_type=form_type,
        accepted_at=dt.datetime(2026, 6, 25, 7, 59, 33, tzinfo=dt.timezone(dt.timedelta(hours=-4))),
        filed_date=dt.date(2026, 6, 25),
        entities=(Entity(cik=recorded.cik.zfill(10), name="A FILER", role="filer"),),
        index_url=f"{SEC}{recorded.index_paths[0]}",
        source=FilingSource.LIVE,
        detected_at=dt.datetime(2026, 6, 25, 12, 0, tzinfo=dt.UTC),
        size_bytes=size_bytes,
        items=("7.01",),  # deliberately unlike the documents', to see which source won
    )


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorHandle]:
    with run_emulator(CORPUS) as handle:
        yield handle


@pytest.fixture
def emulator(server: EmulatorHandle) -> EmulatorHandle:
    server.control.faults.clear()
    server.control.requests.clear()
    return server


def fetcher(
    edgar: EdgarClient, emulator: EmulatorHandle, max_document_bytes: int = MAX_BYTES
) -> DocumentFetcher:
    return DocumentFetcher(
        edgar, emulator.base_url, fetch_forms=FETCH_FORMS, max_document_bytes=max_document_bytes
    )


def requested(emulator: EmulatorHandle) -> list[tuple[str, int | None]]:
    return [(r.target, r.status) for r in emulator.control.requests.snapshot()]


def assert_readable(documents: FilingDocuments) -> None:
    assert documents.status is DocumentStatus.FETCHED
    assert documents.detail is None
    assert documents.text
    assert not MARKUP.search(documents.text), MARKUP.search(documents.text)
    assert "Departure of Directors" in documents.text
    assert "5.02" in documents.item_texts
    assert documents.item_texts["5.02"] in documents.text


@pytest.mark.asyncio
@pytest.mark.parametrize("recorded", [JPM, META], ids=["jpm", "meta"])
async def test_a_small_filing_is_read_from_its_complete_submission_in_one_request(
    recorded: Recorded, emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    filing = feed_filing(recorded, recorded.size_bytes)
    documents = await fetcher(edgar, emulator).fetch(filing)
    assert requested(emulator) == [(recorded.submission_path, 200)]
    assert_readable(documents)
    assert documents.document_url == emulator.base_url + recorded.submission_path
    assert documents.items == recorded.header_items() == ("5.02",)
    assert documents.to_avro_fields() == {
        "document_url": documents.document_url,
        "document_status": "fetched",
        "document_detail": None,
        "items": ["5.02"],
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("size_bytes", [None, 10 * MAX_BYTES], ids=["unknown", "too-big"])
@pytest.mark.parametrize(
    ("recorded", "exhibits", "items"),
    [
        # JPM's index lists an EX-99.1 the corpus did not record: EDGAR answers 404 for it.
        (JPM, ["jpmcpressrelease06252026.htm"], ("5.02", "9.01")),
        (META, [], ("5.02",)),
    ],
    ids=["jpm", "meta"],
)
async def test_otherwise_the_index_page_and_the_primary_document_are_read(
    recorded: Recorded,
    exhibits: list[str],
    items: tuple[str, ...],
    size_bytes: int | None,
    emulator: EmulatorHandle,
    edgar: EdgarClient,
) -> None:
    documents = await fetcher(edgar, emulator).fetch(feed_filing(recorded, size_bytes))
    feed_index, older_index = recorded.index_paths
    primary = f"{recorded.folder}/{recorded.primary}"
    assert requested(emulator) == [
        (feed_index, 404),  # the corpus recorded only the older form
        (older_index, 200),
        (primary, 200),
        *[(f"{recorded.folder}/{name}", 404) for name in exhibits],
    ]
    assert_readable(documents)
    assert documents.document_url == emulator.base_url + primary
    assert documents.text == html_to_text(archive_file(primary).read_bytes()).text
    assert documents.items == items  # no header on this path: the document's own headings


@pytest.mark.asyncio
async def test_without_an_index_page_the_complete_submission_is_read_with_its_press_release(
    emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    documents = await fetcher(edgar, emulator).fetch(feed_filing(MMM, None))
    assert requested(emulator) == [
        (MMM.index_paths[0], 404),
        (MMM.index_paths[1], 404),
        (MMM.submission_path, 200),
    ]
    assert documents.status is DocumentStatus.FETCHED
    assert documents.items == MMM.header_items() == ("8.01",)
    [release] = parse_submission(MMM.submission_bytes()).documents_of_type("EX-99")
    release_text = release.text()
    assert release_text is not None
    assert documents.text is not None
    primary_text, heading, appended = documents.text.partition(
        "\n" + EXHIBIT_HEADING.format(type="EX-99.1") + "\n"
    )
    assert heading
    assert appended == release_text.text
    assert "Item 8.01" in primary_text
    assert set(documents.item_texts) == {"8.01", "9.01"}  # the release's lines are in no item


@pytest.mark.asyncio
@pytest.mark.parametrize("size_bytes", [None, 50_000], ids=["index-first", "submission-first"])
async def test_a_filing_edgar_does_not_have_is_not_found_after_three_requests(
    size_bytes: int | None, emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    filing = feed_filing(ABSENT, size_bytes, form_type="8-K/A")  # matched on its base form
    documents = await fetcher(edgar, emulator).fetch(filing)
    assert sorted(requested(emulator)) == sorted(
        [(ABSENT.submission_path, 404), *((path, 404) for path in ABSENT.index_paths)]
    )
    assert documents.status is DocumentStatus.NOT_FOUND
    assert documents.document_url is None
    assert documents.text is None
    assert documents.detail is not None
    assert ABSENT.submission_path in documents.detail
    assert documents.items == filing.items  # the feed's, the best there is


@pytest.mark.asyncio
async def test_a_form_not_fetched_is_skipped_without_a_request(
    emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    documents = await fetcher(edgar, emulator).fetch(feed_filing(JPM, 1000, form_type="4"))
    assert documents.status is DocumentStatus.SKIPPED
    assert documents.to_avro_fields()["document_status"] == "skipped"
    assert requested(emulator) == []


@pytest.mark.asyncio
async def test_a_rate_limited_answer_is_retried(
    emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    emulator.control.faults.add(
        Fault(FaultKind.RATE_LIMITED, path_prefix=JPM.submission_path, retry_after=0)
    )
    documents = await fetcher(edgar, emulator).fetch(feed_filing(JPM, JPM.size_bytes))
    assert documents.status is DocumentStatus.FETCHED
    assert requested(emulator) == [(JPM.submission_path, 429), (JPM.submission_path, 200)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kind", "attempts", "reason"),
    [
        (FaultKind.RATE_LIMITED, 2, "429"),
        (FaultKind.RESET, 2, "failed 2 times"),
        (FaultKind.FORBIDDEN, 1, "EDGAR_USER_AGENT"),  # a refusal is not retried
    ],
)
async def test_edgar_failing_after_retries_is_an_error_and_no_other_way_is_tried(
    kind: FaultKind, attempts: int, reason: str, emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    emulator.control.faults.add(
        Fault(kind, path_prefix=JPM.submission_path, count=attempts, retry_after=0)
    )
    documents = await fetcher(edgar, emulator).fetch(feed_filing(JPM, JPM.size_bytes))
    assert documents.status is DocumentStatus.ERROR
    assert documents.detail is not None
    assert reason in documents.detail
    assert documents.text is None
    assert [target for target, _ in requested(emulator)] == [JPM.submission_path] * attempts


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", [FaultKind.MALFORMED, FaultKind.TRUNCATE])
async def test_an_unreadable_complete_submission_falls_back_to_the_index_page(
    kind: FaultKind, emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    emulator.control.faults.add(Fault(kind, path_prefix=JPM.submission_path))
    documents = await fetcher(edgar, emulator).fetch(feed_filing(JPM, JPM.size_bytes))
    assert documents.status is DocumentStatus.FETCHED
    assert documents.document_url == f"{emulator.base_url}{JPM.folder}/{JPM.primary}"
    assert [target for target, _ in requested(emulator)][:2] == [
        JPM.submission_path,
        JPM.index_paths[0],
    ]


@pytest.mark.asyncio
async def test_nothing_readable_anywhere_is_an_error(
    emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    folder = f"/Archives/edgar/data/{JPM.cik}/"  # the error page for every path of the filing
    emulator.control.faults.add(Fault(FaultKind.MALFORMED, path_prefix=folder, count=10))
    documents = await fetcher(edgar, emulator).fetch(feed_filing(JPM, JPM.size_bytes))
    assert documents.status is DocumentStatus.ERROR
    assert documents.detail is not None
    assert "not an EDGAR submission" in documents.detail
    assert "not an EDGAR filing index page" in documents.detail
    assert [target for target, _ in requested(emulator)] == [
        JPM.submission_path,
        JPM.index_paths[0],
    ]


@pytest.mark.asyncio
async def test_long_documents_are_cut_and_still_fetched(
    emulator: EmulatorHandle, edgar: EdgarClient
) -> None:
    documents = await fetcher(edgar, emulator, max_document_bytes=2_000).fetch(
        feed_filing(JPM, None)
    )
    assert documents.status is DocumentStatus.FETCHED
    assert documents.detail is None
    assert documents.text is not None
    full = html_to_text(archive_file(f"{JPM.folder}/{JPM.primary}").read_bytes())
    assert 1_000 <= len(documents.text) <= 2_000
    assert full.text.startswith(documents.text + "\n")  # cut at a line end


@pytest.mark.asyncio
async def test_a_closed_edgar_client_raises(emulator: EmulatorHandle) -> None:
    async with EdgarClient(
        user_agent="sec-digester tests tests@example.com", limiter=RequestLimiter(10)
    ) as edgar:
        documents = fetcher(edgar, emulator)
    with pytest.raises(RuntimeError):
        await documents.fetch(feed_filing(JPM, JPM.size_bytes))
