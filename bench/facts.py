"""Precision and recall of the structured facts against the hand-checked expectations of
tests/fixtures/facts/: every transaction and holding row of the corpus ownership documents
(all parsed fields equal), and every earnings figure of the corpus releases (name, period, GAAP
flag and value; then their prior values and changes as fields). Deterministic: no timing.

    python -m bench.facts
"""

from __future__ import annotations

from tests.support.facts_corpus import (
    Score,
    earnings_text,
    expected_earnings,
    expected_ownership,
    parsed_ownership,
    score_earnings,
    score_ownership_rows,
)


def _line(label: str, score: Score) -> str:
    return (
        f"{label:<42} precision {score.precision:6.1%} ({score.found}/{score.extracted})   "
        f"recall {score.recall:6.1%} ({score.found}/{score.expected})"
    )


def main() -> None:
    print("structured facts vs tests/fixtures/facts (command: python -m bench.facts)")
    rows = Score(0, 0, 0)
    for name, ownership in expected_ownership().items():
        score = score_ownership_rows(ownership, parsed_ownership(name))
        rows += score
        print(_line(f"  ownership {name}", score))
    print(_line("ownership rows (transactions + holdings)", rows))
    figures = fields = prose = Score(0, 0, 0)
    for key, expected in expected_earnings().items():
        found, found_fields, _ = score_earnings(expected, earnings_text(key))
        prose_only, _, _ = score_earnings(
            [want for want in expected if want["source"] == "prose"], earnings_text(key), "prose"
        )
        figures, fields, prose = figures + found, fields + found_fields, prose + prose_only
        print(_line(f"  earnings {key}", found))
    print(_line("earnings figures (prose and tables)", figures))
    print(_line("earnings figures stated in prose", prose))
    print(_line("earnings prior values and changes", fields))


if __name__ == "__main__":
    main()
