"""Figures of an earnings release (or a 10-Q, 10-K, 6-K): revenue, net income, earnings per
share, each with its period, GAAP or not, the prior-year value and the change, and guidance.

Conservative by design: a missing figure costs a reader a click, a wrong one costs trust.
- Tables (source "table"): revenue, net income (the row attributable to the company when the
  statement has noncontrolling interests) and basic/diluted EPS of a "Statements of Operations
  / Income / Earnings" table; its header ("Three Months Ended ... 2020 2019") gives each
  column's period, the latest year's column is the current value, the year before's the prior.
  Totals need the table's scale ("in thousands"). Where prose and table disagree the table wins.
- Prose (source "prose") only where the sentence fixes period, basis and role: a clause naming
  an earlier period ("in the prior quarter", "This compares to ...") gives no current figure, a
  non-GAAP basis carries over from the heading or a sentence opening "On a non-GAAP basis", and
  amounts of items, charges or impacts are not the result. Every rule below holds:
- Clauses: a sentence is read clause by clause (split at ";" and ", while"). A clause's current
  part ends at its first comparison ("compared with", "versus", "from $", "prior year", ...);
  what follows is the comparison part, where prior values are read. "narrowed from $7.79
  million in 2023 to $4.90 million in 2024" states the prior value first: current is the "to".
- The metric is named plainly and starts its clause: "Net sales for the quarter ... decreased
  3.2 percent to $293.6 million" is revenue, but "Online sales ...", "segment revenue" and
  "global net sales of <product>" are not read at all.
- GAAP: a figure whose clause, up to the figure, says adjusted, non-GAAP, excluding, core or
  pro forma is `gaap=False`; it never stands in for the GAAP figure (nor goes into `metrics`).
- Period: the nearest period words before the figure in its clause, else anywhere in the
  sentence, else those of the document's opening (its headline): "quarter", "three months",
  "13-week" are a quarter; "six/nine months", "26/39-week", "first half", "year-to-date" are
  year to date; "full year", "fiscal year", "twelve months", "year ended", "52-week", or a bare
  "in 2024" are a full year; nothing said is `unknown`. Each (name, period, gaap) is read once:
  the first statement wins, and a later one of the same value only adds a missing prior value or
  change.
- Amounts are scaled by their word ("$1.2 billion" is 1.2e9; "42 cents" is 0.42). Revenue and
  net income without a scale word need at least four digits ("$512" is a table value out of
  context); per-share amounts must have no scale word and be below $1,000.
- Sign: a net loss, a loss per share and a figure in parentheses are negative. "Net income
  (loss)" says neither, so it is not read. The change is negative for "decreased", "down",
  "fell", "declined".
- Prior value: the amount at the same position among the comparison part's amounts of the same
  kind (totals, per share): "$74.8 million, or $1.96 per share ..., compared to $52.5 million,
  or $1.39 per share" pairs 74.8 with 52.5 and 1.96 with 1.39. A "loss" before it makes it
  negative.
- Earnings per share need "diluted" or "basic" on the figure, or an earnings subject in the
  clause (so dividends, offer prices and exercise prices per share are never read as EPS). An
  unlabelled figure next to a diluted one is the basic figure; alone it is `eps`.
- Guidance: a sentence saying the company expects, projects or guides (and not that it
  withdraws guidance) is read only for guidance: a metric and "$X to $Y", "between $X and $Y"
  or "of $X", with the sentence's period; its figures are never actual results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from services.analyze.analysis import Metric
from services.analyze.reading.text import sentences

USD, USD_PER_SHARE = "USD", "USD/share"
_SCALES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = (
    rf"(?P<open>\()?(?:US)?\$\s?(?P<inner>\()?(?P<number>{_NUMBER})"
    r"(?P<close>\))?(?:\s(?P<scale>thousand|million|billion|trillion|mn|bn)\b)?"
)
_ANY_AMOUNT = re.compile(
    rf"(?P<open>\()?(?:US)?\$\s?(?P<inner>\()?(?P<number>{_NUMBER})(?P<close>\))?"
    r"(?:\s(?P<scale>thousand|million|billion|trillion|mn|bn)\b)?|(?P<cents>\d{1,3})\s+cents\b",
    re.IGNORECASE,
)
_PER_SHARE_AFTER = re.compile(r"\s*(?:per\s+(?:diluted\s+|basic\s+)?(?:common\s+)?share)", re.I)
_PER_SHARE_BEFORE = re.compile(r"(?:per\s+share|\beps)\b[^$]{0,30}$", re.IGNORECASE)
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
# "narrowed from $7.79 million in 2023 to $4.90 million in 2024": prior first, then current.
_FROM_TO = re.compile(
    r"\bfrom\s+(?P<prior>\(?\$\s?\(?(?:" + _NUMBER + r")\)?(?:\s(?:thousand|million|billion))?)"
    r"[^$;]{0,40}?\bto\s+(?P<current>\(?\$\s?\(?(?:"
    + _NUMBER
    + r")\)?(?:\s(?:thousand|million|billion))?)",
    re.IGNORECASE,
)
_PER_SHARE = re.compile(
    rf"(?:{_AMOUNT}|(?P<cents>\d{{1,3}})\s+cents)\s+per\s+(?P<before>diluted\s+|basic\s+)?"
    r"(?:common\s+)?share\b(?P<after>,?\s+(?:on\s+a\s+)?(?:diluted|basic)\b(?:\s+basis)?)?",
    re.IGNORECASE,
)
_NAMED_PER_SHARE = re.compile(
    r"\b(?P<before>(?:basic\s+and\s+)?(?:diluted|basic)\s+(?:gaap\s+)?)?"
    r"(?P<noun>(?:net\s+)?(?:earnings|income|loss)(?:\s+\(loss\))?"
    r"\s+per\s+(?P<after>diluted\s+|basic\s+)?(?:common\s+)?share|eps)\s+(?:\([^)]{0,40}\)\s+)?"
    rf"(?:{_VERB}\s+)?{_AMOUNT}",
    re.IGNORECASE,
)
# The subject of a per-share figure stated as "from $X to $Y".
_PER_SHARE_NOUN = re.compile(
    r"\b(?P<before>(?:basic\s+and\s+)?(?:diluted|basic)\s+(?:gaap\s+)?)?"
    r"(?:net\s+)?(?:earnings|income|loss)\s+per\s+(?:diluted\s+|basic\s+)?(?:common\s+)?share\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(?:compared (?:with|to)|as compared|compares? (?:with|to)|(?:in|by) comparison|versus"
    r"|vs\.?|from (?:\$|net|a |an )|prior[- ]year"
    r"|previous year|a year (?:ago|earlier)|year[- ]ago|last year)",
    re.IGNORECASE,
)
# Words that make the figures of a clause's current part values of an earlier period: "net
# loss of $10.3 million or $(0.26) per basic share in the prior quarter". A change stated
# against it ("up 38% over prior year") is not one.
_PRIOR_ROLE = re.compile(
    r"\b(?:(?:in|for|during|of)\s+the\s+(?:prior|previous|preceding|comparable|same|linked)"
    r"\s+(?:year'?s?\s+|fiscal\s+)*(?:quarter|period|year|three\s+months|fiscal\s+quarter)"
    r"|prior[- ](?:quarter|period)|previous\s+quarter|linked[- ]quarter|sequential\w*"
    r"|a\s+year\s+(?:ago|earlier)|year[- ]ago|last\s+year|prior[- ]year|previous\s+year)\b",
    re.IGNORECASE,
)
_CHANGE_AGAINST = re.compile(
    r"(?:\bfrom|\bover|\bthan|\bversus|\bvs\.?|\bcompared\s+(?:to|with)|\brelative\s+to|\bagainst"
    r"|%|\bpercent)\s+(?:the\s+)?(?:same\s+)?$",
    re.IGNORECASE,
)
# Amounts of special items, charges or an impact are parts of a result, never the result: "the
# net loss included the following significant items, which totaled $396.8 million after-tax".
_PART_OF_RESULT = re.compile(
    r"\b(?:special|significant|one-time|non-recurring|nonrecurring|unusual|discrete|notable)"
    r"\s+items?\b|\bitems?\b|\bcharges?\b|\bimpact\s+of\b|\bimpacted\b|\bafter[- ]tax\b"
    r"|\bimpairments?\b|\bincluded\b|\bincludes\b|\bincluding\b|\bbenefits?\s+of\b",
    re.IGNORECASE,
)
# A figure's basis set after it in its clause ("$0.52 per diluted share excluding
# stock-based compensation") or by the sentence or heading before ("On a non-GAAP basis, ...").
_NON_GAAP_AFTER = re.compile(
    r"\b(?:excluding|non-gaap|adjusted|on an? (?:adjusted|non-gaap|core) basis)\b", re.I
)
# A basis word as the adjective of the measure after it: "Adjusted Net Operating Income",
# "non-GAAP EPS" (not "on an adjusted basis", nor "excluding ...").
_NAMES_A_MEASURE = re.compile(r"(?:adjusted|non-gaap)\s+(?!basis\b)[a-z]", re.I)
_NON_GAAP_CONTEXT = re.compile(
    r"\bnon-gaap\b|\badjusted\b|\bexcluding\b|\bon an? (?:adjusted|core) basis\b", re.I
)
_GAAP_CONTEXT = re.compile(r"(?<!non-)\bgaap\b(?!\s+(?:and|to)\s+non)|\breported\b", re.I)
_CLAUSE_BREAK = re.compile(r";|,\s+while\b", re.IGNORECASE)
# Words that may stand before the metric in its clause ("Third quarter fiscal 2024 revenue").
_LEAD_WORDS = frozenset(
    "the its our their total consolidated reported record gaap quarter quarterly year annual "  # noqa: SIM905
    "fiscal full first second third fourth and for q1 q2 q3 q4 adjusted non a an on".split()
)
_CLAUSE_START = re.compile(r".*(?:[,;:(]|\bthat\b|\breported\b|\bannounced\b)", re.IGNORECASE)
_NARROWING = re.compile(
    r"\b(?:from|per|segment|organic|comparable|guidance|outlook"
    r"|expect\w*|range|between|income|earnings|loss|revenues?|sales)\b",
    re.IGNORECASE,
)
_NON_GAAP = re.compile(r"\b(?:adjusted|non-gaap|excluding|core|pro forma)\b", re.IGNORECASE)
_EARNINGS_SUBJECT = re.compile(r"\b(?:net (?:income|earnings|loss)|earnings|eps|loss)\b", re.I)
_SIGN_SUBJECT = re.compile(r"\b(?:loss(?:es)?|income|earnings|profit)\b", re.I)
_NOT_EARNINGS = re.compile(
    r"\b(?:dividends?|price|consideration|offering|exercise|purchase|tender|distributions?"
    r"|book value)\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?P<word>up|down|increased|decreased|rose|fell|grew|declined|increase of|decrease of"
    r"|growth of|decline of)\s+(?:by\s+)?(?P<percent>\d+(?:\.\d+)?)\s?(?:%|percent)"
    r"|(?P<percent2>\d+(?:\.\d+)?)\s?(?:%|percent)\s+(?P<word2>increase|decrease|growth|decline)",
    re.IGNORECASE,
)
_DECREASE = frozenset({"down", "decreased", "fell", "declined", "decrease of", "decline of"})
_GUIDANCE = re.compile(
    r"\b(?:expects?|expected|guidance|outlook|anticipates?|projects?|forecasts?)\b", re.I
)
_WITHDRAWN = re.compile(r"\bwithdr[ae]w", re.IGNORECASE)
_GUIDANCE_RANGE = re.compile(
    rf"\b(?P<noun>revenues?|net sales|net income|diluted (?:earnings per share|eps)|earnings per"
    rf" (?:diluted )?share|eps)\b[^$;]{{0,80}}?(?:between\s+)?(?P<low>\$\s?(?:{_NUMBER})"
    r"(?:\s(?:thousand|million|billion))?)(?:\s*(?:to|and|-|\u2013)\s*(?P<high>\$\s?(?:"
    rf"{_NUMBER})(?:\s(?:thousand|million|billion))?))?",
    re.IGNORECASE,
)


class FiscalPeriod(StrEnum):
    """The FiscalPeriod enum of FilingAnalysis.avsc."""

    UNKNOWN = "unknown"
    QUARTER = "quarter"
    YEAR_TO_DATE = "year_to_date"
    FULL_YEAR = "full_year"


# Most specific first: "nine months ended" is year to date even though a quarter ends then.
_PERIOD_WORDS = (
    (
        FiscalPeriod.YEAR_TO_DATE,
        re.compile(
            r"\b(?:six|nine|twenty-six|thirty-nine|26|39)[- ](?:months?|weeks?)\b|\bfirst half\b"
            r"|\byear[- ]to[- ]date\b|\bytd\b",
            re.IGNORECASE,
        ),
    ),
    (
        FiscalPeriod.QUARTER,
        re.compile(r"\bquarter|\bthree months\b|\b1[34][- ]weeks?\b|\bq[1-4]\b", re.IGNORECASE),
    ),
    (
        FiscalPeriod.FULL_YEAR,
        re.compile(
            r"\bfull[- ]year\b|\bfiscal year\b|\btwelve months\b|\b12 months\b|\b5[23][- ]weeks?\b"
            r"|\byear ended\b|\bfor the year\b|\bannual\b",
            re.IGNORECASE,
        ),
    ),
)
_BARE_YEAR = re.compile(r"\bin (?:fiscal )?20\d\d\b", re.IGNORECASE)
_OPENING_CHARS = 1500


@dataclass(frozen=True, slots=True)
class EarningsFigure:
    name: str  # revenue, net_income, eps_diluted, eps_basic, eps
    value: float  # scaled to units
    unit: str  # USD or USD/share
    period: FiscalPeriod
    gaap: bool
    prior_value: float | None
    change_percent: float | None
    text: str  # the phrase (or table row) it was read from
    source: str | None = None  # "table" or "prose" (v3); None in records before v3

    def to_avro(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "period": self.period.value,
            "gaap": self.gaap,
            "prior_value": self.prior_value,
            "change_percent": self.change_percent,
            "text": self.text,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class GuidanceFigure:
    name: str
    low: float
    high: float
    unit: str
    period: FiscalPeriod
    gaap: bool
    text: str

    def to_avro(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
            "period": self.period.value,
            "gaap": self.gaap,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Earnings:
    figures: tuple[EarningsFigure, ...]
    guidance: tuple[GuidanceFigure, ...] = ()

    def metrics(self) -> dict[str, Metric]:
        """The `metrics` map of v1: the first GAAP figure of each name, whatever its period."""
        found: dict[str, Metric] = {}
        for figure in self.figures:
            if figure.gaap:
                found.setdefault(figure.name, Metric(figure.value, figure.unit, figure.text))
        return found

    def to_avro(self) -> dict[str, Any]:
        return {
            "figures": [figure.to_avro() for figure in self.figures],
            "guidance": [figure.to_avro() for figure in self.guidance],
        }


@dataclass(frozen=True, slots=True)
class _Found:
    """A figure of one clause before its period, prior value and change are settled."""

    name: str
    value: float
    unit: str
    start: int  # of the amount, in the clause
    text: str
    gaap: bool
    prior: float | None = None  # stated in the same phrase ("from $X to $Y")


def _scaled(number: str, scale: str | None) -> float:
    return float(number.replace(",", "")) * _SCALES.get((scale or "").lower(), 1.0)


def _amount(match: re.Match[str]) -> float:
    if match.groupdict().get("cents"):
        return float(match.group("cents")) / 100
    value = _scaled(match.group("number"), match.group("scale"))
    parenthesised = match.group("close") and (match.group("open") or match.group("inner"))
    return -value if parenthesised else value


def _loose_amount(text: str) -> float | None:
    match = _ANY_AMOUNT.search(text)
    return _amount(match) if match else None


def _starts_clause(prefix: str) -> bool:
    """Only modifiers like "Third quarter fiscal 2024" stand between clause start and noun."""
    words = re.findall(r"[a-z0-9]+", _CLAUSE_START.sub("", prefix).lower())
    return all(word in _LEAD_WORDS or word.isdigit() for word in words)


def _metric_name(noun: str) -> str:
    return "revenue" if "sales" in noun or "revenue" in noun else "net_income"


def _totals(clause: str, whole: str) -> Iterator[_Found]:
    """Revenue and net income of the clause; `whole` is the clause with its comparison part."""
    for noun in _TOTAL_NOUN.finditer(clause):
        prefix = clause[: noun.start()]
        if not _starts_clause(prefix):
            continue
        named = noun.group(0).lower()
        gaap = not _NON_GAAP.search(prefix)
        from_to = _FROM_TO.match(whole, noun.end()) or _FROM_TO.search(
            whole[noun.end() : noun.end() + 100]
        )
        if from_to and not _NARROWING.search(whole[noun.end() : noun.end() + from_to.start()]):
            current, prior = _loose_amount(from_to["current"]), _loose_amount(from_to["prior"])
            if current is not None and prior is not None:
                sign = -1.0 if named == "net loss" else 1.0
                end = noun.end() + from_to.end()
                yield _Found(
                    _metric_name(named),
                    sign * abs(current),
                    USD,
                    noun.end() + from_to.start(),
                    whole[noun.start() : end],
                    gaap,
                    sign * abs(prior),
                )
                continue
        tail = _TOTAL_TAIL.match(clause, noun.end())
        if (
            tail is None
            or _NARROWING.search(tail.group("filler"))
            or (not tail.group("scale") and len(re.sub(r"\D", "", tail["number"])) < 4)
        ):
            continue
        value = _amount(tail)
        if named == "net loss":
            value = -abs(value)
        yield _Found(
            _metric_name(named),
            value,
            USD,
            tail.start("number"),
            clause[noun.start() : tail.end()],
            gaap,
        )


def _number_start(match: re.Match[str]) -> int:
    """Where the digits of an amount start (after "$", "(" or before "cents")."""
    group = "cents" if match.groupdict().get("cents") else "number"
    return match.start(group)


def _per_share_from_to(whole: str) -> Iterator[_Found]:
    """ "Basic and diluted loss per share improved from $(1.80) to $(0.42)": both periods."""
    for noun in _PER_SHARE_NOUN.finditer(whole):
        from_to = _FROM_TO.search(whole, noun.end(), noun.end() + 80)
        if from_to is None or "$" in whole[noun.end() : from_to.start()]:
            continue
        current, prior = _loose_amount(from_to["current"]), _loose_amount(from_to["prior"])
        if current is None or prior is None:
            continue
        sign = -1.0 if "loss" in noun.group(0).lower() else 1.0
        label = (noun.group("before") or "").lower()
        for kind in [kind for kind in ("basic", "diluted") if kind in label] or [""]:
            yield _Found(
                f"eps_{kind}" if kind else "eps",
                sign * abs(current),
                USD_PER_SHARE,
                from_to.start("current"),
                whole[noun.start() : from_to.end()],
                not _NON_GAAP.search(whole[: noun.start()]),
                sign * abs(prior),
            )


def _per_share(clause: str, whole: str) -> Iterator[_Found]:
    from_to = list(_per_share_from_to(whole))
    if from_to:
        yield from from_to
        return
    labelled: list[_Found] = []
    unlabelled: list[_Found] = []
    matches = [*_NAMED_PER_SHARE.finditer(clause), *_PER_SHARE.finditer(clause)]
    seen_starts: set[int] = set()
    for match in sorted(matches, key=lambda found_match: found_match.start()):
        number_start = _number_start(match)
        if number_start in seen_starts:
            continue
        label = (match.group("before") or match.group("after") or "").lower()
        kinds = [kind for kind in ("diluted", "basic") if kind in label]
        prefix = clause[:number_start]
        subjects = _EARNINGS_SUBJECT.findall(prefix)
        value = _amount(match)
        if (
            match.groupdict().get("scale")
            or _NOT_EARNINGS.search(prefix)
            or not (kinds or subjects)
            or abs(value) >= 1000
        ):
            continue
        seen_starts.add(number_start)
        # The sign is the nearest measure's before the figure: "Net Loss of $36.8 million --
        # $1.21 per diluted share and Adjusted Net Operating Income of $15.4 million -- $0.50
        # per diluted share" is a loss per share, then an income per share.
        measures = _SIGN_SUBJECT.findall(prefix)
        if measures and "loss" in measures[-1].lower():
            value = -abs(value)
        phrase = match.group(0).strip()
        if match.groupdict().get("open") and not match.group("close"):  # "($0.88 per share..."
            phrase = phrase[1:]
        gaap = not _NON_GAAP.search(prefix)
        for kind in kinds or [""]:
            found = _Found(
                f"eps_{kind}" if kind else "eps", value, USD_PER_SHARE, number_start, phrase, gaap
            )
            (labelled if kind else unlabelled).append(found)
    yield from labelled
    if unlabelled:
        has_diluted = any(found.name == "eps_diluted" for found in labelled)
        for found in unlabelled:
            yield replace(found, name="eps_basic") if has_diluted else found


def _period(text: str, before: int | None = None) -> FiscalPeriod | None:
    """The period named by the last period words before `before`, or (`before` None) by the
    first in `text`. A bare year ("in 2024") counts only where no other period words are."""
    scope = text if before is None else text[:before]
    found = [
        (match.start(), period)
        for period, words in _PERIOD_WORDS
        for match in words.finditer(scope)
    ]
    if not found:
        return FiscalPeriod.FULL_YEAR if _BARE_YEAR.search(scope) else None
    # Overlapping words ("nine months ended ... quarter") go to the more specific, listed first.
    found.sort(key=lambda hit: hit[0])
    return found[-1][1] if before is not None else found[0][1]


def _change(segment: str) -> float | None:
    match = _CHANGE.search(segment)
    if not match:
        return None
    word = (match.group("word") or match.group("word2") or "").lower()
    percent = float(match.group("percent") or match.group("percent2"))
    return -percent if word in _DECREASE or word.startswith(("decrease", "decline")) else percent


def _comparison_amounts(comparison: str) -> tuple[list[float], list[float]]:
    """Totals and per-share amounts of a comparison part, in order; a "loss" before one makes
    it negative."""
    totals: list[float] = []
    per_share: list[float] = []
    for match in _ANY_AMOUNT.finditer(comparison):
        value = _amount(match)
        before = comparison[max(0, match.start() - 40) : match.start()]
        if re.search(r"\bloss\b", before, re.IGNORECASE):
            value = -abs(value)
        is_per_share = bool(match.group("cents")) or (
            not match.group("scale")
            and (
                _PER_SHARE_AFTER.match(comparison, match.end()) is not None
                or _PER_SHARE_BEFORE.search(before) is not None
            )
        )
        (per_share if is_per_share else totals).append(value)
    return totals, per_share


def _states_prior_period(current: str) -> bool:
    """Whether the current part of a clause says its figures are of an earlier period."""
    for match in _PRIOR_ROLE.finditer(current):
        if not _CHANGE_AGAINST.search(current[max(0, match.start() - 30) : match.start()]):
            return True
    return False


def _clause_figures(
    clause_text: str, sentence: str, default: FiscalPeriod, context_non_gaap: bool = False
) -> Iterator[EarningsFigure]:
    comparison = _COMPARISON.search(clause_text)
    current = clause_text[: comparison.start()] if comparison else clause_text
    compared = clause_text[comparison.start() :] if comparison else ""
    # A prior period named in the current part, or just after it ("... in the prior year"),
    # makes the clause a comparison: none of its figures is current.
    if _states_prior_period(current) or (
        comparison
        and comparison.group(0).lower().startswith(("prior", "previous", "a year", "year", "last"))
        and not _CHANGE_AGAINST.search(
            clause_text[max(0, comparison.start() - 30) : comparison.start()]
        )
    ):
        return
    found = [
        figure
        for figure in [*_totals(current, clause_text), *_per_share(current, clause_text)]
        if not _PART_OF_RESULT.search(current[: figure.start])
    ]
    # The basis said after the figures in the current part, or by the sentence or heading
    # before when this sentence names none, is theirs. "Adjusted" or "non-GAAP" naming a
    # measure ("... and Adjusted Net Operating Income of $15.4 million") is that measure's
    # basis, not a qualifier of the figures before it.
    after = _NON_GAAP_AFTER.search(current, min((f.start for f in found), default=0))
    if (after is not None and not _NAMES_A_MEASURE.match(current, after.start())) or (
        context_non_gaap and not _GAAP_CONTEXT.search(sentence)
    ):
        found = [replace(figure, gaap=False) for figure in found]
    prior_totals, prior_per_share = _comparison_amounts(compared)
    own_totals = [
        _number_start(m)
        for m in _ANY_AMOUNT.finditer(current)
        if m.group("scale") or len(re.sub(r"\D", "", m.group("number") or "")) >= 4
    ]
    own_per_share = [
        _number_start(m)
        for m in _ANY_AMOUNT.finditer(current)
        if m.group("cents")
        or _PER_SHARE_AFTER.match(current, m.end())
        or _PER_SHARE_BEFORE.search(current[max(0, m.start() - 40) : m.start()])
    ]
    starts = sorted(f.start for f in found)
    for figure in sorted(found, key=lambda f: f.start):
        prior = figure.prior
        if prior is None:
            positions, priors = (
                (own_totals, prior_totals)
                if figure.unit == USD
                else (own_per_share, prior_per_share)
            )
            index = next((i for i, start in enumerate(positions) if start >= figure.start), None)
            if index is not None and index < len(priors):
                prior = priors[index]
        # The change stated between this figure's noun and the next figure belongs to it;
        # "up 36% and 34% ..., respectively" pairs changes with figures by order, which is not
        # read: left out rather than given to the wrong figure.
        later = [start for start in starts if start > figure.start]
        segment_end = later[0] if later else len(current)
        segment_start = figure.start - len(figure.text) + 1 if figure.unit == USD else figure.start
        change = (
            None
            if _RESPECTIVELY.search(sentence)
            else _change(current[max(0, segment_start) : segment_end])
        )
        period = (
            _period(current, figure.start)
            or _period(current)
            or _period(_COMPARISON.split(sentence, 1)[0])
            or default
        )
        yield EarningsFigure(
            figure.name,
            figure.value,
            figure.unit,
            period,
            figure.gaap,
            prior,
            change,
            figure.text,
            "prose",
        )


def _guidance(sentence: str, default: FiscalPeriod) -> Iterator[GuidanceFigure]:
    for match in _GUIDANCE_RANGE.finditer(sentence):
        noun = match.group("noun").lower()
        low = _loose_amount(match.group("low"))
        high = _loose_amount(match.group("high")) if match.group("high") else low
        if low is None or high is None:
            continue
        per_share = "share" in noun or "eps" in noun
        name = ("eps_diluted" if "diluted" in noun else "eps") if per_share else _metric_name(noun)
        yield GuidanceFigure(
            name,
            low,
            high,
            USD_PER_SHARE if per_share else USD,
            _period(sentence) or default,
            not _NON_GAAP.search(sentence[: match.start()]),
            match.group(0),
        )


def _same_value(first: float, second: float) -> bool:
    return abs(first - second) <= 0.006 * max(abs(first), abs(second))


# --- Financial statement tables -------------------------------------------------------------
# extract_text renders a table row as one line, its cells joined by a space, or (some filing
# agents) each cell on a line of its own; both are read as "label, then the values that follow".
_TABLE_TITLE = re.compile(
    r"\bstatements?\s+of\s+(?:consolidated\s+)?(?:operations|income|earnings|comprehensive)",
    re.IGNORECASE,
)
_TABLE_END = re.compile(r"\bbalance\s+sheets?\b|\bcash\s+flows?\b|\bstatements?\s+of\b", re.I)
_TABLE_SCALE = re.compile(r"\bin\s+(thousands|millions|billions)\b", re.IGNORECASE)
_TABLE_NOT_GAAP = re.compile(r"\b(?:non-gaap|adjusted|reconciliation|pro\s+forma)\b", re.I)
_COLUMN_PERIOD = re.compile(
    r"\b(?P<quarter>three\s+months|thirteen\s+weeks|fourteen\s+weeks|1[34]\s+weeks|quarters?)"
    r"(?:\s+ended)?\b|\b(?P<ytd>(?:six|nine|twenty-six|thirty-nine|26|39)\s+(?:months|weeks))"
    r"(?:\s+ended)?\b|\b(?P<year>(?:twelve|12)\s+months|fifty-[23]\s+weeks|5[23]\s+weeks"
    r"|(?:fiscal\s+)?years?)\s+ended\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CELL = re.compile(r"\(\s*[\d,]*\.?\d+\s*\)?|[\d,]*\.?\d+|(?<!\S)[-\u2013\u2014](?!\S)")
_VALUES_ONLY = re.compile(r"^[\s$()\d,.\-\u2013\u2014]*$")
_ROW = re.compile(
    r"^(?P<label>.*?[A-Za-z:)\]])(?P<values>(?:\s*\$?\s*(?:\(\s*[\d,]*\.?\d+\s*\)?|[\d,]*\.?\d+"
    r"|[-\u2013\u2014](?=\s|$)))+)\s*$"
)
_REVENUE_ROW = re.compile(
    r"^(?:total\s+)?(?:net\s+)?(?:revenues?|sales)(?:\s*,\s*net\b.*)?$", re.IGNORECASE
)
_NET_INCOME_ROW = re.compile(
    r"^net\s+(?:income|earnings|loss|\(loss\)|income\s*\(loss\)|earnings\s*\(loss\)"
    r"|\(loss\)\s*(?:income|earnings))(?:\s+(?:attributable|allocable)\s+to\s+(?P<owner>.+))?$",
    re.IGNORECASE,
)
_PER_SHARE_ROW = re.compile(r"\bper\s+(?:common\s+)?share\b|\beps\b", re.IGNORECASE)
_PER_SHARE_HEADING = re.compile(
    r"\b(?:earnings|income|loss)\b.*\bper\s+(?:common\s+)?share\b|^(?:net\s+)?eps\b", re.I
)
_NOT_NET_ROW = re.compile(
    r"\b(?:continuing|discontinued|operations|weighted|shares\s+used|dividends?|adjusted"
    r"|non-gaap|excluding|pro\s+forma|core|noncontrolling|non-controlling|minority"
    r"|available|allocable|before)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Columns:
    periods: tuple[FiscalPeriod, ...]  # one per column
    current: frozenset[int]  # the columns of the latest year of each period group
    prior: Mapping[int, int]  # current column -> the column of the year before


def _columns(header: str) -> _Columns | None:
    """Period and role of each column from a header ("Three Months Ended ... 2020 2019")."""
    groups = [
        FiscalPeriod.QUARTER
        if match["quarter"]
        else FiscalPeriod.YEAR_TO_DATE
        if match["ytd"]
        else FiscalPeriod.FULL_YEAR
        for match in _COLUMN_PERIOD.finditer(header)
    ]
    years = [int(year) for year in _YEAR.findall(header[_COLUMN_PERIOD.search(header).start() :])]  # type: ignore[union-attr]
    if not groups or not years or len(years) % len(groups):
        return None
    width = len(years) // len(groups)
    periods: list[FiscalPeriod] = []
    current: set[int] = set()
    prior: dict[int, int] = {}
    for index, period in enumerate(groups):
        columns = list(range(index * width, (index + 1) * width))
        group_years = [years[column] for column in columns]
        latest = max(group_years)
        periods.extend([period] * width)
        if group_years.count(latest) != 1:  # two columns of the latest year: role not fixed
            continue
        column = columns[group_years.index(latest)]
        current.add(column)
        if group_years.count(latest - 1) == 1:
            prior[column] = columns[group_years.index(latest - 1)]
    return _Columns(tuple(periods), frozenset(current), prior)


def _cells(values: str) -> list[float | None]:
    cells: list[float | None] = []
    for cell in _CELL.findall(values.replace("$", " ")):
        if cell in {"-", "\u2013", "\u2014"}:
            cells.append(None)
            continue
        number = float(re.sub(r"[^\d.]", "", cell))
        cells.append(-number if cell.startswith("(") else number)
    return cells


def _table_rows(lines: list[str]) -> Iterator[tuple[int, str, list[float | None]]]:
    """(line index, label, values) of each row; values on the lines after a label join it."""
    index = 0
    while index < len(lines):
        line = lines[index]
        if _VALUES_ONLY.match(line):
            index += 1
            continue
        row = _ROW.match(line)
        label, values = (row["label"], row["values"]) if row else (line, "")
        start = index
        index += 1
        if not row:
            while index < len(lines) and _VALUES_ONLY.match(lines[index]):
                values += " " + lines[index]
                index += 1
        yield start, label.strip(), _cells(values)


def _row_name(label: str, heading: str) -> tuple[str, bool] | None:
    """(figure name, preferred) of a statement row, or None. Preferred: net income
    attributable to the company, which wins over plain net income."""
    label = re.sub(r"\s*\(\d\)\s*$|:$", "", label).strip()
    if _REVENUE_ROW.match(label):
        return "revenue", False
    income = _NET_INCOME_ROW.match(label)
    if income:
        owner = income["owner"] or ""
        if owner and re.search(
            r"noncontrolling|non-controlling|minority|common|particip", owner, re.I
        ):
            return None
        return "net_income", bool(owner)
    if _NOT_NET_ROW.search(label):
        return None
    kinds = [kind for kind in ("basic", "diluted") if re.search(rf"\b{kind}\b", label, re.I)]
    if len(kinds) == 1 and (
        _PER_SHARE_ROW.search(label)
        or (re.fullmatch(r"(?:basic|diluted)", label, re.I) and _PER_SHARE_HEADING.search(heading))
    ):
        return f"eps_{kinds[0]}", False
    return None


def _table_figures(text: str) -> dict[tuple[str, FiscalPeriod, bool], EarningsFigure]:
    """Revenue, net income and EPS of the release's income statements, each current column
    with its period and the prior year's column as prior value."""
    lines = text.split("\n")
    found: dict[tuple[str, FiscalPeriod, bool], EarningsFigure] = {}
    preferred: set[tuple[str, FiscalPeriod, bool]] = set()
    index = 0
    while index < len(lines):
        if not _COLUMN_PERIOD.search(lines[index]) or len(lines[index]) > 160:
            index += 1
            continue
        title = "\n".join(lines[max(0, index - 6) : index])
        if not _TABLE_TITLE.search(title) or _TABLE_NOT_GAAP.search(title):
            index += 1
            continue
        # The header runs until the first row with values; the scale is said near it.
        header_end = index + 1
        while header_end < len(lines) and header_end < index + 12:
            line = lines[header_end]
            if not _YEAR.search(line) and (_ROW.match(line) or _VALUES_ONLY.match(line)):
                break
            if (
                re.match(r"^[A-Za-z]", line)
                and not _YEAR.search(line)
                and not re.search(
                    r"ended|\bmonths\b|\bweeks\b|unaudited|in\s+(?:thousands|millions|billions)"
                    r"|^\w+\s+\d{1,2},?$",
                    line,
                    re.I,
                )
            ):
                break
            header_end += 1
        header = " ".join(lines[index:header_end])
        columns = _columns(header)
        scale_text = "\n".join(lines[max(0, index - 6) : header_end + 3])
        scale_match = _TABLE_SCALE.search(scale_text)
        scale = _SCALES[scale_match[1].lower().rstrip("s")] if scale_match else None
        end = header_end
        while (
            end < len(lines)
            and not (_COLUMN_PERIOD.search(lines[end]) and len(lines[end]) < 160)
            and not (_TABLE_END.search(lines[end]) and len(lines[end]) < 100)
        ):
            end += 1
        if columns is None:
            index = end
            continue
        heading = ""
        # With noncontrolling interests, plain "Net income" is not the company's: only the
        # row attributable to it counts.
        plain: dict[tuple[str, FiscalPeriod, bool], EarningsFigure] = {}
        has_noncontrolling = False
        for _, label, values in _table_rows(lines[header_end:end]):
            if not values:
                heading = label
                continue
            if re.search(r"non-?controlling|minority", label, re.IGNORECASE):
                has_noncontrolling = True
            named = _row_name(label, heading)
            if not re.fullmatch(r"(?:basic|diluted)", label.strip(" :"), re.I):
                heading = ""
            if named is None or len(values) != len(columns.periods):
                continue
            name, is_preferred = named
            per_share = name.startswith("eps")
            if not per_share and scale is None:
                continue
            factor = 1.0 if per_share else float(scale or 1.0)
            for column in sorted(columns.current):
                value = values[column]
                if value is None or (per_share and abs(value) >= 1000):
                    continue
                prior_column = columns.prior.get(column)
                prior = values[prior_column] if prior_column is not None else None
                key = (name, columns.periods[column], True)
                if key in found and not (is_preferred and key not in preferred):
                    continue
                if is_preferred:
                    preferred.add(key)
                (plain if name == "net_income" and not is_preferred else found)[key] = (
                    EarningsFigure(
                        name,
                        value * factor,
                        USD_PER_SHARE if per_share else USD,
                        columns.periods[column],
                        True,
                        None if prior is None else prior * factor,
                        None,
                        label,
                        "table",
                    )
                )
        if not has_noncontrolling:
            for key, figure in plain.items():
                found.setdefault(key, figure)
        index = end
    return found


_RESPECTIVELY = re.compile(r"\brespectively\b", re.I)
_SETS_BASIS = re.compile(
    r"^\W*(?:on\s+an?\s+(?:non-gaap|adjusted|core)\s+basis|excluding\b|adjusted\b|non-gaap\b)", re.I
)


def _sentences_with_basis(text: str) -> Iterator[tuple[str, bool]]:
    """Each sentence, and whether the sentence or heading before it sets a non-GAAP basis
    ("First Quarter 2020 Non-GAAP Financial Results", "On a non-GAAP basis, ...")."""
    heading_non_gaap = False
    for line in text.split("\n"):
        if "$" not in line and len(line) < 150 and not line.rstrip().endswith("."):
            heading_non_gaap = bool(_NON_GAAP_CONTEXT.search(line))
            continue
        previous_non_gaap = False
        for sentence in sentences(line):
            yield sentence, heading_non_gaap or previous_non_gaap
            previous_non_gaap = bool(_SETS_BASIS.search(sentence))
        # A heading's basis is the paragraph's under it, not the rest of the release: a table's
        # "Adjusted Diluted EPS" row is no heading of the prose after the table.
        heading_non_gaap = False


def extract_earnings(text: str) -> Earnings | None:
    """The figures and guidance `text` states; None when it states none."""
    default = _period(text[:_OPENING_CHARS]) or FiscalPeriod.UNKNOWN
    figures: dict[tuple[str, FiscalPeriod, bool], EarningsFigure] = {}
    guidance: list[GuidanceFigure] = []
    for sentence, context_non_gaap in _sentences_with_basis(text):
        if "$" not in sentence and "cents" not in sentence:
            continue
        if _GUIDANCE.search(sentence):
            if not _WITHDRAWN.search(sentence):
                guidance.extend(_guidance(sentence, default))
            continue
        for clause in _CLAUSE_BREAK.split(sentence):
            for figure in _clause_figures(clause, sentence, default, context_non_gaap):
                key = (figure.name, figure.period, figure.gaap)
                known = figures.get(key)
                if known is None:
                    figures[key] = figure
                elif _same_value(known.value, figure.value):
                    figures[key] = replace(
                        known,
                        prior_value=known.prior_value
                        if known.prior_value is not None
                        else figure.prior_value,
                        change_percent=known.change_percent
                        if known.change_percent is not None
                        else figure.change_percent,
                    )
    # The statements win: a table figure replaces a prose one of another value, and one of the
    # same value (the prose rounds) only adds a missing prior value.
    for key, table in _table_figures(text).items():
        prose = figures.get(key)
        if prose is None or not _same_value(prose.value, table.value):
            figures[key] = table
        elif prose.prior_value is None and table.prior_value is not None:
            figures[key] = replace(prose, prior_value=table.prior_value)
    if not figures and not guidance:
        return None
    return Earnings(tuple(figures.values()), tuple(guidance))


def extract_metrics(text: str) -> Mapping[str, Metric]:
    """Revenue, net income and EPS stated in `text` (GAAP, first stated), keyed revenue,
    net_income, eps_diluted, eps_basic or eps; empty when the text states none."""
    earnings = extract_earnings(text)
    return earnings.metrics() if earnings else {}
