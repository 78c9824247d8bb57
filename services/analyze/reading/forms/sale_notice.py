"""Form 144 (and 144/A): the notice of proposed sale, its `<edgarSubmission>` XML read into facts.

What the XML holds (SEC's "EDGAR Form 144 XML Technical Specification"; namespace
`http://www.sec.gov/edgar/ownership`, under any prefix or none, so elements are matched by local
name):
- `headerData/submissionType`: 144 or 144/A.
- `formData/issuerInfo`: issuerCik, issuerName, nameOfPersonForWhoseAccountTheSecuritiesAreToBeSold
  (the seller) and relationshipsToIssuer/relationshipToIssuer (Officer, Director, ... as filed).
- `formData/securitiesInformation` (one per class and broker, Table 1's proposed sales):
  securitiesClassTitle, brokerOrMarketmakerDetails/name, noOfUnitsSold (the units *to be* sold),
  aggregateMarketValue, noOfUnitsOutstanding, approxSaleDate (MM/DD/YYYY), securitiesExchangeName.
- `formData/securitiesSoldInPast3Months` (zero or more): sellerDetails/name, securitiesClassTitle,
  saleDate, amountOfSecuritiesSold, grossProceeds.
- `formData/noticeSignature/planAdoptionDates/planAdoptionDate` (Rule 10b5-1 plans).
`securitiesToBeSold` (how the seller acquired the securities) is not read: the record has no
place for it.

Rules:
1. Nothing is guessed. A value is what the document states, whitespace collapsed; a number is
   read with commas and a leading `$` removed; a date is converted from MM/DD/YYYY to ISO. A value
   that is absent is None. A value that is stated but unreadable (a number that is no number, a
   date that is not MM/DD/YYYY or not a real day) is None too, and `incomplete_reason` names it.
2. `incomplete_reason` also names the parts a notice must have and this one lacks: issuerInfo,
   the issuer's name or CIK, the seller, any securitiesInformation. None when nothing is missing.
3. The issuer CIK is ten digits with leading zeros; a CIK that is not digits is unreadable (1).
4. Lists (relationships, plan adoption dates) keep the document's order and repetitions.
5. `issuer_ticker` is never read from the document (it has none): the caller sets it from the
   filing's entities with `with_ticker`.
6. Errors: `SerializationError` for bytes that are not well-formed XML, for any DTD or entity
   declaration (refused by defusedxml before expansion: billion laughs, external entities), for a
   root that is not `edgarSubmission` in the ownership namespace (or none), and for a
   submissionType other than 144 or 144/A. A *truncated* document is not well-formed XML, so it
   raises `SerializationError` rather than giving partial facts: the parser cannot know where the
   cut fell, and facts read from a fragment could be silently wrong. Partial facts with
   `incomplete_reason` are for well-formed documents that lack parts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from services.analyze.reading.forms.xml import (
    all_text,
    child,
    children,
    local_name,
    namespace_of,
    parse_xml,
)
from services.common.errors import SerializationError

SALE_NOTICE_FORMS = frozenset({"144"})  # base forms ("/A" stripped) whose document is this XML
NAMESPACE = "http://www.sec.gov/edgar/ownership"
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_SUBMISSION_TYPES = frozenset({"144", "144/A"})


@dataclass(frozen=True, slots=True)
class SaleNoticeSecurity:
    """One proposed sale (a `securitiesInformation` row)."""

    security_class: str | None
    units_to_be_sold: float | None
    aggregate_market_value: float | None
    units_outstanding: float | None
    approximate_sale_date: str | None  # ISO 8601
    exchange: str | None
    broker_name: str | None


@dataclass(frozen=True, slots=True)
class SaleNoticePastSale:
    """A sale of the issuer's securities in the past three months."""

    seller_name: str | None
    security_class: str | None
    sale_date: str | None  # ISO 8601
    units_sold: float | None
    gross_proceeds: float | None


@dataclass(frozen=True, slots=True)
class SaleNotice:
    issuer_name: str | None
    issuer_cik: str | None  # ten digits
    issuer_ticker: str | None  # never from the document: see `with_ticker`
    seller_name: str | None
    relationships: tuple[str, ...]
    securities: tuple[SaleNoticeSecurity, ...]
    sold_past_three_months: tuple[SaleNoticePastSale, ...]
    plan_adoption_dates: tuple[str, ...]  # ISO 8601
    incomplete_reason: str | None

    def with_ticker(self, ticker: str | None) -> SaleNotice:
        return dataclasses.replace(self, issuer_ticker=ticker)

    @property
    def total_market_value(self) -> float | None:
        """The sum of the aggregate market values, when every row states one; else None."""
        values = [security.aggregate_market_value for security in self.securities]
        if not values or any(value is None for value in values):
            return None
        return sum(value for value in values if value is not None)

    def to_avro(self) -> dict[str, Any]:
        """Exactly the `sale_notice` (SaleNotice) record of FilingAnalysis.avsc."""
        return {
            "issuer_name": self.issuer_name,
            "issuer_cik": self.issuer_cik,
            "issuer_ticker": self.issuer_ticker,
            "seller_name": self.seller_name,
            "relationships": list(self.relationships),
            "securities": [
                {
                    "security_class": s.security_class,
                    "units_to_be_sold": s.units_to_be_sold,
                    "aggregate_market_value": s.aggregate_market_value,
                    "units_outstanding": s.units_outstanding,
                    "approximate_sale_date": s.approximate_sale_date,
                    "exchange": s.exchange,
                    "broker_name": s.broker_name,
                }
                for s in self.securities
            ],
            "sold_past_three_months": [
                {
                    "seller_name": p.seller_name,
                    "security_class": p.security_class,
                    "sale_date": p.sale_date,
                    "units_sold": p.units_sold,
                    "gross_proceeds": p.gross_proceeds,
                }
                for p in self.sold_past_three_months
            ],
            "plan_adoption_dates": list(self.plan_adoption_dates),
            "incomplete_reason": self.incomplete_reason,
        }

    def describe(self) -> list[str]:
        """Plain lines for a prompt; only what the notice states."""
        issuer = self.issuer_name or "unknown issuer"
        if self.issuer_ticker:
            issuer = f"{issuer} ({self.issuer_ticker})"
        lines = [f"Form 144 notice of proposed sale: {issuer}"]
        seller = self.seller_name or "unknown seller"
        roles = f" ({', '.join(self.relationships)})" if self.relationships else ""
        lines.append(f"Seller: {seller}{roles}")
        for s in self.securities:
            parts = [
                f"{_amount(s.units_to_be_sold)} units of {s.security_class or 'unstated class'}",
                f"market value ${_amount(s.aggregate_market_value)}",
            ]
            if s.units_outstanding is not None:
                parts.append(f"of {_amount(s.units_outstanding)} outstanding")
            parts.append(f"on or about {s.approximate_sale_date or 'unstated date'}")
            if s.exchange:
                parts.append(f"on {s.exchange}")
            if s.broker_name:
                parts.append(f"through {s.broker_name}")
            lines.append("To be sold: " + ", ".join(parts))
        if (total := self.total_market_value) is not None and len(self.securities) > 1:
            lines.append(f"Total market value to be sold: ${_amount(total)}")
        for p in self.sold_past_three_months:
            lines.append(
                f"Sold in past 3 months: {_amount(p.units_sold)} units of "
                f"{p.security_class or 'unstated class'} on {p.sale_date or 'unstated date'} "
                f"for ${_amount(p.gross_proceeds)} by {p.seller_name or 'unstated seller'}"
            )
        if self.plan_adoption_dates:
            lines.append("Rule 10b5-1 plan adopted: " + ", ".join(self.plan_adoption_dates))
        if self.incomplete_reason:
            lines.append(f"Incomplete: {self.incomplete_reason}")
        return lines


def _amount(value: float | None) -> str:
    if value is None:
        return "unstated"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


class _Reader:
    """Reads values and notes what was stated but unreadable (rule 1)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def number(self, element: Element | None, what: str) -> float | None:
        raw = all_text(element)
        if raw is None:
            return None
        try:
            value = float(raw.replace(",", "").removeprefix("$"))
        except ValueError:
            value = None
        if value is None or value != value or value in (float("inf"), float("-inf")):
            self.problems.append(f"unreadable {what} {raw!r}")
            return None
        return value

    def date(self, element: Element | None, what: str) -> str | None:
        raw = all_text(element)
        if raw is None:
            return None
        match = _US_DATE.fullmatch(raw)
        if match:
            month, day, year = (int(group) for group in match.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                pass
        self.problems.append(f"unreadable {what} {raw!r}")
        return None

    def cik(self, element: Element | None) -> str | None:
        raw = all_text(element)
        if raw is None:
            return None
        if not raw.isascii() or not raw.isdigit() or len(raw.lstrip("0")) > 10:
            self.problems.append(f"unreadable issuer CIK {raw!r}")
            return None
        return raw.lstrip("0").zfill(10)


def _root(document: str | bytes) -> Element:
    root = parse_xml(document, "Form 144 document")
    if local_name(root.tag) != "edgarSubmission":
        raise SerializationError("not a Form 144 document: no <edgarSubmission> root")
    if (namespace := namespace_of(root.tag)) not in ("", NAMESPACE):
        raise SerializationError(f"not a Form 144 document: namespace {namespace!r}")
    submission_type = all_text(child(child(root, "headerData"), "submissionType"))
    if submission_type is not None and submission_type.upper() not in _SUBMISSION_TYPES:
        raise SerializationError(f"not a Form 144 document: submissionType {submission_type!r}")
    return root


def parse_sale_notice(document: str | bytes) -> SaleNotice:
    """The facts of a Form 144 or 144/A document (its XML, as bytes or text)."""
    root = _root(document)
    read = _Reader()
    form = child(root, "formData")
    issuer = child(form, "issuerInfo")
    missing: list[str] = []
    if form is None:
        missing.append("formData")
    elif issuer is None:
        missing.append("issuerInfo")
    issuer_name = all_text(child(issuer, "issuerName"))
    issuer_cik = read.cik(child(issuer, "issuerCik"))
    seller = all_text(child(issuer, "nameOfPersonForWhoseAccountTheSecuritiesAreToBeSold"))
    if issuer is not None:
        cik_unreadable = issuer_cik is None and all_text(child(issuer, "issuerCik")) is not None
        missing += [
            label
            for label, value in (
                ("issuer name", issuer_name),
                ("issuer CIK", issuer_cik or ("" if cik_unreadable else None)),
                ("seller", seller),
            )
            if value is None
        ]
    relationships = tuple(
        text
        for text in (
            all_text(node)
            for node in children(child(issuer, "relationshipsToIssuer"), "relationshipToIssuer")
        )
        if text
    )
    securities = tuple(
        SaleNoticeSecurity(
            security_class=all_text(child(row, "securitiesClassTitle")),
            units_to_be_sold=read.number(child(row, "noOfUnitsSold"), "units to be sold"),
            aggregate_market_value=read.number(
                child(row, "aggregateMarketValue"), "aggregate market value"
            ),
            units_outstanding=read.number(child(row, "noOfUnitsOutstanding"), "units outstanding"),
            approximate_sale_date=read.date(child(row, "approxSaleDate"), "sale date"),
            exchange=all_text(child(row, "securitiesExchangeName")),
            broker_name=all_text(child(child(row, "brokerOrMarketmakerDetails"), "name")),
        )
        for row in children(form, "securitiesInformation")
    )
    if form is not None and not securities:
        missing.append("securitiesInformation")
    past = tuple(
        SaleNoticePastSale(
            seller_name=all_text(child(child(row, "sellerDetails"), "name")),
            security_class=all_text(child(row, "securitiesClassTitle")),
            sale_date=read.date(child(row, "saleDate"), "past sale date"),
            units_sold=read.number(child(row, "amountOfSecuritiesSold"), "units sold"),
            gross_proceeds=read.number(child(row, "grossProceeds"), "gross proceeds"),
        )
        for row in children(form, "securitiesSoldInPast3Months")
    )
    plan_nodes = children(
        child(child(form, "noticeSignature"), "planAdoptionDates"), "planAdoptionDate"
    )
    plan_dates = tuple(
        date for date in (read.date(node, "plan adoption date") for node in plan_nodes) if date
    )
    reasons = ([f"missing {', '.join(missing)}"] if missing else []) + read.problems
    return SaleNotice(
        issuer_name=issuer_name,
        issuer_cik=issuer_cik,
        issuer_ticker=None,
        seller_name=seller,
        relationships=relationships,
        securities=securities,
        sold_past_three_months=past,
        plan_adoption_dates=plan_dates,
        incomplete_reason="; ".join(reasons) or None,
    )
