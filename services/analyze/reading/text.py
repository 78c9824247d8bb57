"""Readable text out of EDGAR documents: HTML (inline XBRL included), plain text, and the
complete SGML submission (`<accession>.txt`) that carries the SEC-HEADER and every document.

Rules:
- The text keeps the reading structure of the page and nothing else: one line per block
  (paragraph, div, table row, list item), table cells joined by a space, whitespace and
  entities (`&#160;`, zero-width spaces) folded to single spaces, empty lines dropped.
- What a reader never sees is dropped: scripts, styles, the document head, and the inline-XBRL
  `ix:header` (hidden facts, contexts) with the `display:none` wrapper EDGAR tools put round it.
- Plain-text documents keep their lines; a paragraph of hard-wrapped prose becomes one line, so
  sentences are not cut at the wrap.
- Sentences are cut at ". ", "! " and "? " before a capital, digit or quote, except after
  abbreviations and initials ("Inc.", "No.", "U.S.", "Gary S. Shedlin"); never across lines.
- Uuencoded binaries (graphics, PDF, Excel, ZIP) and XML data (XBRL, schemas) have no text.
- Malformed input raises `SerializationError` (and nothing else): a submission without its
  header, accession number or form type, or one cut off inside a document.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser

from services.common.errors import SerializationError
from services.common.records import Entity


class BodyKind(StrEnum):
    HTML = "html"
    PLAIN = "plain"
    DATA = "data"  # XML, XBRL, schemas, scripts: machine data, no prose
    BINARY = "binary"  # uuencoded graphics, PDF, spreadsheets, archives


@dataclass(frozen=True, slots=True)
class ExtractedText:
    text: str  # lines joined by "\n"; no markup, no empty lines
    kind: BodyKind


@dataclass(frozen=True, slots=True)
class SubmissionDocument:
    type: str  # EX-99.1, 8-K, GRAPHIC, ...
    sequence: int | None
    filename: str
    description: str
    body: str  # the TEXT content, outer <XBRL>/<XML>/<PDF> wrapper removed
    kind: BodyKind

    def text(self) -> ExtractedText | None:
        """The readable text, or None for data and binaries. Parsed on every call: keep it."""
        if self.kind is BodyKind.HTML:
            return html_to_text(self.body)
        if self.kind is BodyKind.PLAIN:
            return plain_to_text(self.body)
        return None


@dataclass(frozen=True, slots=True)
class SubmissionHeader:
    accession_number: str
    form_type: str
    filed_date: dt.date | None
    accepted_at: dt.datetime | None  # EDGAR's US Eastern acceptance time, timezone-aware
    item_titles: tuple[str, ...]  # the ITEM INFORMATION lines, in order
    entities: tuple[Entity, ...]  # roles as on the feed: filer, subject, filed by, ...


@dataclass(frozen=True, slots=True)
class Submission:
    header: SubmissionHeader
    documents: tuple[SubmissionDocument, ...]

    def documents_of_type(self, prefix: str) -> list[SubmissionDocument]:
        """Documents whose type starts with `prefix` (e.g. "EX-99" for press releases)."""
        return [doc for doc in self.documents if doc.type.upper().startswith(prefix.upper())]


_EDGAR_TIME = ZoneInfo("America/New_York")
# One string: a column of 32 tag names would hide the point.
_BLOCK_TAGS = frozenset(
    "address article blockquote body br caption center dd div dl dt footer form h1 h2 h3 h4 h5 "  # noqa: SIM905
    "h6 header hr li ol p pre section table tbody tfoot thead tr ul".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_INVISIBLE = (
    r'script, style, head, noscript, template, ix\:header, [style*="display:none" i], '
    r'[style*="display: none" i]'
)
_BREAK = "\x1e"  # marks a block boundary while text nodes are joined; removed from input first
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
# Our marker, soft hyphens and control characters go. C1 controls in place of Windows-1252
# punctuation (a cp1252 document once decoded as Latin-1, then saved as UTF-8: real releases
# carry them) become that punctuation.
_CP1252_PUNCTUATION = {
    "\x85": "\u2026",
    "\x91": "\u2018",
    "\x92": "\u2019",
    "\x93": "\u201c",
    "\x94": "\u201d",
    "\x96": "\u2013",
    "\x97": "\u2014",
}
_CONTROL_CODES = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_CONTROLS = "".join(chr(c) for c in _CONTROL_CODES if chr(c) not in _CP1252_PUNCTUATION)
_DROPPED_CHARS = str.maketrans(_CP1252_PUNCTUATION | dict.fromkeys(_CONTROLS + "\xad"))
_PLAIN_MARKUP = re.compile(r"</?(?:PAGE|TABLE|CAPTION|S|C|FN)>", re.IGNORECASE)
_TABLE_GAP = re.compile(r"\S {3,}\S")  # aligned columns of a plain-text table
_UUENCODED = re.compile(r"begin [0-7]{3} ")
_WRAPPERS = ("XBRL", "XML", "PDF")
_DATA_SUFFIXES = (".xml", ".xsd", ".js", ".json", ".css")
_SENTENCE_END = re.compile(r"[.!?][\"\u201d\u2019)]*(?P<gap>\s+)(?=[\"\u201c(]?[A-Z0-9$])")
_ABBREVIATED = re.compile(
    r"(?:\b[A-Z]|\b(?:Inc|Corp|Co|Ltd|No|Nos|Mr|Mrs|Ms|Dr|Jr|Sr|St|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug"
    r"|Sep|Sept|Oct|Nov|Dec|U\.S|L\.P|N\.A|approx|e\.g|i\.e|etc|Messrs))\.[\"\u201d\u2019)]*$"
)
_HEADER_FIELD = re.compile(r"<([A-Z-]+)>(.*)")
# SGML header section name -> the role label EDGAR's feed uses for the same entity.
_SECTION_ROLES = {
    "FILER": "filer",
    "SUBJECT COMPANY": "subject",
    "FILED BY": "filed by",
    "REPORTING-OWNER": "reporting",
    "ISSUER": "issuer",
}


def decode(data: bytes) -> str:
    """EDGAR documents are UTF-8 or ASCII, older ones Windows-1252; never fails."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _clean_lines(raw: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split(_BREAK))
    return "\n".join(line for line in lines if line)


def sentences(text: str) -> list[str]:
    """The sentences of extracted text, in order."""
    found: list[str] = []
    for line in text.split("\n"):
        start = 0
        for end in _SENTENCE_END.finditer(line):
            if not _ABBREVIATED.search(line, max(start, end.start() - 12), end.start("gap")):
                found.append(line[start : end.start("gap")])
                start = end.end()
        found.append(line[start:])
    return [sentence for sentence in found if sentence]


def html_to_text(html: str | bytes) -> ExtractedText:
    source = decode(html) if isinstance(html, bytes) else html
    tree = LexborHTMLParser(source.translate(_DROPPED_CHARS))
    for node in tree.css(_INVISIBLE):
        node.decompose()
    for node in tree.css("pre"):  # preformatted text keeps its own line breaks
        node.replace_with((node.text() or "").replace("\n", _BREAK))
    pieces: list[str] = []
    # Lexbor yields nodes in document order without end events, so a line break is written
    # when a block starts and when a node follows a block sibling (text after a closed <p>).
    body = tree.body
    for node in body.traverse(include_text=True) if body else ():
        tag = node.tag
        if tag in _BLOCK_TAGS:
            pieces.append(_BREAK)
            continue
        previous = node.prev
        if previous is not None and previous.tag in _BLOCK_TAGS:
            pieces.append(_BREAK)
        if tag == "-text":
            pieces.append(node.text_content or "")
        elif tag in _CELL_TAGS:
            pieces.append(" ")
    return ExtractedText(_clean_lines("".join(pieces)), BodyKind.HTML)


def plain_to_text(text: str | bytes) -> ExtractedText:
    source = decode(text) if isinstance(text, bytes) else text
    source = _PLAIN_MARKUP.sub("", source.translate(_DROPPED_CHARS)).replace("\r", "")
    blocks: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", source):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        tabular = any(_TABLE_GAP.search(line.strip()) for line in lines)
        blocks.extend(lines if tabular else [" ".join(lines)])
    return ExtractedText(_clean_lines(_BREAK.join(blocks)), BodyKind.PLAIN)


def _classify(body: str, filename: str) -> tuple[BodyKind, str]:
    inner = body.strip()
    wrapper = next((tag for tag in _WRAPPERS if inner.startswith(f"<{tag}>")), "")
    if wrapper:
        inner = inner.removeprefix(f"<{wrapper}>").removesuffix(f"</{wrapper}>")
    start = inner.lstrip()[:2048]
    if wrapper == "PDF" or _UUENCODED.match(start):
        return BodyKind.BINARY, inner
    if filename.lower().endswith(_DATA_SUFFIXES):
        return BodyKind.DATA, inner
    if "<html" in start.lower() or filename.lower().endswith((".htm", ".html")):
        return BodyKind.HTML, inner
    if start.startswith("<?xml") or wrapper:
        return BodyKind.DATA, inner
    return BodyKind.PLAIN, inner


def parse_document_block(block: str) -> SubmissionDocument:
    """One `<DOCUMENT>` block (with or without its outer tags)."""
    meta, has_text, rest = block.partition("<TEXT>")
    fields = dict(_HEADER_FIELD.findall(meta))
    doc_type = fields.get("TYPE", "").strip()
    if not doc_type:
        raise SerializationError("SGML document without a <TYPE>")
    body = rest.rpartition("</TEXT>")[0] if "</TEXT>" in rest else rest
    filename = fields.get("FILENAME", "").strip()
    kind, inner = _classify(body if has_text else "", filename)
    sequence = fields.get("SEQUENCE", "").strip()
    return SubmissionDocument(
        type=doc_type,
        sequence=int(sequence) if sequence.isdecimal() else None,
        filename=filename,
        description=fields.get("DESCRIPTION", "").strip(),
        body=inner,
        kind=kind,
    )


def _parse_header(header: str) -> SubmissionHeader:
    fields: dict[str, str] = {}
    titles: list[str] = []
    entities: list[Entity] = []
    role: str | None = None
    company: dict[str, str] = {}

    def close_section() -> None:
        cik = company.get("CENTRAL INDEX KEY", "").zfill(10)
        known = any(entity.cik == cik and entity.role == role for entity in entities)
        if role is not None and cik.strip("0") and not known:  # SC TO-T repeats its subject
            name = company.get("COMPANY CONFORMED NAME", "")
            entities.append(Entity(cik=cik, name=name, role=role))

    for line in header.split("\n"):
        tagged = _HEADER_FIELD.match(line)
        if tagged:
            fields.setdefault(tagged.group(1), tagged.group(2).strip())
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if not key or line[0].isspace():  # indented: a field of the current entity section
            if role is not None and value:
                company.setdefault(key, value)
        elif key in _SECTION_ROLES and not value:
            close_section()
            role, company = _SECTION_ROLES[key], {}
        elif key == "ITEM INFORMATION":
            titles.append(value)
        else:
            fields.setdefault(key, value)
    close_section()
    accession, form_type = fields.get("ACCESSION NUMBER"), fields.get("CONFORMED SUBMISSION TYPE")
    if not accession or not form_type:
        raise SerializationError("SEC-HEADER without ACCESSION NUMBER or CONFORMED SUBMISSION TYPE")
    return SubmissionHeader(
        accession_number=accession,
        form_type=form_type,
        filed_date=_parse_date(fields.get("FILED AS OF DATE", "")),
        accepted_at=_parse_eastern_time(fields.get("ACCEPTANCE-DATETIME", "")),
        item_titles=tuple(titles),
        entities=tuple(entities),
    )


def _parse_eastern_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=_EDGAR_TIME)
    except ValueError:
        return None


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def parse_submission(data: str | bytes) -> Submission:
    """The complete submission: SEC-HEADER fields and every <DOCUMENT> block, in order."""
    text = (decode(data) if isinstance(data, bytes) else data).replace("\r\n", "\n")
    start, end = text.find("<SEC-HEADER>"), text.find("</SEC-HEADER>")
    if start < 0 or end < start:
        raise SerializationError("not an EDGAR submission: no <SEC-HEADER> ... </SEC-HEADER>")
    header = _parse_header(text[text.find("\n", start) + 1 : end])
    documents: list[SubmissionDocument] = []
    position = end
    while (opening := text.find("<DOCUMENT>", position)) >= 0:
        closing = text.find("</DOCUMENT>", opening)
        if closing < 0:
            raise SerializationError(f"submission {header.accession_number} is truncated")
        documents.append(parse_document_block(text[opening + len("<DOCUMENT>") : closing]))
        position = closing
    return Submission(header=header, documents=tuple(documents))


def extract_text(data: str | bytes, filename: str = "") -> ExtractedText:
    """Text of a fetched document of any of EDGAR's shapes: a complete submission (its primary
    document), a single <DOCUMENT> block, HTML, or plain text."""
    text = decode(data) if isinstance(data, bytes) else data
    head = text[:2048].lstrip()
    if head.startswith(("<SEC-DOCUMENT>", "<SEC-HEADER>")):
        documents = parse_submission(text).documents
        readable = (BodyKind.HTML, BodyKind.PLAIN)
        document = next((doc for doc in documents if doc.kind in readable), None)
    elif head.startswith("<DOCUMENT>"):
        document = parse_document_block(text.split("</DOCUMENT>", 1)[0])
    else:
        kind, body = _classify(text, filename)
        document = SubmissionDocument("", None, filename, "", body, kind)
    extracted = document.text() if document else None
    return extracted or ExtractedText("", BodyKind.PLAIN)
