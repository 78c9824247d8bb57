"""The Form 144 parser on a directory of documents it was not developed against: every field
extracted, file by file. With `--expected FILE` (JSON: file name -> the SaleNotice record as a
hand-check says it should read), also counts per file and in total the fields extracted, those
correct, and those the document states but the parse missed. Deterministic: no timing.

    python -m bench.sale_notice_heldout DIRECTORY [--expected FILE]

Held-out documents are kept outside the repository (fetched content is never committed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from services.analyze.reading.forms.sale_notice import parse_sale_notice
from services.common.errors import SerializationError

_NOT_FACTS = frozenset({"incomplete_reason", "issuer_ticker"})


def fields(record: dict[str, Any]) -> dict[str, Any]:
    """The record's stated leaf values by path (securities[0].exchange), nulls left out."""
    flat: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}[{index}]")
        elif value is not None:
            flat[path] = value

    walk({key: value for key, value in record.items() if key not in _NOT_FACTS}, "")
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--expected", type=Path)
    args = parser.parse_args()
    expected: dict[str, Any] = (
        json.loads(args.expected.read_text(encoding="utf-8")) if args.expected else {}
    )
    totals = [0, 0, 0, 0]  # extracted, correct, stated, missed
    for path in sorted(args.directory.glob("*.xml")):
        print(f"== {path.name}")
        try:
            notice = parse_sale_notice(path.read_bytes())
        except SerializationError as exc:
            print(f"   SerializationError: {exc}")
            continue
        record = notice.to_avro()
        got = fields(record)
        for key, value in got.items():
            print(f"   {key} = {value!r}")
        print(f"   incomplete_reason = {record['incomplete_reason']!r}")
        if path.name not in expected:
            continue
        want = fields(expected[path.name])
        correct = sum(1 for key, value in got.items() if want.get(key) == value)
        missed = sorted(key for key in want if key not in got)
        wrong = sorted(key for key, value in got.items() if want.get(key) != value)
        counts = (len(got), correct, len(want), len(missed))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        print(
            f"   extracted {counts[0]}, correct {counts[1]}, stated {counts[2]}, "
            f"stated but missed {counts[3]} {missed or ''}, wrong {wrong or ''}"
        )
    if expected:
        print(
            f"TOTAL extracted {totals[0]}, correct {totals[1]}, stated {totals[2]}, "
            f"stated but missed {totals[3]}"
        )


if __name__ == "__main__":
    main()
