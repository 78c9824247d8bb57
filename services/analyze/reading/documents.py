"""The document side of analyze: what EDGAR's archive holds for a filing, read as text.

Fetch strategy. EDGAR's archive offers a filing two ways, and either may be missing:
- the complete submission, /Archives/edgar/data/<cik>/<accession-no-dashes>/<accession>.txt:
  the SGML header (with `ITEM INFORMATION:` lines for 8-Ks) and every document, one request;
- the filing index page, `<folder>/<accession>-index.htm` as the feed links it, or the older
  `/Archives/edgar/data/<cik>/<accession>-index.html` (tried second), listing the documents,
  which then cost one request each.
SEC's rate limit is the scarce resource, so the complete submission comes first when the
filing's size is known and below `max_document_bytes` (one request, and the header's items);
otherwise (too big, or size unknown) the index page is read and only the primary document (the
row whose Type is the form type, else sequence 1) and the EX-99 exhibits are fetched. When the
first way finds nothing, the other is tried. Where the files are: documents_index.locate.

Outcomes. fetched: text was read. not_found: every way answered 404 (the filing is analyzed
from its metadata). skipped: the form is not in `fetch_forms` (matched on the base form, so
8-K/A goes with 8-K); no request is made. error: EDGAR failed after EdgarClient's retries (no
other way is tried then: more requests to a failing EDGAR only make it worse), or what answered
was not a readable document. An unreadable answer (an error page served with 200, a truncated
submission) is treated like a missing one first: the other way is tried, and the outcome is
error only if that does not yield a document either. Per-filing problems never raise; a broken
EDGAR client (closed, misused) does.

Forms whose primary document is XML (families.xml_parser_for: Forms 3, 4, 5, Schedules 13D
and 13G since 2024-12-18, Form 144, and their amendments): in the complete submission the
document of the form's type (its `<XML>` block), on the index page the row of the form's type
whose file is the .xml itself (EDGAR lists the same file a second time under an xsl.. folder,
rendered as HTML: not that one). It is parsed by its family's parser into `parsed`; the text is
the prose it holds (an ownership document's footnotes and remarks, a 13D's purpose). An XML that
cannot be parsed is an unreadable answer, as above.

XBRL (10-Q, 10-K, 10-QT, 10-KT, 20-F, 40-F and amendments): the primary document is read as
text as for any form, and its XBRL is parsed into `financials`. A primary document in inline
XBRL (every large filer's since 2019-2021) is the XBRL: it was fetched for its text already,
so reading it costs no request, where the extracted instance the index page lists would cost
one more of about the same size. Only a filing without inline XBRL has its instance fetched: the
EX-101.INS document in the complete submission, or the index page's instance row (one request).
XBRL that cannot be read leaves `financials` None with the reason in `detail`: the text and the
other facts stand.

Text. The primary document's text, then each EX-99 exhibit's (at most three, current reports
(8-K, 6-K) only: the press release carries the numbers) after an `EXHIBIT_HEADING` line.
Exhibits that are missing or have no text (scanned pages) are left out. Each document's text
is cut at `max_document_bytes` characters, at a line end; the status stays fetched and the
detail None (the schema keeps detail for documents that could not be read). Items (8-Ks only)
come from the header's `ITEM INFORMATION:` lines when the complete submission was read, else
from the primary document's headings (items.detect_items), else they are the filing's own
(the feed's); item sections come from the primary document, where the item headings are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog

from services.analyze.reading.documents_index import (
    FilingLocation,
    IndexedDocument,
    base_form,
    locate,
    parse_index_page,
    select_documents,
    select_xbrl_instance,
    select_xml_document,
)
from services.analyze.reading.families import Family, XmlFacts, family_of, xml_parser_for
from services.analyze.reading.forms.beneficial_ownership import Stake
from services.analyze.reading.forms.financials import Financials, parse_financials
from services.analyze.reading.forms.ownership import Ownership
from services.analyze.reading.items import detect_items, item_sections
from services.analyze.reading.text import (
    ExtractedText,
    Submission,
    SubmissionDocument,
    decode,
    extract_text,
    parse_submission,
)
from services.common.edgar import EdgarClient, EdgarResponse
from services.common.errors import SerializationError, UpstreamError
from services.common.records import Filing

log = structlog.get_logger(__name__)

EXHIBIT_HEADING = "=== {type} ==="  # a line of its own before each appended exhibit's text
_ITEM_FORMS = frozenset({"8-K"})  # base forms whose items are 8-K item codes
_READABLE_SUFFIXES = (".htm", ".html", ".txt")
_INLINE_XBRL = re.compile(r"<ix:header\b", re.IGNORECASE)
_XBRL_INSTANCE_TYPE = "EX-101.INS"


class DocumentStatus(StrEnum):
    """The DocumentStatus enum of FilingAnalysis.avsc."""

    FETCHED = "fetched"
    NOT_FOUND = "not_found"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FilingDocuments:
    status: DocumentStatus
    document_url: str | None = None  # what the text was read from: primary document or .txt
    detail: str | None = None  # why nothing was read, when status is not fetched
    text: str | None = None  # None unless fetched
    items: tuple[str, ...] = ()  # 8-K item codes, as best known
    item_texts: Mapping[str, str] = field(default_factory=dict)  # item code -> section text
    parsed: XmlFacts | None = None  # the parsed XML primary document (families.xml_parser_for)
    financials: Financials | None = None  # a periodic report's XBRL

    @property
    def ownership(self) -> Ownership | None:
        return self.parsed if isinstance(self.parsed, Ownership) else None

    def to_avro_fields(self) -> dict[str, Any]:
        """The document_url, document_status, document_detail and items of FilingAnalysis."""
        return {
            "document_url": self.document_url,
            "document_status": self.status.value,
            "document_detail": self.detail,
            "items": list(self.items),
        }


@dataclass(frozen=True, slots=True)
class _Miss:
    """A way that yielded no document: nothing there (404), or an error (EDGAR failed, or what
    it answered could not be read)."""

    detail: str
    is_error: bool


class DocumentFetcher:
    def __init__(
        self,
        edgar: EdgarClient,
        base_url: str,
        *,
        fetch_forms: frozenset[str],
        max_document_bytes: int,
    ) -> None:
        if max_document_bytes < 1:
            raise ValueError("max_document_bytes must be positive")
        self._edgar = edgar
        self._base_url = base_url.rstrip("/")
        self._fetch_forms = frozenset(base_form(form) for form in fetch_forms)
        self._max_bytes = max_document_bytes

    async def fetch(self, filing: Filing) -> FilingDocuments:
        if base_form(filing.form_type) not in self._fetch_forms:
            detail = f"form {filing.form_type} is not in fetch_forms"
            return FilingDocuments(DocumentStatus.SKIPPED, detail=detail, items=filing.items)
        location = locate(filing, self._base_url)
        if location is None:
            detail = "no CIK in index_url or entities to find the filing's folder"
            return FilingDocuments(DocumentStatus.ERROR, detail=detail, items=filing.items)
        ways = [self._from_submission, self._from_index_page]
        if filing.size_bytes is None or filing.size_bytes >= self._max_bytes:
            ways.reverse()
        misses: list[_Miss] = []
        try:
            for way in ways:
                outcome = await way(filing, location)
                if isinstance(outcome, FilingDocuments):
                    return outcome
                misses.append(outcome)
        except UpstreamError as exc:  # not a 404: EDGAR failed or refused after retries
            misses = [_Miss(str(exc), is_error=True)]
        status = (
            DocumentStatus.ERROR if any(m.is_error for m in misses) else DocumentStatus.NOT_FOUND
        )
        detail = "; ".join(miss.detail for miss in misses)
        log.info("filing documents not read", accession=filing.accession_number, detail=detail)
        return FilingDocuments(status, detail=detail, items=filing.items)

    async def _get(self, url: str) -> EdgarResponse | None:
        """The answer, or None for a 404."""
        response = await self._edgar.get(url, not_found_ok=True)
        return None if response.status == 404 else response

    async def _first_found(self, urls: Sequence[str]) -> EdgarResponse | None:
        for url in urls:
            if found := await self._get(url):
                return found
        return None

    async def _from_submission(
        self, filing: Filing, location: FilingLocation
    ) -> FilingDocuments | _Miss:
        response = await self._get(location.submission)
        if response is None:
            return _Miss(f"{location.submission}: not found", is_error=False)
        try:
            # Parsing a large document takes a while: off the event loop, so other filings'
            # requests and the Kafka client's work go on meanwhile.
            return await asyncio.to_thread(self._read_submission, filing, response)
        except SerializationError as exc:
            return _Miss(f"{location.submission}: {exc}", is_error=True)

    def _read_submission(self, filing: Filing, response: EdgarResponse) -> FilingDocuments:
        submission = parse_submission(response.body)
        primary, exhibits = select_documents(submission.documents, filing.form_type)
        if primary is None:
            raise SerializationError("the submission holds no primary document")
        if parse := xml_parser_for(filing.form_type):
            return _xml_documents(response.url, parse(primary.body, filing.form_type))
        documents = self._fetched(
            filing,
            response.url,
            primary.text(),
            [(exhibit.type, exhibit.text()) for exhibit in exhibits],
            submission.header.item_titles,
        )
        if family_of(filing.form_type) is not Family.FINANCIALS:
            return documents
        instance = _submission_xbrl(submission, primary)
        return _with_financials(documents, response.url, *instance) if instance else documents

    async def _from_index_page(
        self, filing: Filing, location: FilingLocation
    ) -> FilingDocuments | _Miss:
        page = await self._first_found(location.index_pages)
        if page is None:
            return _Miss(f"{' and '.join(location.index_pages)}: not found", is_error=False)
        try:
            listed = parse_index_page(page.body, location.folder_path)
        except SerializationError as exc:
            return _Miss(f"{page.url}: {exc}", is_error=True)
        parse = xml_parser_for(filing.form_type)
        primary, exhibits = (
            (select_xml_document(listed, filing.form_type), [])
            if parse
            else select_documents(listed, filing.form_type)
        )
        if primary is None:
            return _Miss(f"{page.url}: lists no primary document", is_error=True)
        document = await self._get(self._base_url + primary.path)
        if document is None:
            return _Miss(f"{self._base_url}{primary.path}: not found", is_error=False)
        if parse:
            try:
                return _xml_documents(document.url, parse(document.body, filing.form_type))
            except SerializationError as exc:
                return _Miss(f"{document.url}: {exc}", is_error=True)
        found: list[tuple[str, str, EdgarResponse]] = []
        # A graphic or PDF exhibit has no text: not worth a request.
        for exhibit in (ex for ex in exhibits if ex.filename.lower().endswith(_READABLE_SUFFIXES)):
            if answer := await self._get(self._base_url + exhibit.path):
                found.append((exhibit.type, exhibit.filename, answer))
        try:
            documents = await asyncio.to_thread(
                self._read_documents, filing, (primary.filename, document), found
            )
        except SerializationError as exc:
            return _Miss(f"{document.url}: {exc}", is_error=True)
        if family_of(filing.form_type) is not Family.FINANCIALS:
            return documents
        return await self._index_page_xbrl(documents, document, listed)

    async def _index_page_xbrl(
        self,
        documents: FilingDocuments,
        primary: EdgarResponse,
        listed: Sequence[IndexedDocument],
    ) -> FilingDocuments:
        """The financials of the inline primary document, else of the listed instance."""
        if _is_inline(primary.body):
            return await asyncio.to_thread(
                _with_financials, documents, primary.url, primary.body, True
            )
        row = select_xbrl_instance(listed)
        if row is None:
            return documents
        instance = await self._get(self._base_url + row.path)
        if instance is None:
            detail = f"XBRL {self._base_url}{row.path}: not found"
            return dataclasses.replace(documents, detail=detail)
        return await asyncio.to_thread(
            _with_financials, documents, instance.url, instance.body, False
        )

    def _read_documents(
        self,
        filing: Filing,
        primary: tuple[str, EdgarResponse],
        exhibits: Sequence[tuple[str, str, EdgarResponse]],
    ) -> FilingDocuments:
        filename, response = primary
        return self._fetched(
            filing,
            response.url,
            extract_text(response.body, filename),
            [(kind, extract_text(answer.body, name)) for kind, name, answer in exhibits],
            (),
        )

    def _fetched(
        self,
        filing: Filing,
        url: str,
        primary: ExtractedText | None,
        exhibits: Sequence[tuple[str, ExtractedText | None]],
        item_titles: Sequence[str],
    ) -> FilingDocuments:
        primary_text = self._cut(primary.text if primary else "")
        parts = [primary_text] if primary_text else []
        for exhibit_type, exhibit in exhibits:
            if exhibit and exhibit.text:
                parts += [EXHIBIT_HEADING.format(type=exhibit_type), self._cut(exhibit.text)]
        items: tuple[str, ...] = ()
        item_texts: dict[str, str] = {}
        if base_form(filing.form_type) in _ITEM_FORMS:
            items = detect_items(item_titles, primary_text)
            item_texts = item_sections(primary_text)
        return FilingDocuments(
            DocumentStatus.FETCHED,
            document_url=url,
            text="\n".join(parts),
            items=items or filing.items,
            item_texts=item_texts,
        )

    def _cut(self, text: str) -> str:
        """At most max_document_bytes characters, ending at a line end when one is near."""
        if len(text) <= self._max_bytes:
            return text
        kept = text[: self._max_bytes]
        line_end = kept.rfind("\n")
        return kept[:line_end] if line_end >= self._max_bytes // 2 else kept


def prose_of(parsed: XmlFacts) -> list[str]:
    """The prose an XML document holds, for the analyzer's text."""
    if isinstance(parsed, Ownership):
        return [*parsed.footnotes.values(), *([parsed.remarks] if parsed.remarks else [])]
    if isinstance(parsed, Stake):
        return [parsed.purpose] if parsed.purpose else []
    return []


def _xml_documents(url: str, parsed: XmlFacts) -> FilingDocuments:
    return FilingDocuments(
        DocumentStatus.FETCHED, document_url=url, text="\n".join(prose_of(parsed)), parsed=parsed
    )


def _is_inline(body: str | bytes) -> bool:
    return bool(_INLINE_XBRL.search(decode(body) if isinstance(body, bytes) else body))


def _submission_xbrl(
    submission: Submission, primary: SubmissionDocument
) -> tuple[str, bool] | None:
    """The XBRL of a complete submission, with whether it is inline: the primary document
    when it is inline XBRL, else its EX-101.INS instance; None when it has neither."""
    if _is_inline(primary.body):
        return primary.body, True
    instance = next(
        (doc for doc in submission.documents if doc.type.upper() == _XBRL_INSTANCE_TYPE), None
    )
    return (instance.body, False) if instance else None


def _with_financials(
    documents: FilingDocuments, url: str, xbrl: str | bytes, inline: bool
) -> FilingDocuments:
    """The documents with the financials of `xbrl`; unreadable XBRL leaves them None and says
    why in `detail` (the text and other facts stand)."""
    try:
        financials = parse_financials(xbrl, inline=inline)
    except SerializationError as exc:
        log.warning("XBRL not read", url=url, error=str(exc))
        return dataclasses.replace(documents, detail=f"XBRL {url}: {exc}")
    return dataclasses.replace(documents, financials=financials)
