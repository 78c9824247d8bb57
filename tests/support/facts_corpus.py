"""The hand-checked expectations of tests/fixtures/facts/ and the corpus documents they are
about, with the matching rules that precision and recall are measured by (bench/facts.py and the
unit tests use the same ones).

Ownership: a transaction (or holding) row counts as found when every field the expectation
lists is equal (numbers to 1e-9 relative); rows are matched in document order.
Earnings: a figure counts as found when an extracted figure has the same name, period and GAAP
flag and a value within 0.5% (the release rounds: "$47 million" and "$47.0 million"); its
prior value and change count separately, as fields, when the expectation states them.
Stakes and sale notices: every non-null field of the record (list rows in document order) is
one item; found when the parser's field at the same place is equal.
Financials: every fact is one item, matched by name, role, period label and period end; found
when all its fields are equal. The document type, period end and fiscal focus are one each.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.analyze.reading.forms.beneficial_ownership import parse_stake
from services.analyze.reading.forms.earnings_release import EarningsFigure, extract_earnings
from services.analyze.reading.forms.financials import parse_financials
from services.analyze.reading.forms.ownership import ownership_to_avro, parse_ownership
from services.analyze.reading.forms.sale_notice import parse_sale_notice
from services.analyze.reading.text import extract_text, parse_submission

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "edgar-corpus"
DOCUMENTS = CORPUS / "documents"
OWNERSHIP_DIR = DOCUMENTS / "ownership"
STAKES_DIR = DOCUMENTS / "beneficial-ownership"
SALE_NOTICES_DIR = DOCUMENTS / "form144"
XBRL_DIR = DOCUMENTS / "xbrl"
FIXTURES = ROOT / "tests" / "fixtures" / "facts"


def expected_ownership() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / "ownership_expected.json").read_text()
    )
    return loaded


def expected_earnings() -> dict[str, list[dict[str, Any]]]:
    loaded = json.loads((FIXTURES / "earnings_expected.json").read_text())
    return {key: value for key, value in loaded.items() if not key.startswith("_")}


def expected_records(family: str) -> dict[str, dict[str, Any]]:
    """The hand-checked records of `stake`, `sale_notice` or `financials`, by corpus file."""
    loaded: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / f"{family}_expected.json").read_text(encoding="utf-8")
    )
    return loaded


def corpus_document(directory: Path, name: str) -> bytes:
    """A corpus document's bytes; the large XBRL instances are stored gzip-compressed."""
    data = (directory / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def parsed_record(family: str, name: str) -> dict[str, Any]:
    """The reader's record for one corpus document of `family`, as analyze publishes it."""
    if family == "stake":
        return parse_stake(corpus_document(STAKES_DIR, name), "SCHEDULE 13D").to_avro()
    if family == "sale_notice":
        return parse_sale_notice(corpus_document(SALE_NOTICES_DIR, name)).to_avro()
    return parse_financials(corpus_document(XBRL_DIR, name), inline=False).to_avro()


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")
    elif node is not None:
        yield path, node


def score_fields(expected: dict[str, Any], parsed: dict[str, Any]) -> Score:
    """Every non-null field of a record is an item, at its place (list rows in order)."""
    want, have = dict(_leaves(expected)), dict(_leaves(parsed))
    found = sum(path in have and _close(value, have[path]) for path, value in want.items())
    return Score(found, len(have), len(want))


_HEADER = ("document_type", "period_end", "fiscal_year", "fiscal_period")


def score_financials(expected: dict[str, Any], parsed: dict[str, Any]) -> Score:
    """Every fact is an item, by name, role, period label and end, found when all its fields
    are equal; the document type, period end and fiscal focus are one item each."""

    def key(fact: dict[str, Any]) -> tuple[str, str, str, str]:
        return fact["name"], fact["role"], fact["period_label"], fact["period_end"]

    have = {key(fact): fact for fact in parsed["facts"]}
    found = sum(
        key(want) in have and all(_close(v, have[key(want)][k]) for k, v in want.items())
        for want in expected["facts"]
    )
    header = Score(
        sum(expected[name] is not None and parsed[name] == expected[name] for name in _HEADER),
        sum(parsed[name] is not None for name in _HEADER),
        sum(expected[name] is not None for name in _HEADER),
    )
    return Score(found, len(parsed["facts"]), len(expected["facts"])) + header


def parsed_ownership(name: str) -> dict[str, Any]:
    """The parser's answer for one corpus document, shaped like its expectation."""
    record = ownership_to_avro(parse_ownership((OWNERSHIP_DIR / name).read_bytes()))
    record["footnote_ids"] = [note["id"] for note in record.pop("footnotes")]
    return record


def earnings_text(key: str) -> str:
    """The text of an expectation's document: `earnings/<file>` and `<file>` under documents/,
    `<submission>.txt#<type>` an exhibit of a complete submission anywhere in the corpus."""
    if "#" in key:
        name, document_type = key.split("#")
        (path,) = CORPUS.rglob(name)
        (document,) = parse_submission(path.read_bytes()).documents_of_type(document_type)
        extracted = document.text()
    else:
        path = DOCUMENTS / key
        extracted = extract_text(path.read_bytes(), path.name)
    return extracted.text if extracted else ""


def _close(first: Any, second: Any, tolerance: float = 1e-9) -> bool:
    if isinstance(first, float | int) and isinstance(second, float | int):
        return math.isclose(first, second, rel_tol=tolerance, abs_tol=1e-12)
    return bool(first == second)


@dataclass(frozen=True, slots=True)
class Score:
    found: int  # expected items that were extracted
    extracted: int  # items the extractor produced
    expected: int

    @property
    def precision(self) -> float:
        return self.found / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.found + other.found,
            self.extracted + other.extracted,
            self.expected + other.expected,
        )


def score_ownership_rows(expected: dict[str, Any], parsed: dict[str, Any]) -> Score:
    rows, got = expected["transactions"], parsed["transactions"]
    found = sum(
        all(_close(want[key], have.get(key)) for key in want)
        for want, have in zip(rows, got, strict=False)
    )
    return Score(found, len(got), len(rows))


def _matches(want: dict[str, Any], have: EarningsFigure) -> bool:
    return (
        have.name == want["name"]
        and have.period.value == want["period"]
        and have.gaap == want["gaap"]
        and _close(have.value, want["value"], 0.005)
    )


def score_earnings(
    expected: list[dict[str, Any]], text: str, source: str | None = None
) -> tuple[Score, Score, list[EarningsFigure]]:
    """(figures, prior/change fields, what was extracted) for one document; with `source`
    ("prose" or "table") only the extracted figures of that source count."""
    earnings = extract_earnings(text)
    figures = [f for f in (earnings.figures if earnings else ()) if source in (None, f.source)]
    found = fields_found = fields_expected = fields_extracted = 0
    for want in expected:
        match = next((have for have in figures if _matches(want, have)), None)
        found += match is not None
        for key, have_value in (
            ("prior_value", match.prior_value if match else None),
            ("change_percent", match.change_percent if match else None),
        ):
            fields_expected += want[key] is not None
            fields_found += (
                want[key] is not None
                and have_value is not None
                and _close(have_value, want[key], 0.005)
            )
    for have in figures:
        fields_extracted += (have.prior_value is not None) + (have.change_percent is not None)
    return (
        Score(found, len(figures), len(expected)),
        Score(fields_found, fields_extracted, fields_expected),
        figures,
    )
