"""Per-file fields the Schedule 13D/13G reader extracts from a directory of documents, for a
held-out check by hand (documents the reader was not developed against; never committed).

    python -m bench.stake_heldout /work/heldout/stake [--expected FILE]

XML documents (`.xml`) go to `parse_stake`; anything else is read into text by analyze's own
text extraction (extract_text: HTML or a complete submission, as a fetched filing is) and then
by `read_stake_text`. The form type is guessed from the file name only to pick the text
reader's kind (13d or 13g in the name).

With `--expected` (a JSON object: file name -> the hand-checked record, as this prints it),
each file's fields are scored as bench.facts scores the corpus (tests/support/facts_corpus.py,
`score_fields`; the purpose, a long text, left out): extracted, correct, wrong, missed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services.analyze.reading.forms.beneficial_ownership import parse_stake, read_stake_text
from services.analyze.reading.text import extract_text
from services.common.errors import SerializationError
from tests.support.facts_corpus import Score, score_fields


def _form(path: Path) -> str:
    return "SC 13G" if "13g" in path.name.lower() else "SC 13D"


def extract(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".xml":
            stake = parse_stake(raw, _form(path))
        else:
            extracted = extract_text(raw, path.name)
            stake = read_stake_text(extracted.text if extracted else "", _form(path))
    except SerializationError as exc:
        return {"file": path.name, "error": str(exc)}
    record = stake.to_avro()
    if record["purpose"]:
        record["purpose"] = record["purpose"][:120] + "..."
    filled = sum(1 for key, value in record.items() if value not in (None, [], ""))
    filled += sum(
        1
        for person in record["reporting_persons"]
        for value in person.values()
        if value is not None
    )
    return {"file": path.name, "fields_extracted": filled, **record}


def _scored(record: dict[str, Any]) -> dict[str, Any]:
    skipped = {"file", "fields_extracted", "purpose", "_note"}  # _note: the hand-checker's remark
    return {k: v for k, v in record.items() if k not in skipped}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--expected"):
        print("usage: python -m bench.stake_heldout DIRECTORY [--expected FILE]", file=sys.stderr)
        return 2
    expected = json.loads(Path(argv[3]).read_text()) if len(argv) == 4 else None
    total = Score(0, 0, 0)
    for path in sorted(Path(argv[1]).iterdir()):
        if not (path.is_file() and path.suffix.lower() in {".xml", ".txt", ".htm", ".html"}):
            continue
        record = extract(path)
        if expected is None:
            print(json.dumps(record, indent=1, ensure_ascii=False))
            continue
        score = score_fields(_scored(expected[path.name]), _scored(record))
        total += score
        wrong = score.extracted - score.found
        print(
            f"{path.name:<40} extracted {score.extracted:>3} correct {score.found:>3} "
            f"wrong {wrong:>2} missed {score.expected - score.found:>2}"
        )
    if expected is not None:
        print(
            f"{'TOTAL':<40} extracted {total.extracted:>3} correct {total.found:>3} "
            f"wrong {total.extracted - total.found:>2} missed {total.expected - total.found:>2}"
            f"   precision {total.precision:.1%} recall {total.recall:.1%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
