"""8-K item detection on real submissions: what the document's headings say must agree with
what EDGAR's SGML header says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.analyze.reading.items import (
    CATALOG,
    code_for_title,
    detect_items,
    item_sections,
    items_from_header,
    items_from_text,
)
from services.analyze.reading.text import html_to_text, parse_submission

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
ARCHIVES = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"
JPM_DIR = ARCHIVES / "19617" / "000001961726000241"
META_DIR = ARCHIVES / "1326801" / "000162828025058337"
SUBMISSIONS_8K = [
    JPM_DIR / "0000019617-26-000241.txt",
    META_DIR / "0001628280-25-058337.txt",
    ARCHIVES / "1364742" / "000119312523048785" / "0001193125-23-048785.txt",
    ARCHIVES / "72333" / "000007233323000015" / "0000072333-23-000015.txt",
    ARCHIVES / "66740" / "000006674024000023" / "0000066740-24-000023.txt",
    CORPUS / "documents" / "0000943374-24-000509.txt",
    CORPUS / "documents" / "0001213900-25-032135.txt",
]
# A filer tags its items when it submits; JPMorgan's and 3M's headers leave out 9.01 (the
# exhibit list) although their documents have an "Item 9.01" heading. Every other item agrees.
EXHIBITS_UNTAGGED = {"0000019617-26-000241.txt", "0000066740-24-000023.txt"}

# Independent of items.py: the header lines and the codes of the titles that occur in the corpus.
ITEM_INFORMATION = re.compile(r"^ITEM INFORMATION:\s+(.+?)\s*$", re.MULTILINE)
TITLE_CODES = {
    "Results of Operations": "2.02",
    "Non-Reliance on Previously Issued": "4.02",
    "Departure of Directors": "5.02",
    "Regulation FD": "7.01",
    "Other Events": "8.01",
    "Financial Statements and Exhibits": "9.01",
}


def header_codes(path: Path) -> set[str]:
    header = path.read_text(encoding="utf-8").split("</SEC-HEADER>")[0]
    titles = ITEM_INFORMATION.findall(header)
    codes = {code for start, code in TITLE_CODES.items() for t in titles if t.startswith(start)}
    assert len(codes) == len(titles), f"a title of {path.name} is missing from TITLE_CODES"
    return codes


def primary_text(path: Path) -> str:
    primary = parse_submission(path.read_bytes()).documents[0].text()
    assert primary is not None
    return primary.text


@pytest.mark.parametrize("path", SUBMISSIONS_8K, ids=lambda path: path.name)
def test_items_in_the_text_are_the_items_of_the_header(path: Path) -> None:
    expected = header_codes(path)
    if path.name in EXHIBITS_UNTAGGED:
        expected.add("9.01")
    assert set(items_from_text(primary_text(path))) == expected
    submission = parse_submission(path.read_bytes())
    assert set(items_from_header(submission.header.item_titles)) == header_codes(path)


@pytest.mark.parametrize(
    ("document", "submission"),
    [
        (JPM_DIR / "jpm-20260624.htm", JPM_DIR / "0000019617-26-000241.txt"),
        (META_DIR / "meta-20251219.htm", META_DIR / "0001628280-25-058337.txt"),
    ],
    ids=["jpmorgan", "meta"],
)
def test_primary_htm_items_match_the_submission_header(document: Path, submission: Path) -> None:
    found = set(items_from_text(html_to_text(document.read_bytes()).text))
    assert found - {"9.01"} == header_codes(submission) - {"9.01"}
    assert header_codes(submission) <= found


def test_jpmorgan_header_omits_the_exhibit_item_its_document_has() -> None:
    path = JPM_DIR / "0000019617-26-000241.txt"
    assert header_codes(path) == {"5.02"}
    sections = item_sections(primary_text(path))
    assert set(sections) == {"5.02", "9.01"}
    assert "Exhibit" in sections["9.01"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BuckleInc.8-K.html", ("2.02", "9.01")),  # "ITEM 2.02." and "ITEM 9.01(d)."
        ("1800Flowers.8-K.html", ("5.07",)),  # "Item 5.07."
        ("Oracle.8-K.html", ("5.07",)),
        ("form8k.Nordstrom.html", ("5.02", "9.01")),  # "ITEM 5.02"
        ("form8K.Blackrock.html", ("5.02",)),
        ("BuckleInc.8-K.EX99.1.html", ()),  # a press release has no item headings
    ],
)
def test_heading_spellings(name: str, expected: tuple[str, ...]) -> None:
    text = html_to_text((CORPUS / "documents" / name).read_bytes()).text
    assert items_from_text(text) == expected


def test_references_to_an_item_are_not_headings() -> None:
    sections = item_sections(primary_text(CORPUS / "documents" / "0001213900-25-032135.txt"))
    # "Item 2.02 of this Current Report ... is incorporated herein by reference." under 7.01.
    assert sections["7.01"].startswith("Item 2.02 of this Current Report")
    assert sections["2.02"].startswith("On April 15, 2025, ABVC BioPharma")
    assert "Non-Reliance" not in sections["2.02"]


def test_sections_hold_the_item_text_and_stop_at_the_signatures() -> None:
    sections = item_sections(html_to_text((META_DIR / "meta-20251219.htm").read_bytes()).text)
    assert list(sections) == ["5.02"]
    assert "Dina Powell McCormick" in sections["5.02"]
    assert "will resign as a member of the Board of Directors" in sections["5.02"]
    assert "SIGNATURE" not in sections["5.02"]
    assert "Pursuant to the requirements" not in sections["5.02"]


def test_header_wins_over_text_and_text_stands_in_without_it() -> None:
    text = html_to_text((CORPUS / "documents" / "BuckleInc.8-K.html").read_bytes()).text
    assert detect_items(("Regulation FD Disclosure",), text) == ("7.01",)
    assert detect_items((), text) == ("2.02", "9.01")
    assert detect_items((), None) == ()


def test_every_catalog_title_maps_to_its_code() -> None:
    for code, item in CATALOG.items():
        assert code_for_title(item.title) == code
        assert code_for_title(item.title.upper()) == code


def test_header_title_variants() -> None:
    # EDGAR writes 5.02 with a colon where Form 8-K has a semicolon.
    edgar_5_02 = (
        "Departure of Directors or Certain Officers; Election of Directors; Appointment of "
        "Certain Officers: Compensatory Arrangements of Certain Officers"
    )
    assert code_for_title(edgar_5_02) == "5.02"
    assert code_for_title("Changes in Registrant\u2019s Certifying Accountant") == "4.01"
    assert code_for_title("Something EDGAR never wrote") is None
    assert items_from_header(["Financial Statements and Exhibits", edgar_5_02]) == ("5.02", "9.01")


def test_detection_is_deterministic() -> None:
    text = primary_text(CORPUS / "documents" / "0001213900-25-032135.txt")
    assert item_sections(text) == item_sections(text)
    assert items_from_text(text) == ("2.02", "4.02", "7.01", "9.01")
