"""A copy of the recorded corpus (symlinks) that also serves filings the recording holds only as
documents, as EDGAR serves them:
- an XML form (Form 4, Schedule 13D/13G, Form 144): the real XML of samples/edgar-corpus/
  documents/ (byte for byte) wrapped back into a complete submission at its accession's path;
- a periodic report (10-Q, 10-K): a real XBRL instance of documents/xbrl/ as the EX-101.INS of a
  submission whose primary document is a short stand-in HTML page, the way a filing made before
  inline XBRL is served; also its index page listing both, and each document on its own.
The recorded corpus holds no such submission, so the tests build the wrappers.

With `feed=True` the copy's only getcurrent snapshot lists just these filings, so an ingest
replaying it publishes exactly them (in the order given, a second apart).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.common.records import Entity, Filing, FilingSource
from tests.support.facts_corpus import OWNERSHIP_DIR
from tests.support.records import CORPUS_DIR

STAKES_DIR = CORPUS_DIR / "documents" / "beneficial-ownership"
SALE_NOTICES_DIR = CORPUS_DIR / "documents" / "form144"
XBRL_DIR = CORPUS_DIR / "documents" / "xbrl"

_FEED_PAGE = "feed/start-00000-count-40.xml"
_FEED_URL = (
    "https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&count=40&start=0&type="
    "&owner=include&output=atom"
)


@dataclass(frozen=True, slots=True)
class OwnershipSubmission:
    document: str  # a file of documents/ownership/
    accession: str
    issuer_cik: str  # ten digits
    issuer_name: str
    # Another XML form wrapped the same way: a Schedule 13D or 13G, a Form 144.
    form_type: str = "4"
    directory: Path = OWNERSHIP_DIR

    @property
    def folder(self) -> str:
        return f"/Archives/edgar/data/{int(self.issuer_cik)}/{self.accession.replace('-', '')}"

    @property
    def index_url(self) -> str:
        return f"https://www.sec.gov{self.folder}/{self.accession}-index.htm"

    def submission(self) -> bytes:
        xml = (self.directory / self.document).read_bytes()
        return (
            (
                f"<SEC-DOCUMENT>{self.accession}.txt : 20240501\n"
                f"<SEC-HEADER>{self.accession}.hdr.sgml : 20240501\n"
                f"ACCESSION NUMBER:\t\t{self.accession}\n"
                f"CONFORMED SUBMISSION TYPE:\t{self.form_type}\n"
                "PUBLIC DOCUMENT COUNT:\t\t1\n</SEC-HEADER>\n<DOCUMENT>\n"
                f"<TYPE>{self.form_type}\n<SEQUENCE>1\n"
                f"<FILENAME>primary_doc.xml\n<DESCRIPTION>FORM {self.form_type}\n<TEXT>\n<XML>\n"
            ).encode()
            + xml
            + b"</XML>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
        )

    def feed_entry(self, accepted_at: dt.datetime) -> str:
        return _feed_entry(self, accepted_at, "6 KB")

    def served(self) -> dict[str, bytes]:
        """What the emulator serves for this filing, by path under www.sec.gov."""
        return {f"{self.folder}/{self.accession}.txt": self.submission()}


@dataclass(frozen=True, slots=True)
class PeriodicReport:
    instance: str  # a file of documents/xbrl/, gzip-compressed when it ends in .gz
    accession: str
    issuer_cik: str  # ten digits
    issuer_name: str
    form_type: str = "10-Q"
    # The size the feed states. Below analyze's max_document_bytes, the complete submission is
    # read (one request); above it, the index page, the primary document and the instance.
    feed_size: str = "1 MB"
    # An inline XBRL primary document instead of the stand-in: the submission then holds it
    # alone, and the index page lists the instance EDGAR extracts from it.
    inline: bytes | None = None

    @property
    def folder(self) -> str:
        return f"/Archives/edgar/data/{int(self.issuer_cik)}/{self.accession.replace('-', '')}"

    @property
    def index_url(self) -> str:
        return f"https://www.sec.gov{self.folder}/{self.accession}-index.htm"

    @property
    def primary_filename(self) -> str:
        return f"{self.accession}-{self.form_type.lower()}.htm"

    @property
    def instance_filename(self) -> str:
        return self.instance.removesuffix(".gz")

    def instance_xml(self) -> bytes:
        data = (XBRL_DIR / self.instance).read_bytes()
        return gzip.decompress(data) if self.instance.endswith(".gz") else data

    def primary_html(self) -> bytes:
        if self.inline is not None:
            return self.inline
        return (
            f"<html><body><p>UNITED STATES SECURITIES AND EXCHANGE COMMISSION</p>"
            f"<p>FORM {self.form_type}</p><p>{self.issuer_name}</p>"
            "<p>The financial statements of this report are in its XBRL instance.</p>"
            "</body></html>\n"
        ).encode()

    def submission(self) -> bytes:
        instance = (
            (
                "</TEXT>\n</DOCUMENT>\n<DOCUMENT>\n<TYPE>EX-101.INS\n<SEQUENCE>2\n"
                f"<FILENAME>{self.instance_filename}\n<DESCRIPTION>XBRL INSTANCE DOCUMENT\n"
                "<TEXT>\n<XBRL>\n"
            ).encode()
            + self.instance_xml()
            + b"</XBRL>\n"
            if self.inline is None
            else b""
        )
        return (
            (
                f"<SEC-DOCUMENT>{self.accession}.txt : 20240723\n"
                f"<SEC-HEADER>{self.accession}.hdr.sgml : 20240723\n"
                f"ACCESSION NUMBER:\t\t{self.accession}\n"
                f"CONFORMED SUBMISSION TYPE:\t{self.form_type}\n"
                "PUBLIC DOCUMENT COUNT:\t\t2\n</SEC-HEADER>\n<DOCUMENT>\n"
                f"<TYPE>{self.form_type}\n<SEQUENCE>1\n<FILENAME>{self.primary_filename}\n"
                f"<DESCRIPTION>{self.form_type}\n<TEXT>\n"
            ).encode()
            + self.primary_html()
            + instance
            + b"</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
        )

    def index_page(self) -> bytes:
        """The filing index page as EDGAR lays it out: the primary document in "Document Format
        Files", the instance in "Data Files" (the columns parse_index_page reads)."""

        def row(seq: str, description: str, filename: str, kind: str, size: int) -> str:
            link = f'<a href="{self.folder}/{filename}">{filename}</a>'
            cells = (seq, description, link, kind, str(size))
            return "<tr>" + "".join(f'<td scope="row">{cell}</td>' for cell in cells) + "</tr>"

        header = (
            "<tr>"
            + "".join(
                f'<th scope="col">{name}</th>'
                for name in ("Seq", "Description", "Document", "Type", "Size")
            )
            + "</tr>"
        )
        primary = row(
            "1", self.form_type, self.primary_filename, self.form_type, len(self.primary_html())
        )
        complete = row(
            "&nbsp;",
            "Complete submission text file",
            f"{self.accession}.txt",
            "&nbsp;",
            len(self.submission()),
        )
        instance = (
            row(
                "2",
                "XBRL INSTANCE DOCUMENT",
                self.instance_filename,
                "EX-101.INS",
                len(self.instance_xml()),
            )
            if self.inline is None
            else row(
                "",
                "EXTRACTED XBRL INSTANCE DOCUMENT",
                self.instance_filename,
                "XML",
                len(self.instance_xml()),
            )
        )
        return (
            "<html><body>"
            '<table class="tableFile" summary="Document Format Files">'
            f"{header}{primary}{complete}</table>"
            f'<table class="tableFile" summary="Data Files">{header}{instance}</table>'
            "</body></html>\n"
        ).encode()

    def feed_entry(self, accepted_at: dt.datetime) -> str:
        return _feed_entry(self, accepted_at, self.feed_size)

    def served(self) -> dict[str, bytes]:
        return {
            f"{self.folder}/{self.accession}.txt": self.submission(),
            f"{self.folder}/{self.accession}-index.htm": self.index_page(),
            f"{self.folder}/{self.primary_filename}": self.primary_html(),
            f"{self.folder}/{self.instance_filename}": self.instance_xml(),
        }


WrappedFiling = OwnershipSubmission | PeriodicReport


def hostile_stake(directory: Path) -> OwnershipSubmission:
    """A Schedule 13D with an entity declaration (written into `directory`): refused."""
    directory.mkdir(exist_ok=True)
    (directory / "13d.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D">&a;</edgarSubmission>'
    )
    return OwnershipSubmission(
        "13d.xml", "0000000001-25-000001", "0000000001", "HOSTILE", "SCHEDULE 13D", directory
    )


def filing_of(wrapped: WrappedFiling, size_bytes: int | None = 20_000) -> Filing:
    """The Filing ingest would emit for it. A known size below analyze's max_document_bytes
    has the complete submission read (one request); None has the index page read."""
    return Filing(
        accession_number=wrapped.accession,
        form_type=wrapped.form_type,
        accepted_at=dt.datetime(2025, 5, 1, 16, 0, tzinfo=dt.UTC),
        filed_date=dt.date(2025, 5, 1),
        entities=(Entity(cik=wrapped.issuer_cik, name=wrapped.issuer_name, role="subject"),),
        index_url=wrapped.index_url,
        source=FilingSource.LIVE,
        detected_at=dt.datetime(2025, 5, 1, 16, 0, 1, tzinfo=dt.UTC),
        size_bytes=size_bytes,
    )


def _feed_entry(filing: WrappedFiling, accepted_at: dt.datetime, size: str) -> str:
    return (
        f"<entry>\n<title>{filing.form_type} - {filing.issuer_name} ({filing.issuer_cik})"
        " (Issuer)</title>\n"
        f'<link rel="alternate" type="text/html" href="{filing.index_url}"/>\n'
        '<summary type="html">\n &lt;b&gt;Filed:&lt;/b&gt; '
        f"{accepted_at.date().isoformat()} &lt;b&gt;AccNo:&lt;/b&gt; {filing.accession} "
        f"&lt;b&gt;Size:&lt;/b&gt; {size}\n</summary>\n"
        f"<updated>{accepted_at.isoformat()}</updated>\n"
        f'<category scheme="https://www.sec.gov/" label="form type" term="{filing.form_type}"/>\n'
        f"<id>urn:tag:sec.gov,2008:accession-number={filing.accession}</id>\n</entry>\n"
    )


ISABELLA_PURCHASE = OwnershipSubmission(
    "isba-4-1.xml", "0000842517-24-000086", "0000842517", "ISABELLA BANK Corp"
)
# ZipRecruiter's president: RSUs vested (M) and shares withheld for taxes (F); no purchase.
ZIPRECRUITER_VESTING = OwnershipSubmission(
    "zip-4-1.xml", "0001617553-25-000024", "0001617553", "ZIPRECRUITER, INC."
)
# A Schedule 13D in XML: an active 6.3% stake in QXO (its CIK is SilverSun's, renamed).
QXO_STAKE = OwnershipSubmission(
    "sc13d-qxo.xml", "0001104659-25-041235", "0001236275", "QXO, Inc.", "SCHEDULE 13D", STAKES_DIR
)
# A Schedule 13D/A cut off mid-document (partial facts with the reason).
ZIVO_TRUNCATED_STAKE = OwnershipSubmission(
    "sc13da-zivo-truncated-endtag.xml",
    "0001213900-25-000111",
    "0001101026",
    "Zivo Bioscience",
    "SCHEDULE 13D/A",
    STAKES_DIR,
)
# A Schedule 13G: Citadel's passive stake in Spirit Aviation.
SPIRIT_STAKE = OwnershipSubmission(
    "sc13g-citadel-spirit.xml",
    "0000902664-25-002222",
    "0001498710",
    "Spirit Aviation",
    "SCHEDULE 13G",
    STAKES_DIR,
)
# SEC's sample Form 144: a sale notice for the test issuer RUFUS TEST CO (in no ticker map).
SAMPLE_SALE_NOTICE = OwnershipSubmission(
    "Sample_144.xml",
    "0000950103-24-000144",
    "0001118676",
    "RUFUS TEST CO",
    "144",
    SALE_NOTICES_DIR,
)
# Tesla's 10-Q for the quarter ended 2024-06-30 (its real instance; the accession is made up).
TESLA_10Q = PeriodicReport(
    "tsla-20240630_htm.xml.gz", "0001628280-24-032662", "0001318605", "Tesla, Inc."
)


def _feed_page(submissions: Sequence[WrappedFiling]) -> str:
    start = dt.datetime(2025, 12, 12, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    # getcurrent lists newest first.
    entries = [
        submission.feed_entry(start + dt.timedelta(seconds=number))
        for number, submission in enumerate(submissions)
    ]
    return (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n<title>Latest Filings</title>\n'
        + "".join(reversed(entries))
        + "</feed>\n"
    )


def corpus_with_ownership(
    directory: Path, submissions: Sequence[WrappedFiling], *, feed: bool = False
) -> Path:
    corpus = directory / "corpus"
    corpus.mkdir()
    for entry in CORPUS_DIR.iterdir():
        if entry.name != "manifest.jsonl":
            (corpus / entry.name).symlink_to(entry)
    lines = (CORPUS_DIR / "manifest.jsonl").read_text().splitlines()
    if feed:
        lines = [line for line in lines if '"snapshot"' not in line]
        (corpus / _FEED_PAGE).parent.mkdir()
        (corpus / _FEED_PAGE).write_text(_feed_page(submissions), encoding="iso-8859-1")
        lines.append(
            json.dumps(
                {
                    "url": _FEED_URL,
                    "status": 200,
                    "content_type": "application/atom+xml",
                    "path": _FEED_PAGE,
                    "snapshot": "2025-12-12T23-00-05",
                }
            )
        )
    for submission in submissions:
        for url_path, body in submission.served().items():
            path = f"{submission.accession}/{url_path.rsplit('/', 1)[1]}"
            (corpus / path).parent.mkdir(exist_ok=True)
            (corpus / path).write_bytes(body)
            content_type = "text/plain" if path.endswith(".txt") else "text/html"
            if path.endswith(".xml"):
                content_type = "application/xml"
            lines.append(
                json.dumps(
                    {
                        "url": f"https://www.sec.gov{url_path}",
                        "status": 200,
                        "content_type": content_type,
                        "path": path,
                    }
                )
            )
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return corpus
