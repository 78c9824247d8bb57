"""10-Q, 10-K, 20-F and 40-F (and their /A, 10-QT, 10-KT): the period's figures read from XBRL.

Two inputs, one reading (XBRL 2.1; inline XBRL 1.1):
- `inline=False`: an XBRL instance (`xbrli:xbrl` root; contexts, units and facts are its children),
  the "EXTRACTED XBRL INSTANCE DOCUMENT" or EX-101.INS an index page lists.
- `inline=True`: the inline XBRL (XHTML) primary document: facts are `ix:nonFraction` (contextRef,
  unitRef, decimals, scale, sign="-", format) and `ix:nonNumeric` (the dei cover facts); contexts
  and units sit in `ix:header/ix:resources`. A bare `<!DOCTYPE html>` (no internal subset) is
  allowed; any other DTD or entity declaration is refused.

The rules:
1. The current period is fixed by dei:DocumentPeriodEndDate (contexts ending within 7 days of it
   count: 52/53-week years end on a weekday). Annual (DocumentFiscalPeriodFocus FY, or a 10-K,
   10-KT, 20-F, 40-F): a duration of 350-380 days ending there, labelled fiscal_year; a 10-K's
   quarterly contexts are never taken for the year. Quarterly: 80-100 days is a quarter, 170-195
   six_months, 260-285 nine_months (year to date, never called a quarter); both the quarter and
   the year to date are reported when present.
2. A quarter missing from the document is derived (derived=true) only from the current year to
   date minus the preceding year to date (same start, ending at the prior quarter end), both
   present.
3. prior_year: a context of the same kind and length ending a year before (within 7 days), in
   the concept the current figure was read from when there is one (the same line). For
   the balance sheet (cash, total assets) an instant a year before; a 10-Q's prior fiscal year
   end is another date and is not prior_year.
4. A fact whose context has a segment or scenario (xbrldi:explicitMember / typedMember) is never
   a total and is never read.
5. Duplicates (same concept, same period) with one value are one fact; different values: none is
   taken, and incomplete_reason says so.
6. A loss stays negative: `sign="-"` in inline XBRL, the negative value in an instance.
7. shares_outstanding is dei:EntityCommonStockSharesOutstanding at its cover-page date (after the
   period end, not at it): taken as the current instant, without a prior_year.
8. No current period (dei missing, a form that is not a periodic report such as an 8-K's small
   instance, no context ending at the period end): empty facts and incomplete_reason, no error.

Concepts, first found wins (a concept is tried for each period on its own; the first in the list
that the document states for that period is read):
- revenue: us-gaap:Revenues (the total line the FASB taxonomy defines and most filers tag);
  RevenueFromContractWithCustomerExcludingAssessedTax (ASC 606 filers since 2018 tag their
  total with it when they have no other revenue); ...IncludingAssessedTax (the same, taxes
  included); SalesRevenueNet and SalesRevenueGoodsNet / SalesRevenueServicesNet (pre-2018
  taxonomies, a narrower sales line, so after the total concepts); RevenuesNetOfInterestExpense
  (banks and brokers: their top line); ifrs-full:Revenue (20-F, 40-F under IFRS). The broadest
  total comes first so a company that tags both a total and a component gets the total.
- net_income: us-gaap:NetIncomeLoss (attributable to the parent: what EPS is computed from), then
  ProfitLoss (including noncontrolling interests), NetIncomeLossAvailableToCommonStockholdersBasic,
  ifrs-full:ProfitLossAttributableToOwnersOfParent, ifrs-full:ProfitLoss.
- eps_basic / eps_diluted: us-gaap:EarningsPerShareBasic / EarningsPerShareDiluted (then
  EarningsPerShareBasicAndDiluted for both), ifrs-full:BasicEarningsLossPerShare /
  DilutedEarningsLossPerShare.
- operating_cash_flow: us-gaap:NetCashProvidedByUsedInOperatingActivities (then
  ...ContinuingOperations), ifrs-full:CashFlowsFromUsedInOperatingActivities.
- cash: us-gaap:CashAndCashEquivalentsAtCarryingValue, then
  CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents, ifrs-full:CashAndCashEquivalents.
- total_assets: us-gaap:Assets, ifrs-full:Assets.

Concepts are known by namespace: us-gaap (fasb.org, and xbrl.us for the 2009-2010 taxonomies),
dei (xbrl.sec.gov, xbrl.us), ifrs-full (xbrl.ifrs.org); a filer's own extension concepts are
never read.

Units come from the unit's measures (iso4217:USD -> USD, xbrli:shares -> shares, a divide ->
USD/shares). A malformed document (not XML, a DTD or entity declaration, not XBRL) raises
`SerializationError`; an unreadable fact is skipped, never an exception.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element

from services.analyze.reading.forms.xml import local_name, namespace_of, parse_xml
from services.common.errors import SerializationError

FINANCIAL_FORMS = frozenset({"10-Q", "10-K", "10-QT", "10-KT", "20-F", "40-F"})
_ANNUAL_FORMS = frozenset({"10-K", "10-KT", "20-F", "40-F"})

_XBRLI = "http://www.xbrl.org/2003/instance"
_IX = "http://www.xbrl.org/2013/inlineXBRL"
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_HTML_DOCTYPE = re.compile(rb"<!DOCTYPE\s+html\s*>", re.IGNORECASE)
_SLACK_DAYS = 7
_DURATIONS = {
    "quarter": (80, 100),
    "six_months": (170, 195),
    "nine_months": (260, 285),
    "fiscal_year": (350, 380),
}

_CONCEPTS: dict[str, tuple[str, ...]] = {
    "revenue": (
        "us-gaap:Revenues",
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
        "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax",
        "us-gaap:SalesRevenueNet",
        "us-gaap:SalesRevenueGoodsNet",
        "us-gaap:SalesRevenueServicesNet",
        "us-gaap:RevenuesNetOfInterestExpense",
        "ifrs-full:Revenue",
    ),
    "net_income": (
        "us-gaap:NetIncomeLoss",
        "us-gaap:ProfitLoss",
        "us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic",
        "ifrs-full:ProfitLossAttributableToOwnersOfParent",
        "ifrs-full:ProfitLoss",
    ),
    "eps_basic": (
        "us-gaap:EarningsPerShareBasic",
        "us-gaap:EarningsPerShareBasicAndDiluted",
        "ifrs-full:BasicEarningsLossPerShare",
    ),
    "eps_diluted": (
        "us-gaap:EarningsPerShareDiluted",
        "us-gaap:EarningsPerShareBasicAndDiluted",
        "ifrs-full:DilutedEarningsLossPerShare",
    ),
    "operating_cash_flow": (
        "us-gaap:NetCashProvidedByUsedInOperatingActivities",
        "us-gaap:NetCashProvidedByUsedInOperatingActivitiesContinuingOperations",
        "ifrs-full:CashFlowsFromUsedInOperatingActivities",
    ),
    "cash": (
        "us-gaap:CashAndCashEquivalentsAtCarryingValue",
        "us-gaap:CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
        "ifrs-full:CashAndCashEquivalents",
    ),
    "total_assets": ("us-gaap:Assets", "ifrs-full:Assets"),
}
_INSTANT_NAMES = frozenset({"cash", "total_assets"})
_SHARES_CONCEPT = "dei:EntityCommonStockSharesOutstanding"
_DEI = (
    "dei:DocumentType",
    "dei:DocumentPeriodEndDate",
    "dei:DocumentFiscalYearFocus",
    "dei:DocumentFiscalPeriodFocus",
)


class Source(StrEnum):
    INSTANCE = "instance"
    INLINE = "inline"


class Role(StrEnum):
    CURRENT = "current"
    PRIOR_YEAR = "prior_year"


@dataclass(frozen=True, slots=True)
class FinancialFact:
    name: str
    role: Role
    value: float
    unit: str
    decimals: int | None  # None for INF
    concept: str  # prefix:local
    period_start: str | None  # None for an instant
    period_end: str
    period_label: str  # quarter, six_months, nine_months, fiscal_year, instant, other
    derived: bool = False

    def to_avro(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "value": float(self.value),
            "unit": self.unit,
            "decimals": self.decimals,
            "concept": self.concept,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "period_label": self.period_label,
            "derived": self.derived,
        }


@dataclass(frozen=True, slots=True)
class Financials:
    source: Source
    document_type: str | None
    period_end: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    facts: tuple[FinancialFact, ...] = field(default=())
    incomplete_reason: str | None = None

    def to_avro(self) -> dict[str, Any]:
        """The Avro record `Financials` of FilingAnalysis (field `financials`)."""
        return {
            "source": self.source.value,
            "document_type": self.document_type,
            "period_end": self.period_end,
            "fiscal_year": self.fiscal_year,
            "fiscal_period": self.fiscal_period,
            "facts": [fact.to_avro() for fact in self.facts],
            "incomplete_reason": self.incomplete_reason,
        }

    def figure(self, name: str, role: Role | str = Role.CURRENT) -> FinancialFact | None:
        """The fact for name and role; a stated quarter or year before a year to date."""
        order = ("quarter", "fiscal_year", "instant", "six_months", "nine_months", "other")
        matching = [fact for fact in self.facts if fact.name == name and fact.role == role]
        matching.sort(key=lambda fact: (fact.derived, order.index(fact.period_label)))
        return matching[0] if matching else None

    def describe(self) -> list[str]:
        """Lines for an LLM prompt: the period, then one line a fact."""
        head = (
            f"XBRL {self.document_type or '?'} for the period ending {self.period_end or '?'}"
            f" (fiscal {self.fiscal_period or '?'} {self.fiscal_year or '?'})"
        )
        lines = [head]
        for fact in self.facts:
            span = (
                f"{fact.period_start} to {fact.period_end}"
                if fact.period_start
                else f"at {fact.period_end}"
            )
            value = f"{fact.value:,.2f}" if fact.unit.endswith("/shares") else f"{fact.value:,.0f}"
            derived = ", derived from year-to-date figures" if fact.derived else ""
            lines.append(
                f"{fact.name} ({fact.role.value}, {fact.period_label}, {span}): {value}"
                f" {fact.unit} [{fact.concept}{derived}]"
            )
        if self.incomplete_reason:
            lines.append(f"Incomplete: {self.incomplete_reason}")
        return lines


@dataclass(frozen=True, slots=True)
class _Context:
    start: dt.date | None
    end: dt.date
    dimensional: bool

    @property
    def days(self) -> int:
        return 0 if self.start is None else (self.end - self.start).days


@dataclass(frozen=True, slots=True)
class _Fact:
    concept: str
    context: _Context
    value: Decimal
    unit: str
    decimals: int | None


def _prefix(namespace: str) -> str | None:
    # The US GAAP and DEI taxonomies of 2009-2010 were published under xbrl.us, with the same
    # element names (Revenues, NetIncomeLoss, EarningsPerShareBasic, ...).
    if "fasb.org/us-gaap" in namespace or "xbrl.us/us-gaap" in namespace:
        return "us-gaap"
    if "xbrl.ifrs.org" in namespace:
        return "ifrs-full"
    if "xbrl.sec.gov/dei" in namespace or "xbrl.us/dei" in namespace:
        return "dei"
    return None


def _text(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    cleaned = " ".join(text.replace(",", " ").split())
    for pattern in ("%Y-%m-%d", "%B %d %Y", "%b %d %Y", "%m/%d/%Y", "%d %B %Y"):
        try:
            return dt.datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    return None


def _root(document: str | bytes, *, inline: bool) -> Element:
    data = (document.encode() if isinstance(document, str) else document).lstrip()
    if inline:
        data = _HTML_DOCTYPE.sub(b"", data, count=1)
    root = parse_xml(data, "XBRL document")
    if inline:
        if local_name(root.tag) != "html" or root.find(f".//{{{_IX}}}header") is None:
            raise SerializationError("not an inline XBRL document: no ix:header")
    elif root.tag != f"{{{_XBRLI}}}xbrl":
        raise SerializationError("not an XBRL instance: no xbrli:xbrl root")
    return root


def _contexts(root: Element) -> dict[str, _Context]:
    contexts: dict[str, _Context] = {}
    for element in root.iter(f"{{{_XBRLI}}}context"):
        period = element.find(f"{{{_XBRLI}}}period")
        context_id = element.get("id")
        if period is None or not context_id:
            continue
        instant = _date(period.findtext(f"{{{_XBRLI}}}instant"))
        start = _date(period.findtext(f"{{{_XBRLI}}}startDate"))
        end = _date(period.findtext(f"{{{_XBRLI}}}endDate"))
        dimensional = (
            element.find(f".//{{{_XBRLI}}}segment") is not None
            or element.find(f".//{{{_XBRLI}}}scenario") is not None
        )
        if instant is not None:
            contexts[context_id] = _Context(None, instant, dimensional)
        elif start is not None and end is not None and start <= end:
            contexts[context_id] = _Context(start, end, dimensional)
    return contexts


def _measure(text: str | None) -> str:
    local = (text or "").strip().rsplit(":", 1)[-1]
    return local or "?"


def _units(root: Element) -> dict[str, str]:
    units: dict[str, str] = {}
    for element in root.iter(f"{{{_XBRLI}}}unit"):
        unit_id = element.get("id")
        if not unit_id:
            continue
        divide = element.find(f"{{{_XBRLI}}}divide")
        if divide is not None:
            numerator = divide.find(f"{{{_XBRLI}}}unitNumerator/{{{_XBRLI}}}measure")
            denominator = divide.find(f"{{{_XBRLI}}}unitDenominator/{{{_XBRLI}}}measure")
            top = _measure(numerator.text if numerator is not None else None)
            bottom = _measure(denominator.text if denominator is not None else None)
            units[unit_id] = f"{top}/{bottom}"
        else:
            measures = [_measure(m.text) for m in element.findall(f"{{{_XBRLI}}}measure")]
            units[unit_id] = "*".join(measures) if measures else "?"
    return units


def _decimals(text: str | None) -> int | None:
    if text is None or text.strip().upper() == "INF":
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _inline_number(element: Element) -> Decimal | None:
    if element.get(_XSI_NIL) == "true":
        return None
    text = _text(element)
    fmt = local_name((element.get("format") or "").replace(":", "}"))
    if "zero" in fmt or "dash" in fmt or text in {"-", "\u2014", "\u2013"}:
        number = Decimal(0)
    else:
        if "comma" in fmt and "decimal" in fmt:  # num-comma-decimal: 1.234,5
            text = text.replace(".", "").replace(" ", "").replace(",", ".")
        else:
            text = text.replace(",", "").replace(" ", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    try:
        scale = int(element.get("scale") or 0)
    except ValueError:
        return None
    if not -30 <= scale <= 30 or not number.is_finite():
        return None
    number = number.scaleb(scale)
    return -number if element.get("sign") == "-" else number


def _facts(
    root: Element, *, inline: bool, contexts: dict[str, _Context], units: dict[str, str]
) -> tuple[list[_Fact], dict[str, list[tuple[_Context, str]]]]:
    """Numeric facts of the concepts read here, and the dei strings by concept."""
    wanted = {concept for concepts in _CONCEPTS.values() for concept in concepts}
    wanted.add(_SHARES_CONCEPT)
    numbers: list[_Fact] = []
    strings: dict[str, list[tuple[_Context, str]]] = {}
    for concept, element, number in _candidates(root, inline=inline):
        context = contexts.get(element.get("contextRef") or "")
        if context is None:
            continue
        if concept in _DEI:
            strings.setdefault(concept, []).append((context, _text(element)))
            continue
        if concept not in wanted or number is None:
            continue
        unit = units.get(element.get("unitRef") or "")
        if unit is None:
            continue
        numbers.append(_Fact(concept, context, number, unit, _decimals(element.get("decimals"))))
    return numbers, strings


def _candidates(root: Element, *, inline: bool) -> Iterator[tuple[str, Element, Decimal | None]]:
    if inline:
        for element in root.iter():
            if not isinstance(element.tag, str) or namespace_of(element.tag) != _IX:
                continue
            local = local_name(element.tag)
            name = (element.get("name") or "").strip()
            if local == "nonFraction":
                yield name, element, _inline_number(element)
            elif local == "nonNumeric" and name in _DEI:
                yield name, element, None
        return
    for element in root:
        if not isinstance(element.tag, str):
            continue
        prefix = _prefix(namespace_of(element.tag))
        if prefix is None:
            continue
        concept = f"{prefix}:{local_name(element.tag)}"
        number: Decimal | None = None
        if concept not in _DEI and element.get(_XSI_NIL) != "true":
            try:
                number = Decimal((element.text or "").strip())
            except InvalidOperation:
                number = None
            if number is not None and not number.is_finite():
                number = None
        yield concept, element, number


def _dei(strings: dict[str, list[tuple[_Context, str]]], concept: str) -> str | None:
    values = strings.get(concept, [])
    plain = [text for context, text in values if not context.dimensional and text]
    chosen = plain or [text for _, text in values if text]
    return chosen[0] if chosen else None


def _near(day: dt.date, target: dt.date) -> bool:
    return abs((day - target).days) <= _SLACK_DAYS


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(slots=True)
class _Reader:
    facts: list[_Fact]
    reasons: list[str] = field(default_factory=list)

    def pick(self, concepts: Iterable[str], matches: Any) -> tuple[str, list[_Fact]] | None:
        """The first concept with non-dimensional facts whose context `matches`."""
        for concept in concepts:
            found = [
                fact
                for fact in self.facts
                if fact.concept == concept and not fact.context.dimensional and matches(fact)
            ]
            if found:
                return concept, found
        return None

    def one(self, name: str, concept: str, found: list[_Fact]) -> _Fact | None:
        """The fact, its duplicates with the same value folded; None when they disagree."""
        by_period: dict[tuple[dt.date | None, dt.date], list[_Fact]] = {}
        for fact in found:
            by_period.setdefault((fact.context.start, fact.context.end), []).append(fact)
        if len(by_period) > 1:
            # several contexts of the kind near the date: the one ending latest, closest in span
            key = max(by_period, key=lambda k: (k[1], -(k[0] or k[1]).toordinal()))
            found = by_period[key]
        precise = max(found, key=lambda fact: 99 if fact.decimals is None else fact.decimals)
        coarsest = min(99 if fact.decimals is None else fact.decimals for fact in found)
        values = {_rounded(fact.value, coarsest) for fact in found}
        if len(values) > 1:
            reason = f"{name}: conflicting values for {concept} ({', '.join(map(str, values))})"
            if reason not in self.reasons:
                self.reasons.append(reason)
            return None
        return precise


def _rounded(value: Decimal, decimals: int) -> Decimal:
    """The value at `decimals` (XBRL 2.1 4.10: duplicates agree when equal at the coarsest)."""
    if decimals >= 99:
        return value
    try:
        return value.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        return value


def _fact(name: str, role: Role, fact: _Fact, label: str, derived: bool = False) -> FinancialFact:
    context = fact.context
    return FinancialFact(
        name=name,
        role=role,
        value=float(fact.value),
        unit=fact.unit,
        decimals=fact.decimals,
        concept=fact.concept,
        period_start=context.start.isoformat() if context.start else None,
        period_end=context.end.isoformat(),
        period_label=label,
        derived=derived,
    )


def _duration(label: str, end: dt.date) -> Any:
    low, high = _DURATIONS[label]

    def matches(fact: _Fact) -> bool:
        context = fact.context
        return context.start is not None and _near(context.end, end) and low <= context.days <= high

    return matches


def _instant(end: dt.date) -> Any:
    def matches(fact: _Fact) -> bool:
        return fact.context.start is None and _near(fact.context.end, end)

    return matches


def _read_duration(
    reader: _Reader, name: str, label: str, end: dt.date, role: Role, concepts: tuple[str, ...]
) -> list[FinancialFact]:
    picked = reader.pick(concepts, _duration(label, end))
    if picked is None:
        return []
    fact = reader.one(name, *picked)
    return [] if fact is None else [_fact(name, role, fact, label)]


def _derive_quarter(
    reader: _Reader,
    name: str,
    ytd_label: str,
    end: dt.date,
    role: Role,
    concepts: tuple[str, ...],
) -> list[FinancialFact]:
    """The quarter as this year to date minus the preceding year to date (same start)."""
    shorter = {"six_months": "quarter", "nine_months": "six_months"}[ytd_label]
    for concept in concepts:
        ytd = reader.pick((concept,), _duration(ytd_label, end))
        if ytd is None:
            continue
        current = reader.one(name, *ytd)
        if current is None or current.context.start is None:
            return []
        start = current.context.start
        prior_end = _quarter_end_before(end)

        def preceding(fact: _Fact, start: dt.date = start, prior_end: dt.date = prior_end) -> bool:
            context = fact.context
            low, high = _DURATIONS[shorter]
            return (
                context.start == start
                and _near(context.end, prior_end)
                and low <= context.days <= high
            )

        before = reader.pick((concept,), preceding)
        if before is None:
            continue
        earlier = reader.one(name, *before)
        if earlier is None:
            return []
        quarter_start = earlier.context.end + dt.timedelta(days=1)
        decimals = [d for d in (current.decimals, earlier.decimals)]
        fact = _Fact(
            concept,
            _Context(quarter_start, current.context.end, False),
            current.value - earlier.value,
            current.unit,
            None if None in decimals else min(d for d in decimals if d is not None),
        )
        return [_fact(name, role, fact, "quarter", derived=True)]
    return []


def _quarter_end_before(end: dt.date) -> dt.date:
    """About three months before: the prior quarter's end."""
    month = end.month - 3
    year = end.year
    if month <= 0:
        month += 12
        year -= 1
    day = min(end.day, 28)
    candidate = dt.date(year, month, day)
    return candidate if end.day <= 28 else _month_end(candidate)


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _read(
    reader: _Reader, end: dt.date, annual: bool, fiscal_period: str | None
) -> list[FinancialFact]:
    out: list[FinancialFact] = []
    prior = _year_before(end)
    ytd = {"Q2": "six_months", "H1": "six_months", "Q3": "nine_months"}.get(fiscal_period or "")
    for name in _CONCEPTS:
        if name in _INSTANT_NAMES:
            concepts = _CONCEPTS[name]
            for role, day in ((Role.CURRENT, end), (Role.PRIOR_YEAR, prior)):
                picked = reader.pick(concepts, _instant(day))
                fact = reader.one(name, *picked) if picked else None
                if fact is not None:
                    out.append(_fact(name, role, fact, "instant"))
                    concepts = (fact.concept,)  # the prior year in the same concept
            continue
        labels = ["fiscal_year"] if annual else ["quarter", "six_months", "nine_months"]
        read_in: dict[str, tuple[str, ...]] = {}
        for role, day in ((Role.CURRENT, end), (Role.PRIOR_YEAR, prior)):
            for label in labels:
                concepts = read_in.get(label, _CONCEPTS[name])
                found = _read_duration(reader, name, label, day, role, concepts)
                if not found and label == "quarter" and ytd is not None:
                    found = _derive_quarter(reader, name, ytd, day, role, concepts)
                if found and role is Role.CURRENT:
                    read_in[label] = (found[0].concept,)
                out.extend(found)
    if not any(fact.period_start and fact.role is Role.CURRENT for fact in out):
        reader.reasons.append(
            "no duration figure spans the current period (no context of a quarter, year to date"
            " or year ends at the period end, e.g. a predecessor/successor split)"
        )
    shares = reader.pick(
        (_SHARES_CONCEPT,),
        lambda fact: fact.context.start is None and 0 <= (fact.context.end - end).days <= 200,
    )
    if shares is not None:
        fact = reader.one("shares_outstanding", *shares)
        if fact is not None:
            out.append(_fact("shares_outstanding", Role.CURRENT, fact, "instant"))
    return out


def _base_form(document_type: str | None) -> str:
    return (document_type or "").strip().upper().removesuffix("/A")


def parse_financials(document: str | bytes, *, inline: bool) -> Financials:
    """The period's figures of an XBRL instance (inline=False) or inline XBRL document."""
    root = _root(document, inline=inline)
    contexts = _contexts(root)
    units = _units(root)
    facts, strings = _facts(root, inline=inline, contexts=contexts, units=units)
    document_type = _dei(strings, "dei:DocumentType")
    period_text = _dei(strings, "dei:DocumentPeriodEndDate")
    period = _date(period_text)
    year_text = _dei(strings, "dei:DocumentFiscalYearFocus")
    fiscal_year = (
        int(year_text) if year_text and year_text.isdigit() and len(year_text) == 4 else None
    )
    fiscal_period = _dei(strings, "dei:DocumentFiscalPeriodFocus")
    source = Source.INLINE if inline else Source.INSTANCE
    base = _base_form(document_type)

    def empty(reason: str) -> Financials:
        return Financials(
            source,
            document_type,
            period.isoformat() if period else period_text,
            fiscal_year,
            fiscal_period,
            (),
            reason,
        )

    if period is None:
        return empty("no dei:DocumentPeriodEndDate: the current period is unknown")
    if base and base not in FINANCIAL_FORMS:
        return empty(f"a {document_type} states no period figures (not a periodic report)")
    annual = (fiscal_period or "").upper() == "FY" or base in _ANNUAL_FORMS
    if not any(not c.dimensional and _near(c.end, period) for c in contexts.values()):
        return empty(f"no context ends at the period end {period.isoformat()}")
    reader = _Reader(facts)
    read = _read(reader, period, annual, (fiscal_period or "").upper() or None)
    return Financials(
        source,
        document_type,
        period.isoformat(),
        fiscal_year,
        fiscal_period,
        tuple(read),
        "; ".join(reader.reasons) or None,
    )
