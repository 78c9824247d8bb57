"""A copy of the recorded corpus (symlinks) that also serves Form 4s as EDGAR serves them: the
real ownership XML of samples/edgar-corpus/documents/ownership/ (byte for byte, as its manifest
says it was extracted) wrapped back into a complete submission at its accession's EDGAR path.
The recorded corpus holds no Form 4 submission, so the tests build the wrappers.

With `feed=True` the copy's only getcurrent snapshot lists just these filings, so an ingest
replaying it publishes exactly them (in the order given, a second apart).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from tests.support.facts_corpus import OWNERSHIP_DIR
from tests.support.records import CORPUS_DIR

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
        return (
            f"<entry>\n<title>{self.form_type} - {self.issuer_name} ({self.issuer_cik})"
            " (Issuer)</title>\n"
            f'<link rel="alternate" type="text/html" href="{self.index_url}"/>\n'
            '<summary type="html">\n &lt;b&gt;Filed:&lt;/b&gt; '
            f"{accepted_at.date().isoformat()} &lt;b&gt;AccNo:&lt;/b&gt; {self.accession} "
            "&lt;b&gt;Size:&lt;/b&gt; 6 KB\n</summary>\n"
            f"<updated>{accepted_at.isoformat()}</updated>\n"
            f'<category scheme="https://www.sec.gov/" label="form type" term="{self.form_type}"/>\n'
            f"<id>urn:tag:sec.gov,2008:accession-number={self.accession}</id>\n</entry>\n"
        )


ISABELLA_PURCHASE = OwnershipSubmission(
    "isba-4-1.xml", "0000842517-24-000086", "0000842517", "ISABELLA BANK Corp"
)
# ZipRecruiter's president: RSUs vested (M) and shares withheld for taxes (F); no purchase.
ZIPRECRUITER_VESTING = OwnershipSubmission(
    "zip-4-1.xml", "0001617553-25-000024", "0001617553", "ZIPRECRUITER, INC."
)


def _feed_page(submissions: list[OwnershipSubmission]) -> str:
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
    directory: Path, submissions: list[OwnershipSubmission], *, feed: bool = False
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
        path = f"{submission.accession}.txt"
        (corpus / path).write_bytes(submission.submission())
        lines.append(
            json.dumps(
                {
                    "url": f"https://www.sec.gov{submission.folder}/{submission.accession}.txt",
                    "status": 200,
                    "content_type": "text/plain",
                    "path": path,
                }
            )
        )
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return corpus
