"""The FilingText record: the document text analyze read, cut to a bound per filing, for the
text topic (written in the same transaction as the analysis it goes with).

The bound is in bytes of UTF-8 (what Kafka and the store pay for), `ANALYZE_TEXT_MAX_BYTES`,
256 KiB by default. On the recorded corpus (`python -m bench.text_sizes`): an 8-K, press
release or other HTML/text document reads to 7.4 KB of text at the median (27 documents, at
most 152 KB, a 424B5 prospectus); a Form 3/4/5 or an XML 13D/13G/144 to its footnotes, remarks
or purpose, 490 B at the median and at most 2.7 KB; a 10-Q or 10-K with inline XBRL to 0.9-1.3
MB. So the bound keeps every current report whole and the first 256 KiB of a periodic report
(its cover, risk factors and the start of MD&A), under Kafka's default 1 MB message limit
with room for the record's other fields. The recorded daily index's day (2,666 filings, 1,516
of them of the forms analyze fetches, 87 periodic reports) costs 26 MB on the topic at those
medians, 79 MB at worst, before zstd (which the producers use): 7-20 GB a year kept forever,
a small part of what the full-text index is worth. A whole 10-K (1 MB and more) would need
Kafka's message limit raised on every broker and client.

The cut is on a character boundary and, when one is in the last 1 KiB, at a white space, so no
word is cut in half for the full-text index; `truncated` and `full_bytes` say what was left.
Only a filing whose documents were read gets a record (`document_status` fetched): for the
others the analysis's `text_bytes` is null, so a consumer can tell "no text" (null) from "not
arrived yet" (a number, and no FilingText with that analyzed_at yet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.analyze.reading.documents import DocumentStatus, FilingDocuments
from services.common.records import Filing

# How far back from the bound a cut looks for white space to end on.
_WORD_BACKOFF_BYTES = 1024


@dataclass(frozen=True, slots=True)
class CutText:
    text: str
    truncated: bool
    full_bytes: int  # UTF-8 length before the cut


def cut_utf8(text: str, max_bytes: int) -> CutText:
    """`text`, or its longest prefix of at most `max_bytes` UTF-8 bytes that ends on a
    character boundary (and at a white space when one is near the end)."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return CutText(text, truncated=False, full_bytes=len(encoded))
    # A UTF-8 continuation byte is 0b10xxxxxx: step back to the start of the character the
    # bound falls in, so it is left out whole rather than split.
    end = max_bytes
    while end > 0 and encoded[end] & 0xC0 == 0x80:
        end -= 1
    kept = encoded[:end]
    near = max(0, end - _WORD_BACKOFF_BYTES)
    space = max(kept.rfind(b" ", near), kept.rfind(b"\n", near))
    if space > 0:
        kept = kept[:space]
    return CutText(kept.decode("utf-8"), truncated=True, full_bytes=len(encoded))


def text_record(
    filing: Filing, documents: FilingDocuments, analyzed_at: dt.datetime, max_bytes: int
) -> dict[str, Any] | None:
    """The FilingText of a filing whose documents were read; None for the others."""
    if documents.status is not DocumentStatus.FETCHED or documents.document_url is None:
        return None
    cut = cut_utf8(documents.text or "", max_bytes)
    return {
        "accession_number": filing.accession_number,
        "form_type": filing.form_type,
        "document_url": documents.document_url,
        "text": cut.text,
        "truncated": cut.truncated,
        "full_bytes": cut.full_bytes,
        "max_bytes": max_bytes,
        "analyzed_at": analyzed_at,
    }
