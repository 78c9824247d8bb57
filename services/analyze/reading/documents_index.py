"""A filing's documents on EDGAR: where they are, what the filing index page lists, and which
of them analyze reads (the same rule for the index page and the complete submission).

Where: the folder /Archives/edgar/data/<cik>/<accession-no-dashes>/ holds the complete
submission (<accession>.txt), every document and the index page <accession>-index.htm (the
feed's link); the older index URL /Archives/edgar/data/<cik>/<accession>-index.html (the one the
corpus recorded) is still served. The CIK folder is the one in the filing's index_url (a filing
of several entities is in each one's folder), else the first entity's.

Which documents: the primary document is the one whose type is the form type, else sequence 1;
then, for current reports (8-K, 6-K: the press release with the numbers is an EX-99), the EX-99
exhibits in listing order, at most three.

What real index pages look like (samples/edgar-corpus/.../<accession>-index.html):
- The documents are rows of `table.tableFile` tables: "Document Format Files" (what people
  read, then the "Complete submission text file" row) and "Data Files" (XBRL). Both are read.
- Columns are found by their header text (Seq, Description, Document, Type, Size), not by
  position, so a reordered or extra column does not shift the fields.
- Seq and Type are blank (&nbsp;) on the complete submission row; Seq numbers skip, because
  the XBRL viewer's files (R1.htm, report.css) count in "Documents" but are not listed.
- The Description is free text ("FORM 8-K", "PRESS RELEASE DATED ..."): the Type column, not
  the Description, says what a document is.
- Links are relative to www.sec.gov. Inline XBRL documents are linked through the viewer,
  `/ix?doc=/Archives/edgar/data/...`: the document itself is the `doc` parameter.
- A page without a document table (an error page served with 200, a truncated page) raises
  `SerializationError`, like every other unreadable document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.analyze.reading.text import decode
from services.common.errors import SerializationError
from services.common.records import Filing

_VIEWER_PATHS = frozenset({"/ix", "/ix.xhtml"})  # the inline XBRL viewer
_REQUIRED_COLUMNS = ("document", "type")
_EXHIBIT_FORMS = frozenset({"8-K", "6-K"})  # base forms whose EX-99 exhibits are read
_EXHIBIT_PREFIX = "EX-99"
_MAX_EXHIBITS = 3
_CIK_FOLDER = re.compile(r"/Archives/edgar/data/(\d+)/")


@dataclass(frozen=True, slots=True)
class FilingLocation:
    folder_path: str  # /Archives/edgar/data/<cik>/<accession-no-dashes>
    submission: str  # URL of the complete submission
    index_pages: tuple[str, str]  # URLs of the index page: the feed's form, the older form


def locate(filing: Filing, base_url: str) -> FilingLocation | None:
    """Where the filing's documents are under `base_url`; None without any CIK to go by."""
    folder = _CIK_FOLDER.search(filing.index_url)
    cik = folder.group(1) if folder else (filing.entities[0].cik if filing.entities else "")
    if not cik.strip("0"):
        return None
    base, accession = base_url.rstrip("/"), filing.accession_number
    cik_path = f"/Archives/edgar/data/{int(cik)}"
    folder_path = f"{cik_path}/{filing.accession_no_dashes}"
    return FilingLocation(
        folder_path=folder_path,
        submission=f"{base}{folder_path}/{accession}.txt",
        index_pages=(
            f"{base}{folder_path}/{accession}-index.htm",
            f"{base}{cik_path}/{accession}-index.html",
        ),
    )


@dataclass(frozen=True, slots=True)
class IndexedDocument:
    sequence: int | None  # None on the complete submission row
    description: str
    type: str  # 8-K, EX-99.1, GRAPHIC, EX-101.SCH; "" on the complete submission row
    filename: str
    path: str  # on www.sec.gov, e.g. /Archives/edgar/data/19617/000001961726000241/jpm.htm
    size_bytes: int | None


def parse_index_page(page: str | bytes, folder_path: str) -> tuple[IndexedDocument, ...]:
    """Every document row of the page, in page order. `folder_path` is the filing's folder on
    www.sec.gov (/Archives/edgar/data/<cik>/<accession-no-dashes>), for relative links."""
    tree = LexborHTMLParser(decode(page) if isinstance(page, bytes) else page)
    documents: list[IndexedDocument] = []
    tables = 0
    for table in tree.css("table.tableFile"):
        rows = table.css("tr")
        columns = _columns(rows[0]) if rows else {}
        if not all(name in columns for name in _REQUIRED_COLUMNS):
            continue
        tables += 1
        for row in rows[1:]:
            document = _document(row, columns, folder_path)
            if document is not None:
                documents.append(document)
    if not tables:
        raise SerializationError("not an EDGAR filing index page: no document table")
    return tuple(documents)


def _cell_text(cell: LexborNode) -> str:
    return " ".join((cell.text(deep=True) or "").split())


def _columns(header: LexborNode) -> dict[str, int]:
    """Column index by lower-case header text: seq, description, document, type, size."""
    return {_cell_text(cell).lower(): index for index, cell in enumerate(header.css("th"))}


def _document(row: LexborNode, columns: dict[str, int], folder_path: str) -> IndexedDocument | None:
    cells = row.css("td")

    def field(name: str) -> str:
        index = columns.get(name)
        return _cell_text(cells[index]) if index is not None and index < len(cells) else ""

    document_index = columns["document"]
    link = cells[document_index].css_first("a[href]") if document_index < len(cells) else None
    href = link.attributes.get("href") if link is not None else None
    if link is None or not href:
        return None  # a header repeated inside the table, or a row without a document
    path = document_path(href, folder_path)
    sequence, size = field("seq"), field("size")
    return IndexedDocument(
        sequence=int(sequence) if sequence.isdecimal() else None,
        description=field("description"),
        type=field("type"),
        filename=_cell_text(link) or path.rsplit("/", 1)[-1],
        path=path,
        size_bytes=int(size) if size.isdecimal() else None,
    )


def document_path(href: str, folder_path: str) -> str:
    """The www.sec.gov path of a document link: the inline XBRL viewer's `doc` parameter when
    linked through it, the host of an absolute link dropped (the caller chooses the host),
    a relative link taken as relative to the filing's folder."""
    link = urlsplit(href)
    if link.path.rstrip("/") in _VIEWER_PATHS:
        inner = parse_qs(link.query).get("doc")
        if inner:
            link = urlsplit(inner[0])
    return urljoin(folder_path.rstrip("/") + "/", link.path)


def base_form(form_type: str) -> str:
    """The form an amendment amends: "8-K/A" -> "8-K"; upper case, single spaces."""
    return " ".join(form_type.upper().split()).removesuffix("/A")


class ListedDocument(Protocol):
    """What selection needs of a document: an index page row or a submission's document."""

    @property
    def type(self) -> str: ...

    @property
    def sequence(self) -> int | None: ...


Listed = TypeVar("Listed", bound=ListedDocument)


def select_documents(
    documents: Sequence[Listed], form_type: str
) -> tuple[Listed | None, list[Listed]]:
    """The primary document (None when there is none) and the exhibits to read with it."""
    form = " ".join(form_type.upper().split())
    primary = next((doc for doc in documents if doc.type.upper() == form), None) or next(
        (doc for doc in documents if doc.sequence == 1), None
    )
    if base_form(form_type) not in _EXHIBIT_FORMS:
        return primary, []
    exhibits = [doc for doc in documents if doc.type.upper().startswith(_EXHIBIT_PREFIX)]
    return primary, [doc for doc in exhibits if doc is not primary][:_MAX_EXHIBITS]


def select_xml_document(
    documents: Sequence[IndexedDocument], form_type: str
) -> IndexedDocument | None:
    """The XML primary document of a Form 3, 4, 5, Schedule 13D or 13G, or Form 144 among an
    index page's rows: of the form's type, an .xml file, not the copy EDGAR renders through a
    stylesheet (under xslF345X../, xslSCHEDULE_13D_X01/, ...)."""
    form = " ".join(form_type.upper().split())
    xml = [
        doc
        for doc in documents
        if doc.filename.lower().endswith(".xml") and "/xsl" not in doc.path.lower()
    ]
    return next((doc for doc in xml if doc.type.upper() == form), None) or next(
        (doc for doc in xml if doc.sequence == 1), None
    )


def select_xbrl_instance(documents: Sequence[IndexedDocument]) -> IndexedDocument | None:
    """The XBRL instance among an index page's rows: the EX-101.INS document of a filing made
    before inline XBRL, else the instance EDGAR extracts from an inline one (its row has type
    XML and the description "EXTRACTED XBRL INSTANCE DOCUMENT")."""
    xml = [doc for doc in documents if doc.filename.lower().endswith(".xml")]
    return next((doc for doc in xml if doc.type.upper() == "EX-101.INS"), None) or next(
        (doc for doc in xml if "INSTANCE" in doc.description.upper()), None
    )
