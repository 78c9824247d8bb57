"""The facts of a filing as short lines for a person: who traded what (a Form 3/4/5), the
headline figures of a results report, what the 8-K items state (schema v2); who holds how much
of which company (13D/13G), who plans to sell what (Form 144) and a periodic report's XBRL
figures (schema v3).

Built on the client library's typed records, which is all `alerts` reads; analyze words its
own summary from the ownership XML, and the lines here restate the facts the record carries, so
an alert shows them whichever analyzer wrote the summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from sec_digester_client import (
    Earnings,
    EarningsFigure,
    FactRole,
    Financials,
    InsiderTransaction,
    ItemFact,
    Ownership,
    OwnershipRowKind,
    ReportingOwner,
    SaleNotice,
    Stake,
    StakeKind,
)

from services.common.transaction_codes import verb_of

# The transactions an alert shows: the largest by value; the others are counted.
MAIN_TRANSACTIONS = 3
HEADLINE_FIGURES = 4
ITEM_FACTS_SHOWN = 3
HOLDERS_SHOWN = 3

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


def _percent(value: float | None) -> str:
    return "percent not stated" if value is None else f"{value:g}% of the class"


def stake_lines(stake: Stake) -> list[str]:
    """ "Active stake (13D) in QXO, Inc. (CUSIP 82846H405): 12.3% of the class", then the
    holders with their percents."""
    kind = "Active stake (13D)" if stake.kind is StakeKind.ACTIVE else "Passive stake (13G)"
    issuer = stake.issuer_name or "the issuer"
    if stake.issuer_cusip:
        issuer += f" (CUSIP {stake.issuer_cusip})"
    amendment = f", amendment {stake.amendment_number}" if stake.amendment_number else ""
    lines = [f"{kind} in {issuer}{amendment}: {_percent(stake.percent_of_class)}"]
    for person in stake.reporting_persons[:HOLDERS_SHOWN]:
        amount = (
            f"{_shares(person.aggregate_amount)} sh, "
            if person.aggregate_amount is not None
            else ""
        )
        lines.append(f"{person.name}: {amount}{_percent(person.percent_of_class)}")
    if len(stake.reporting_persons) > HOLDERS_SHOWN:
        lines.append(f"and {len(stake.reporting_persons) - HOLDERS_SHOWN} more reporting persons")
    if stake.incomplete_reason:
        lines.append(f"incomplete: {stake.incomplete_reason}")
    return lines


def sale_notice_lines(notice: SaleNotice) -> list[str]:
    """ "Proposed sale by Jane Doe (Officer) of Acme (ACME)", then each class: units, value,
    approximate date and broker."""
    issuer = notice.issuer_name or "the issuer"
    if notice.issuer_ticker:
        issuer += f" ({notice.issuer_ticker})"
    seller = notice.seller_name or "the seller"
    if notice.relationships:
        seller += f" ({', '.join(notice.relationships)})"
    lines = [f"Proposed sale by {seller} of {issuer}"]
    for security in notice.securities:
        parts = [security.security_class or "securities"]
        if security.units_to_be_sold is not None:
            parts.append(f"{_shares(security.units_to_be_sold)} units")
        if security.aggregate_market_value is not None:
            parts.append(money(security.aggregate_market_value))
        if security.approximate_sale_date:
            parts.append(f"about {security.approximate_sale_date}")
        if security.broker_name:
            parts.append(f"via {security.broker_name}")
        lines.append(", ".join(parts))
    if notice.sold_past_three_months:
        lines.append(f"{len(notice.sold_past_three_months)} sales in the past three months")
    return lines


_FINANCIAL_NAMES = {
    **_FIGURE_NAMES,
    "operating_cash_flow": "Operating cash flow",
    "cash": "Cash",
    "total_assets": "Total assets",
    "shares_outstanding": "Shares outstanding",
}


def financials_lines(financials: Financials) -> list[str]:
    """ "10-Q for the period ended 2024-06-30 (FY2024 Q2)", then each current figure with its
    period and the prior year's: "Revenue (quarter): $25.50B, prior $24.93B"."""
    heading = financials.document_type or "Report"
    if financials.period_end:
        heading += f" for the period ended {financials.period_end}"
    if financials.fiscal_year and financials.fiscal_period:
        heading += f" (FY{financials.fiscal_year} {financials.fiscal_period})"
    lines = [heading]
    for fact in financials.facts:
        if fact.role is not FactRole.CURRENT or fact.name not in _FINANCIAL_NAMES:
            continue
        label = f"{_FINANCIAL_NAMES[fact.name]} ({fact.period_label.value.replace('_', ' ')})"
        line = f"{label}: {_amount(fact.value, fact.unit)}"
        prior = financials.figure(fact.name, FactRole.PRIOR_YEAR, fact.period_label)
        if prior is not None:
            line += f", prior {_amount(prior.value, prior.unit)}"
        lines.append(line + (", derived" if fact.derived else ""))
    return lines
