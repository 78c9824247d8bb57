"""Per-file fields the Schedule 13D/13G reader extracts from a directory of documents, for a
held-out check by hand (documents the reader was not developed against; never committed).

    python -m bench.stake_heldout /work/heldout/stake

XML documents (`.xml`) go to `parse_stake`; anything else is read as text (HTML tags stripped
crudely) by `read_stake_text`. The form type is guessed from the file name only to pick the
text reader's kind (13d or 13g in the name).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from typing import Any

from services.analyze.reading.forms.beneficial_ownership import parse_stake, read_stake_text
from services.common.errors import SerializationError


def _form(path: Path) -> str:
    return "SC 13G" if "13g" in path.name.lower() else "SC 13D"


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d)>", "\n", text)
    text = re.sub(r"(?i)</t[dh]>", "  ", text)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def extract(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".xml":
            stake = parse_stake(raw, _form(path))
        else:
            stake = read_stake_text(_text(raw), _form(path))
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.stake_heldout DIRECTORY", file=sys.stderr)
        return 2
    for path in sorted(Path(argv[1]).iterdir()):
        if path.is_file() and path.suffix.lower() in {".xml", ".txt", ".htm", ".html"}:
            print(json.dumps(extract(path), indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
