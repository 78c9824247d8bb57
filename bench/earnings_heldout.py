"""Print the earnings figures extracted from every document of a directory, for hand-checking.

Usage: python -m bench.earnings_heldout DIR [DIR ...]

The documents are read as the pipeline reads them (extract_text), and every figure is printed
with its period, basis, source, prior value, change and the text it was read from. Nothing is
scored: held-out documents have no expectations, a reader checks each line against the release.
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.analyze.reading.forms.earnings_release import extract_earnings
from services.analyze.reading.text import extract_text


def report(directory: Path) -> int:
    total = 0
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in {".htm", ".html", ".txt"}:
            continue
        extracted = extract_text(path.read_bytes(), path.name)
        earnings = extract_earnings(extracted.text) if extracted else None
        figures = earnings.figures if earnings else ()
        print(f"== {path.name}: {len(figures)} figures")
        for figure in figures:
            total += 1
            basis = "gaap" if figure.gaap else "non-gaap"
            source = getattr(figure, "source", None) or "-"
            print(
                f"  {figure.name:<12} {figure.value:>18,.4f} {figure.period.value:<13} {basis:<8}"
                f" src={source:<5} prior={figure.prior_value} change={figure.change_percent}"
                f"  | {figure.text[:110]!r}"
            )
    print(f"total figures: {total}")
    return total


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for directory in argv:
        report(Path(directory))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
