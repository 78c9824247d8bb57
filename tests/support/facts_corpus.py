"""The hand-checked expectations of tests/fixtures/facts/ and the corpus documents they are
about, with the matching rules that precision and recall are measured by (bench/facts.py and the
unit tests use the same ones).

Ownership: a transaction (or holding) row counts as found when every field the expectation
lists is equal (numbers to 1e-9 relative); rows are matched in document order.
Earnings: a figure counts as found when an extracted figure has the same name, period and GAAP
flag and a value within 0.5% (the release rounds: "$47 million" and "$47.0 million"); its
prior value and change count separately, as fields, when the expectation states them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.analyze.reading.forms.earnings_release import EarningsFigure, extract_earnings
from services.analyze.reading.forms.ownership import ownership_to_avro, parse_ownership
from services.analyze.reading.text import extract_text, parse_submission

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "edgar-corpus"
DOCUMENTS = CORPUS / "documents"
OWNERSHIP_DIR = DOCUMENTS / "ownership"
FIXTURES = ROOT / "tests" / "fixtures" / "facts"


def expected_ownership() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / "ownership_expected.json").read_text()
    )
    return loaded


def expected_earnings() -> dict[str, list[dict[str, Any]]]:
    loaded = json.loads((FIXTURES / "earnings_expected.json").read_text())
    return {key: value for key, value in loaded.items() if not key.startswith("_")}


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
