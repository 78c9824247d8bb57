"""What a Form 3, 4 or 5 means for a reader, from its facts (reading/forms/ownership.py):
priority, summary, event types, keywords and tone. Deterministic, no text needed.

Rules (thresholds are the module constants):
- Insider: an owner who is a director or an officer; a ten-percent owner counts for purchases.
- Rank of a transaction (the filing takes the highest of its rows; holdings and Form 3 are low):
  - P (open-market purchase) by an insider: high when worth at least LARGE_PURCHASE_USD or at
    least HOLDING_FRACTION of what the owner held before; otherwise medium. Insiders buying with
    their own money is the signal this form carries.
  - S (open-market sale) by an insider: medium when worth at least LARGE_SALE_USD or at least
    HOLDING_FRACTION of the holding before, and not under a Rule 10b5-1 plan (a plan sale was
    decided months earlier); under a plan only when worth PLAN_SALE_USD or half the holding.
    Otherwise low.
  - Everything else (A award, F tax withholding, G gift, M/X exercise or conversion, C
    conversion, D disposition to the issuer, J other, ...): low. These follow from pay plans
    and corporate actions, not from a decision to trade.
  The holding before a row is shares_owned_following minus the shares acquired (plus those
  disposed of); a purchase with nothing held before counts as a full holding's worth.
- Summary: the issuer and up to three lines of transactions, highest rank first, then document
  order. Rows of the same owners, code and security are one line: total shares, the average
  price (value over shares of the priced rows), the dollar value and the 10b5-1 flag ("yes",
  "no", "not stated"), e.g. "CEO Jane Doe bought 40,000 shares of Common Stock at $12.50
  ($500,000), 10b5-1: no". Without transactions: the holdings reported, or "no securities".
- Event types: insider_purchase for P and insider_sale for S rows by insiders.
- Sentiment: +0.5 for an insider purchase of medium rank or more, -0.3 for a sale of medium
  rank; 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.analyze.analysis import Priority
from services.analyze.judgement.form_reading import FormReading
from services.analyze.reading.forms.ownership import (
    Ownership,
    OwnershipRow,
    ReportingOwner,
    Table,
    owner_label,
)
from services.common.transaction_codes import keyword_of, verb_of

LARGE_PURCHASE_USD = 100_000.0
LARGE_SALE_USD = 1_000_000.0
PLAN_SALE_USD = 10_000_000.0
HOLDING_FRACTION = 0.10
_MAX_LINES = 3
_EXERCISE_CODES = frozenset({"M", "C", "X"})


def _is_insider(owners: Sequence[ReportingOwner]) -> bool:
    return any(owner.is_director or owner.is_officer for owner in owners)


def _holding_before(row: OwnershipRow) -> float | None:
    if row.shares_owned_following is None or row.shares is None:
        return None
    if row.acquired_disposed == "D":
        return row.shares_owned_following + row.shares
    return row.shares_owned_following - row.shares


def _rank(rows: Sequence[OwnershipRow], owners: Sequence[ReportingOwner]) -> Priority:
    """The rank of rows of one code and security taken together (a sale executed in ten
    trades is one decision)."""
    row = rows[0]
    value = sum(each.value_usd or 0.0 for each in rows)
    before = _holding_before(row)
    shares = sum(each.shares or 0.0 for each in rows)
    fraction = (1.0 if before <= 0 else shares / before) if before is not None else 0.0
    if row.code == "P" and (
        _is_insider(owners) or any(owner.is_ten_percent_owner for owner in owners)
    ):
        big = value >= LARGE_PURCHASE_USD or fraction >= HOLDING_FRACTION
        return Priority.HIGH if big else Priority.MEDIUM
    if row.code == "S" and _is_insider(owners):
        if all(each.rule_10b5_1 for each in rows):
            return Priority.MEDIUM if value >= PLAN_SALE_USD or fraction >= 0.5 else Priority.LOW
        big = value >= LARGE_SALE_USD or fraction >= HOLDING_FRACTION
        return Priority.MEDIUM if big else Priority.LOW
    return Priority.LOW


def _owners_label(owners: Sequence[ReportingOwner]) -> str:
    if not owners:
        return "The reporting owner"
    first = owner_label(owners[0])
    return first if len(owners) == 1 else f"{first} and {len(owners) - 1} other owners"


def _plan_flag(rows: Sequence[OwnershipRow]) -> str:
    flags = {row.rule_10b5_1 for row in rows}
    if flags == {True}:
        return "yes"
    if flags == {False}:
        return "no"
    return "partly" if True in flags else "not stated"


def _money(value: float) -> str:
    return f"${value:,.0f}" if value >= 1000 else f"${value:,.2f}"


def _shares(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.3f}".rstrip("0")


def _line(rows: Sequence[OwnershipRow]) -> str:
    first = rows[0]
    code = first.code or "?"
    verb = verb_of(code) or f"reported (code {code})"
    if code in _EXERCISE_CODES and first.table is Table.NON_DERIVATIVE:
        verb = "acquired on exercise or conversion"
    total = sum(row.shares or 0.0 for row in rows)
    priced = [row for row in rows if row.price_per_share is not None and row.shares]
    security = first.security_title or "securities"
    of = "shares of " if first.table is Table.NON_DERIVATIVE else ""
    line = f"{verb} {_shares(total)} {of}{security}"
    value = sum(row.value_usd or 0.0 for row in priced)
    priced_shares = sum(row.shares or 0.0 for row in priced)
    if priced and priced_shares and value > 0:
        average = value / priced_shares
        word = "an average " if len(priced) > 1 or first.weighted_average_price else ""
        line += f" at {word}${average:,.2f} ({_money(value)})"
    if code in {"P", "S"}:
        line += f", 10b5-1: {_plan_flag(rows)}"
    return line


def _holdings_summary(ownership: Ownership, issuer: str, owners: str) -> str:
    if ownership.no_securities_owned or not ownership.rows:
        return f"{owners} reported owning no securities of {issuer}."
    titles = list(dict.fromkeys(row.security_title or "securities" for row in ownership.rows))
    count = len(ownership.rows)
    return f"{owners} reported {count} holding{'s' if count != 1 else ''} in {issuer}: " + (
        "; ".join(titles[:4]) + "."
    )


def read_ownership(ownership: Ownership) -> FormReading:
    issuer = ownership.issuer.name + (
        f" ({ownership.issuer.trading_symbol})" if ownership.issuer.trading_symbol else ""
    )
    owners = _owners_label(ownership.owners)
    transactions = ownership.transactions
    groups: dict[tuple[str | None, str | None, Table], list[OwnershipRow]] = {}
    for row in transactions:
        groups.setdefault((row.code, row.security_title, row.table), []).append(row)
    ranked = [
        (_rank(rows, ownership.owners), index, rows) for index, rows in enumerate(groups.values())
    ]
    priority = max((rank for rank, _, _ in ranked), key=lambda p: p.rank, default=Priority.LOW)
    ordered = sorted(ranked, key=lambda ranked_group: (-ranked_group[0].rank, ranked_group[1]))
    if ordered:
        lines = [_line(rows) for _, _, rows in ordered[:_MAX_LINES]]
        more = len(ordered) - _MAX_LINES
        summary = f"Form {ownership.document_type} for {issuer}: {owners} " + "; ".join(lines)
        summary += (
            f"; and {more} more kind{'s' if more > 1 else ''} of transaction." if more > 0 else "."
        )
    else:
        summary = f"Form {ownership.document_type}: " + _holdings_summary(ownership, issuer, owners)
    insider = _is_insider(ownership.owners)
    events = []
    if insider and any(row.code == "P" for row in transactions):
        events.append("insider_purchase")
    if insider and any(row.code == "S" for row in transactions):
        events.append("insider_sale")
    keywords = [keyword for row in transactions if row.code and (keyword := keyword_of(row.code))]
    if any(row.rule_10b5_1 for row in transactions):
        keywords.append("10b5-1 plan")
    sentiment = 0.0
    if any(rank.rank >= Priority.MEDIUM.rank and rows[0].code == "P" for rank, _, rows in ranked):
        sentiment = 0.5
    elif any(rank.rank >= Priority.MEDIUM.rank and rows[0].code == "S" for rank, _, rows in ranked):
        sentiment = -0.3
    return FormReading(
        priority=priority,
        summary=summary,
        event_types=tuple(events),
        keywords=tuple(dict.fromkeys(keywords)),
        sentiment=sentiment,
    )
