"""Headline figures of an earnings release: revenue, net income, earnings per share.

Conservative by design: a missing figure costs a reader a click, a wrong one costs trust. So a
figure is only read from prose in which the company states it, never from tables (whose scale
and column order vary), and only when every rule below holds:
- Current period only: a sentence is read up to its first comparison ("compared with",
  "versus", "from $", "prior year", ...), and the first sentence that states a metric wins.
- The metric is named plainly and starts its clause: "Net sales for the quarter ... decreased
  3.2 percent to $293.6 million" is revenue, but "Online sales ...", "segment revenue",
  "adjusted net income" and "expects revenue of ..." are not read at all.
- Amounts are scaled by their word ("$1.2 billion" is 1.2e9). Revenue and net income without a
  scale word need at least four digits ("$512" is a table value out of context); per-share
  amounts must have no scale word and be below $1,000.
- A net loss, and a figure in parentheses, is negative. "Net income (loss)" says neither, so it
  is not read.
- Earnings per share need "diluted" or "basic" on the figure, or an earnings subject in the
  clause (so dividends, offer prices and exercise prices per share are never read as EPS). An
  unlabelled figure next to a diluted one is the basic figure; alone it is `eps`.
"""

from __future__ import annotations

import re

from services.analyze.analysis import Metric
from services.analyze.text import sentences

USD, USD_PER_SHARE = "USD", "USD/share"
_SCALES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_AMOUNT = (
    r"(?P<open>\()?(?:US)?\$\s?(?P<inner>\()?(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<close>\))?(?:\s(?P<scale>thousand|million|billion|trillion|mn|bn)\b)?"
)
_VERB = r"(?:was|were|of|totaled|totalled|amounted to|reached|came in at)"
_TOTAL_NOUN = re.compile(
    r"\b(?:total net sales|net sales|total revenues?|net revenues?|revenues?|net income"
    r"|net earnings|net loss)\b",
    re.IGNORECASE,
)
# What follows a metric noun: a short filler, the verb, the amount.
_TOTAL_TAIL = re.compile(
    rf"(?P<filler>[^$;]{{0,120}}?)\b(?:{_VERB}|(?:increased|decreased|rose|fell|grew|declined)\b"
    rf"[^$;]{{0,60}}?\bto)\s+(?:approximately\s+|about\s+|a record\s+)?{_AMOUNT}",
    re.IGNORECASE,
)
_PER_SHARE = re.compile(
    rf"{_AMOUNT}\s+per\s+(?P<before>diluted\s+|basic\s+)?(?:common\s+)?share\b"
    r"(?P<after>,?\s+(?:on\s+a\s+)?(?:diluted|basic)\b(?:\s+basis)?)?",
    re.IGNORECASE,
)
_NAMED_PER_SHARE = re.compile(
    r"\b(?P<before>diluted\s+|basic\s+)?(?P<noun>(?:net\s+)?(?:earnings|income|loss)(?:\s+\(loss\))?"
    r"\s+per\s+(?P<after>diluted\s+|basic\s+)?(?:common\s+)?share|eps)\s+(?:\([^)]{0,40}\)\s+)?"
    rf"{_VERB}\s+{_AMOUNT}",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:compared (?:with|to)|as compared|versus|vs\.?|from (?:\$|net|a |an )|prior[- ]year"
    r"|previous year|a year (?:ago|earlier)|year[- ]ago|last year)",
    re.IGNORECASE,
)
# Words that may stand before the metric in its clause ("Third quarter fiscal 2024 revenue").
_LEAD_WORDS = frozenset(
    "the its our their total consolidated reported record gaap quarter quarterly year annual "  # noqa: SIM905
    "fiscal full first second third fourth and for q1 q2 q3 q4".split()
)
_CLAUSE_START = re.compile(r".*(?:[,;:(]|\bthat\b|\breported\b|\bannounced\b)", re.IGNORECASE)
_NARROWING = re.compile(
    r"\b(?:from|per|excluding|segment|adjusted|organic|comparable|non-gaap|guidance|outlook"
    r"|expect\w*|range|between|income|earnings|loss|revenues?|sales)\b",
    re.IGNORECASE,
)
_EARNINGS_SUBJECT = re.compile(r"\b(?:net (?:income|earnings|loss)|earnings|eps|loss)\b", re.I)
_NOT_EARNINGS = re.compile(
    r"\b(?:dividends?|price|consideration|offering|exercise|purchase|tender|distributions?"
    r"|book value|adjusted|non-gaap)\b",
    re.IGNORECASE,
)


def _amount(match: re.Match[str]) -> float:
    value = float(match.group("number").replace(",", ""))
    value *= _SCALES.get((match.group("scale") or "").lower(), 1.0)
    parenthesised = match.group("close") and (match.group("open") or match.group("inner"))
    return -value if parenthesised else value


def _starts_clause(prefix: str) -> bool:
    """Only modifiers like "Third quarter fiscal 2024" stand between clause start and noun."""
    words = re.findall(r"[a-z0-9]+", _CLAUSE_START.sub("", prefix).lower())
    return all(word in _LEAD_WORDS or word.isdigit() for word in words)


def _total(clause: str) -> tuple[str, Metric] | None:
    for noun in _TOTAL_NOUN.finditer(clause):
        tail = _TOTAL_TAIL.match(clause, noun.end())
        if (
            tail is None
            or _NARROWING.search(tail.group("filler"))
            or not _starts_clause(clause[: noun.start()])
            or (not tail.group("scale") and len(re.sub(r"\D", "", tail["number"])) < 4)
        ):
            continue
        named, value = noun.group(0).lower(), _amount(tail)
        if named == "net loss":
            value = -abs(value)
        name = "revenue" if "sales" in named or "revenue" in named else "net_income"
        return name, Metric(value, USD, clause[noun.start() : tail.end()])
    return None


def _per_share(clause: str) -> dict[str, Metric]:
    found: dict[str, Metric] = {}
    unlabelled: list[Metric] = []
    matches = [*_NAMED_PER_SHARE.finditer(clause), *_PER_SHARE.finditer(clause)]
    for match in sorted(matches, key=lambda found_match: found_match.start()):
        label = (match.group("before") or match.group("after") or "").lower()
        kind = "diluted" if "diluted" in label else "basic" if "basic" in label else ""
        subjects = _EARNINGS_SUBJECT.findall(clause[: match.end("number")])
        value = _amount(match)
        if (
            match.group("scale")
            or _NOT_EARNINGS.search(clause[: match.start("number")])
            or not (kind or subjects)
            or abs(value) >= 1000
        ):
            continue
        if subjects and "loss" in subjects[-1].lower():
            value = -abs(value)
        phrase = match.group(0).strip()
        if match.group("open") and not match.group("close"):  # "($0.88 per share on a ..."
            phrase = phrase[1:]
        metric = Metric(value, USD_PER_SHARE, phrase)
        if kind:
            found.setdefault(f"eps_{kind}", metric)
        else:
            unlabelled.append(metric)
    if unlabelled:
        found.setdefault("eps_basic" if "eps_diluted" in found else "eps", unlabelled[0])
    return found


def extract_metrics(text: str) -> dict[str, Metric]:
    """Revenue, net income and EPS stated in `text`, keyed revenue, net_income, eps_diluted,
    eps_basic or eps; empty when the text states none."""
    metrics: dict[str, Metric] = {}
    for sentence in sentences(text):
        if "$" not in sentence:
            continue
        comparison = _COMPARISON.search(sentence)
        clause = sentence[: comparison.start()] if comparison else sentence
        if total := _total(clause):
            metrics.setdefault(*total)
        for name, metric in _per_share(clause).items():
            metrics.setdefault(name, metric)
    return metrics
