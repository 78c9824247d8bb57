"""Schema v2's facts of a filing as short lines for a person: who traded what (a Form 3/4/5),
the headline figures of a results report, and what the 8-K items state.

Built on the client library's typed records, which is all `alerts` reads; analyze words its
own summary from the ownership XML, and the lines here restate the facts the record carries, so
an alert shows them whichever analyzer wrote the summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from sec_digester_client import (
    Earnings,
    EarningsFigure,
    InsiderTransaction,
    ItemFact,
    Ownership,
    OwnershipRowKind,
    ReportingOwner,
)

from services.common.transaction_codes import verb_of

# The transactions an alert shows: the largest by value; the others are counted.
MAIN_TRANSACTIONS = 3
HEADLINE_FIGURES = 4
ITEM_FACTS_SHOWN = 3

_ROLES = {
    "director": "director",
    "officer": "officer",
    "ten_percent_owner": "10% owner",
    "other": "other",
}
_FIGURE_NAMES = {
    "revenue": "Revenue",
    "net_income": "Net income",
    "eps_diluted": "Diluted EPS",
    "eps_basic": "Basic EPS",
    "eps": "EPS",
}
_PERIODS = {"quarter": "quarter", "year_to_date": "year to date", "full_year": "full year"}


def owner_line(owner: ReportingOwner) -> str:
    """ "Maestri Luca (officer: Senior Vice President, CFO)", "McGuirk Richard L (director)"."""
    roles = [_ROLES[role] for role in owner.roles]
    if owner.is_officer and owner.officer_title:
        roles[roles.index("officer")] = f"officer: {owner.officer_title}"
    if owner.is_other and owner.other_text:
        roles[roles.index("other")] = owner.other_text
    return f"{owner.name} ({', '.join(roles)})" if roles else owner.name


def money(value: float) -> str:
    sign, size = ("-" if value < 0 else ""), abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if size >= scale:
            return f"{sign}${size / scale:,.2f}{suffix}"
    return f"{sign}${size:,.2f}"


def _shares(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.3f}".rstrip("0")


def _plan(row: InsiderTransaction) -> str:
    return {True: "yes", False: "no", None: "not stated"}[row.rule_10b5_1]


def transaction_line(row: InsiderTransaction) -> str:
    """ "P (bought) 275.634 sh of common at $18.14 = $5,000.00, 10b5-1: no"."""
    code = row.code or "?"
    line = f"{code} ({verb_of(code) or 'reported'})"
    if row.shares is not None:
        line += f" {_shares(row.shares)} sh"
    if row.security_title:
        line += f" of {row.security_title}"
    if row.price_per_share is not None:
        average = " avg" if row.weighted_average_price else ""
        line += f" at{average} {money(row.price_per_share)}"
    if row.value_usd is not None:
        line += f" = {money(row.value_usd)}"
    return f"{line}, 10b5-1: {_plan(row)}"


def main_transactions(ownership: Ownership) -> tuple[list[InsiderTransaction], int]:
    """The largest transactions by value (unvalued ones last, in document order), and how many
    others there are."""
    rows = [row for row in ownership.transactions if row.kind is OwnershipRowKind.TRANSACTION]
    ranked = sorted(rows, key=lambda row: -(row.value_usd or 0.0))  # stable: document order
    return ranked[:MAIN_TRANSACTIONS], max(len(rows) - MAIN_TRANSACTIONS, 0)


def insider_lines(ownership: Ownership) -> list[str]:
    """Who (with their roles), then their main transactions, or their holdings when the form
    reports no transaction (a Form 3)."""
    lines = [owner_line(owner) for owner in ownership.owners]
    shown, others = main_transactions(ownership)
    lines += [transaction_line(row) for row in shown]
    if others:
        lines.append(f"and {others} more transaction{'s' if others > 1 else ''}")
    if not shown:
        held = len(ownership.transactions)
        lines.append(
            "no securities owned"
            if ownership.no_securities_owned or not held
            else f"{held} holding{'s' if held > 1 else ''}, no transaction"
        )
    return lines


def figure_line(figure: EarningsFigure) -> str:
    """ "Revenue (quarter): $1.52B, +2.6%", "Diluted EPS (quarter): $0.05, prior -$0.59" (the
    comparable prior period), non-GAAP figures marked as adjusted."""
    name = _FIGURE_NAMES.get(figure.name, figure.name)
    if not figure.gaap:  # "Adjusted net income", "Adjusted EPS": an acronym keeps its case
        name = f"Adjusted {name if name[1:2].isupper() else name[:1].lower() + name[1:]}"
    period = _PERIODS.get(figure.period.value)
    label = f"{name} ({period})" if period else name
    line = f"{label}: {_amount(figure.value, figure.unit)}"
    if figure.change_percent is not None:
        line += f", {figure.change_percent:+.1f}%"
    if figure.prior_value is not None:
        line += f", prior {_amount(figure.prior_value, figure.unit)}"
    return line


def _amount(value: float, unit: str) -> str:
    return money(value) if unit.startswith("USD") else f"{value:,} {unit}"


def earnings_lines(earnings: Earnings) -> list[str]:
    lines = [figure_line(figure) for figure in earnings.figures[:HEADLINE_FIGURES]]
    for guide in earnings.guidance[:1]:  # the first range given, usually the headline one
        name = _FIGURE_NAMES.get(guide.name, guide.name)
        span = _amount(guide.low, guide.unit)
        if guide.high != guide.low:
            span += f" to {_amount(guide.high, guide.unit)}"
        lines.append(f"Guidance, {name}: {span}")
    return lines


def item_fact_lines(facts: Sequence[ItemFact]) -> list[str]:
    """ "5.02 officer appointment: Jane Q. Doe, Chief Financial Officer"."""
    lines = []
    for fact in facts[:ITEM_FACTS_SHOWN]:
        about = ", ".join(part for part in (fact.subject, fact.role) if part)
        event = fact.event_type.replace("_", " ")
        lines.append(f"{fact.item} {event}: {about}" if about else f"{fact.item} {event}")
    if len(facts) > ITEM_FACTS_SHOWN:
        lines.append(f"and {len(facts) - ITEM_FACTS_SHOWN} more")
    return lines
