"""The text analyze reads per filing, measured on the recorded corpus, and what the text topic
costs a day under the bound (ANALYZE_TEXT_MAX_BYTES).

    python -m bench.text_sizes [MAX_BYTES]      (default: the setting's default)

Each corpus document is read as analyze reads it: HTML, plain text and complete submissions
through extract_text, XML forms (3/4/5, 13D/13G, 144) to the prose analyze keeps of them
(footnotes, remarks, purpose), inline XBRL periodic reports decompressed then extracted. Sizes
are UTF-8 bytes, per kind of form: min, median and max, and how many the bound cuts. The day is
the recorded daily index (2020-03-18): its filings of the forms analyze fetches by default,
each costed at its kind's median (a periodic report at the bound when its median is over it).
"""

from __future__ import annotations

import datetime as dt
import gzip
import statistics
import sys
from collections import Counter
from pathlib import Path

from bench._setup import CORPUS, print_header
from services.analyze.reading.documents import prose_of
from services.analyze.reading.documents_index import base_form
from services.analyze.reading.families import xml_parser_for
from services.analyze.reading.text import extract_text
from services.analyze.settings import AnalyzeSettings
from services.analyze.text_record import cut_utf8
from services.ingest.daily_index import parse_daily_index
from services.ingest.tickers import TickerMap

_CURRENT = "current report (8-K, 6-K, press release, tender offer)"
_PERIODIC = "periodic report (10-Q, 10-K, 20-F, 40-F)"
_XML = "XML form (3, 4, 5, 13D, 13G, 144)"
_PERIODIC_FORMS = {"10-K", "10-Q", "10-KT", "10-QT", "20-F", "40-F"}
_XML_FORMS = {"3", "4", "5", "SC 13D", "SCHEDULE 13D", "SC 13G", "SCHEDULE 13G", "144"}


def _xml_form(path: Path) -> str:
    name = path.name.lower()
    if name.startswith("sc13"):
        return "SC 13D" if "13d" in name else "SC 13G"
    if "144" in name:
        return "144"
    return name.split("-")[1]  # aapl-4-1.xml


def measured() -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {_CURRENT: [], _PERIODIC: [], _XML: []}
    documents = CORPUS / "documents"
    archive = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"
    for path in sorted([*documents.rglob("*"), *archive.rglob("*")]):
        if not path.is_file() or path.suffix in {".md", ".jsonl"} or "-index" in path.name:
            continue
        if path.name.endswith(".xml.gz"):
            text = extract_text(gzip.decompress(path.read_bytes()), "primary.htm").text
            sizes[_PERIODIC].append(len(text.encode()))
        elif path.suffix == ".xml":
            parser = xml_parser_for(_xml_form(path))
            if parser is None:
                continue  # an XBRL instance: read for figures, not text
            try:
                prose = "\n".join(prose_of(parser(path.read_bytes(), _xml_form(path))))
            except ValueError:
                prose = ""  # a hostile or truncated document: analyze reads no text of it
            sizes[_XML].append(len(prose.encode()))
        else:
            sizes[_CURRENT].append(len(extract_text(path.read_bytes(), path.name).text.encode()))
    return sizes


def _kind(form: str) -> str:
    base = base_form(form)
    if base in _PERIODIC_FORMS:
        return _PERIODIC
    if base in _XML_FORMS:
        return _XML
    return _CURRENT


def main() -> None:
    bound = (
        int(sys.argv[1])
        if len(sys.argv) > 1
        else AnalyzeSettings.model_fields["analyze_text_max_bytes"].default
    )
    print_header("text per filing, on the recorded corpus", f"python -m bench.text_sizes {bound}")
    sizes = measured()
    medians = {}
    for kind, found in sizes.items():
        medians[kind] = min(int(statistics.median(found)), bound)
        cut = sum(1 for size in found if cut_utf8("x" * size, bound).truncated)
        print(
            f"  {kind}: {len(found)} documents, min {min(found):,} B, median "
            f"{int(statistics.median(found)):,} B, max {max(found):,} B; cut by the bound: {cut}"
        )
    index = CORPUS / "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
    filings = parse_daily_index(
        index.read_bytes(),
        base_url="https://www.sec.gov",
        detected_at=dt.datetime.now(dt.UTC),
        tickers=TickerMap({}),
    ).filings
    fetched = {form.upper() for form in AnalyzeSettings.model_fields["analyze_fetch_forms"].default}
    day: Counter[str] = Counter()
    for filing in filings:
        if base_form(filing.form_type) in {base_form(f) for f in fetched}:
            day[_kind(filing.form_type)] += 1
    total = sum(day[kind] * medians[kind] for kind in day)
    worst = sum(day[kind] * (bound if kind == _PERIODIC else max(sizes[kind])) for kind in day)
    print(f"  one day (2020-03-18, {len(filings):,} filings): texts of the fetched forms")
    for kind, count in day.most_common():
        print(f"    {kind}: {count:,} x {medians[kind]:,} B")
    print(
        f"  the text topic: {total / 1e6:.1f} MB a day at the medians, {worst / 1e6:.1f} MB with"
        f" every periodic report at the bound (before zstd); per year (250 days): "
        f"{250 * total / 1e9:.1f}-{250 * worst / 1e9:.1f} GB"
    )


if __name__ == "__main__":
    main()
