"""Forms 3, 4 and 5 (and 3/A, 4/A, 5/A): the `<ownershipDocument>` XML read into typed facts.

What the XML holds (SEC's "EDGAR Ownership XML Technical Specification", schema versions X0202
to X0609; the element names have not changed in ways that matter here):
- `issuer`: issuerCik, issuerName, issuerTradingSymbol. The filing is about the issuer: its
  ticker is the one a reader filters on, never a reporting owner's.
- `reportingOwner` (one or more): reportingOwnerId (rptOwnerCik, rptOwnerName) and
  reportingOwnerRelationship (isDirector, isOfficer + officerTitle, isTenPercentOwner,
  isOther + otherText). Flags are "1"/"0" or "true"/"false"; absent means no.
- `nonDerivativeTable` and `derivativeTable`, each holding transactions (Form 4, 5) and
  holdings (Form 3, 5; Form 4 for other indirect holdings). A row's fields are wrapped in
  `<value>` and may carry `<footnoteId id="F1"/>`, or carry only a footnote (a price "see
  footnote", a date range explained in words), or be empty.
- `footnotes/footnote` by id; `remarks`; `aff10b5One` (X0508 on, filed since April 2023): the
  box "a transaction was made pursuant to a contract, instruction or written plan ... intended
  to satisfy Rule 10b5-1(c)".

How each row's `rule_10b5_1` is typed (True, False, or None for unknown):
1. A footnote attached to the row (on any of its fields) that mentions Rule 10b5-1: True. This
   is how filers stated it before the box existed, and still do, row by row.
2. Else, when the document carries `aff10b5One`: 0 means False for every row. 1 means True,
   unless some other row names the plan in its own footnote (then the box speaks for those
   rows, and this one is unknown).
3. Else (older schema, no footnote on the row): True when the remarks mention Rule 10b5-1,
   otherwise unknown.
Holdings are not transactions: always None.

Numbers are kept as the filer wrote them (fractional shares included); a price that is only a
footnote is None with the footnote kept (`price_footnote_ids`), and `weighted_average_price`
says the footnote describes a weighted average of several trades. A malformed document
(not XML, a DTD or entity declaration, no `<ownershipDocument>`) raises `SerializationError`;
anything optional that is missing or unreadable is None, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element

from services.analyze.reading.forms.xml import child, children, local_name, parse_xml
from services.common.errors import SerializationError

OWNERSHIP_FORMS = frozenset({"3", "4", "5"})  # base forms whose primary document is this XML
_TRUE = frozenset({"1", "true", "yes"})
_RULE_10B5_1 = re.compile(r"10b5-?1", re.IGNORECASE)
_WEIGHTED_AVERAGE = re.compile(r"weighted[- ]average", re.IGNORECASE)
_NO_SYMBOL = frozenset({"", "NONE", "N/A", "NA"})
_ROW_TAGS = frozenset(
    {
        "nonDerivativeTransaction",
        "nonDerivativeHolding",
        "derivativeTransaction",
        "derivativeHolding",
    }
)


class Table(StrEnum):
    NON_DERIVATIVE = "non_derivative"
    DERIVATIVE = "derivative"


class RowKind(StrEnum):
    TRANSACTION = "transaction"
    HOLDING = "holding"


@dataclass(frozen=True, slots=True)
class Issuer:
    cik: str
    name: str
    trading_symbol: str | None


@dataclass(frozen=True, slots=True)
class ReportingOwner:
    cik: str
    name: str
    is_director: bool
    is_officer: bool
    officer_title: str | None
    is_ten_percent_owner: bool
    is_other: bool
    other_text: str | None

    @property
    def roles(self) -> tuple[str, ...]:
        """director, officer, ten_percent_owner, other: what the owner is to the issuer."""
        flags = (
            (self.is_director, "director"),
            (self.is_officer, "officer"),
            (self.is_ten_percent_owner, "ten_percent_owner"),
            (self.is_other, "other"),
        )
        return tuple(role for held, role in flags if held)


@dataclass(frozen=True, slots=True)
class OwnershipRow:
    """One row of either table: a transaction or a holding."""

    table: Table
    kind: RowKind
    security_title: str | None
    date: str | None  # transactionDate, ISO (YYYY-MM-DD); None for holdings
    code: str | None  # transactionCode: P, S, A, M, F, G, C, X, D, J, ...
    shares: float | None  # transactionShares (derivatives: the derivative securities)
    price_per_share: float | None  # None when only a footnote states it
    price_footnote_ids: tuple[str, ...]
    weighted_average_price: bool  # the price's footnote says it averages several trades
    acquired_disposed: str | None  # A or D
    shares_owned_following: float | None
    direct_or_indirect: str | None  # D or I
    nature_of_ownership: str | None  # for I: "By Trust", "Held by LLC", ...
    conversion_or_exercise_price: float | None  # derivatives only
    exercise_date: str | None
    expiration_date: str | None
    underlying_title: str | None
    underlying_shares: float | None
    footnote_ids: tuple[str, ...]  # every footnote the row refers to, in document order
    rule_10b5_1: bool | None  # see the module docstring; None = unknown

    @property
    def value_usd(self) -> float | None:
        """Shares times price, when both are stated."""
        if self.shares is None or self.price_per_share is None:
            return None
        return self.shares * self.price_per_share


@dataclass(frozen=True, slots=True)
class Ownership:
    document_type: str  # 3, 4, 5, 3/A, 4/A, 5/A as the document says
    schema_version: str | None
    period_of_report: str | None
    issuer: Issuer
    owners: tuple[ReportingOwner, ...]
    rows: tuple[OwnershipRow, ...]
    footnotes: Mapping[str, str]
    remarks: str | None
    aff10b5_one: bool | None  # None when the schema version has no such element
    no_securities_owned: bool

    @property
    def transactions(self) -> tuple[OwnershipRow, ...]:
        return tuple(row for row in self.rows if row.kind is RowKind.TRANSACTION)


def _path(element: Element | None, *names: str) -> Element | None:
    for name in names:
        element = child(element, name)
    return element


def _text(element: Element | None) -> str | None:
    """The field's value: the text of its `<value>` child, or its own text; None when empty."""
    if element is None:
        return None
    wrapped = child(element, "value")
    raw = (wrapped if wrapped is not None else element).text
    cleaned = " ".join((raw or "").split())
    return cleaned or None


def _flag(element: Element | None) -> bool:
    return (_text(element) or "").lower() in _TRUE


def _number(element: Element | None) -> float | None:
    raw = (_text(element) or "").replace(",", "").removeprefix("$")
    try:
        return float(raw)
    except ValueError:
        return None


def _date(element: Element | None) -> str | None:
    """YYYY-MM-DD; some filers append a time zone offset (2024-04-29-05:00)."""
    value = _text(element)
    return value[:10] if value and re.match(r"\d{4}-\d{2}-\d{2}", value) else None


def _footnote_ids(element: Element | None) -> tuple[str, ...]:
    if element is None:
        return ()
    found = (node.get("id") for node in element.iter() if local_name(node.tag) == "footnoteId")
    return tuple(dict.fromkeys(found_id for found_id in found if found_id))


def _owner(element: Element) -> ReportingOwner:
    ident = child(element, "reportingOwnerId")
    relation = child(element, "reportingOwnerRelationship")
    return ReportingOwner(
        cik=_text(child(ident, "rptOwnerCik")) or "",
        name=_text(child(ident, "rptOwnerName")) or "",
        is_director=_flag(child(relation, "isDirector")),
        is_officer=_flag(child(relation, "isOfficer")),
        officer_title=_text(child(relation, "officerTitle")),
        is_ten_percent_owner=_flag(child(relation, "isTenPercentOwner")),
        is_other=_flag(child(relation, "isOther")),
        other_text=_text(child(relation, "otherText")),
    )


@dataclass(frozen=True, slots=True)
class _Context:
    """What deciding a row's 10b5-1 flag needs to know about the whole document."""

    footnotes: Mapping[str, str]
    aff10b5_one: bool | None
    remarks_name_the_rule: bool
    some_row_names_the_rule: bool


def _names_the_rule(footnote_ids: Iterable[str], footnotes: Mapping[str, str]) -> bool:
    return any(_RULE_10B5_1.search(footnotes.get(fid, "")) for fid in footnote_ids)


def _rule_10b5_1(footnote_ids: tuple[str, ...], context: _Context) -> bool | None:
    if _names_the_rule(footnote_ids, context.footnotes):
        return True
    if context.aff10b5_one is not None:
        if not context.aff10b5_one:
            return False
        return None if context.some_row_names_the_rule else True
    return True if context.remarks_name_the_rule else None


def _row(element: Element, table: Table, context: _Context) -> OwnershipRow:
    kind = (
        RowKind.TRANSACTION if local_name(element.tag).endswith("Transaction") else RowKind.HOLDING
    )
    amounts = child(element, "transactionAmounts")
    price = child(amounts, "transactionPricePerShare")
    price_notes = _footnote_ids(price)
    nature = child(element, "ownershipNature")
    following = child(element, "postTransactionAmounts")
    footnote_ids = _footnote_ids(element)
    is_transaction = kind is RowKind.TRANSACTION
    return OwnershipRow(
        table=table,
        kind=kind,
        security_title=_text(child(element, "securityTitle")),
        date=_date(child(element, "transactionDate")),
        code=_text(_path(element, "transactionCoding", "transactionCode")),
        shares=_number(child(amounts, "transactionShares")),
        price_per_share=_number(price),
        price_footnote_ids=price_notes,
        weighted_average_price=any(
            _WEIGHTED_AVERAGE.search(context.footnotes.get(fid, "")) for fid in price_notes
        ),
        acquired_disposed=_text(child(amounts, "transactionAcquiredDisposedCode")),
        shares_owned_following=_number(child(following, "sharesOwnedFollowingTransaction")),
        direct_or_indirect=_text(child(nature, "directOrIndirectOwnership")),
        nature_of_ownership=_text(child(nature, "natureOfOwnership")),
        conversion_or_exercise_price=_number(child(element, "conversionOrExercisePrice")),
        exercise_date=_date(child(element, "exerciseDate")),
        expiration_date=_date(child(element, "expirationDate")),
        underlying_title=_text(_path(element, "underlyingSecurity", "underlyingSecurityTitle")),
        underlying_shares=_number(_path(element, "underlyingSecurity", "underlyingSecurityShares")),
        footnote_ids=footnote_ids,
        rule_10b5_1=_rule_10b5_1(footnote_ids, context) if is_transaction else None,
    )


def _table_rows(root: Element) -> list[tuple[Element, Table]]:
    rows: list[tuple[Element, Table]] = []
    for table_name, table in (
        ("nonDerivativeTable", Table.NON_DERIVATIVE),
        ("derivativeTable", Table.DERIVATIVE),
    ):
        for row in _children_of(child(root, table_name)):
            if local_name(row.tag) in _ROW_TAGS:
                rows.append((row, table))
    return rows


def _children_of(element: Element | None) -> list[Element]:
    return [] if element is None else list(element)


def _root(document: str | bytes) -> Element:
    root = parse_xml(document, "ownership document")
    if local_name(root.tag) != "ownershipDocument":
        raise SerializationError("not an ownership document: no <ownershipDocument> root")
    return root


def parse_ownership(document: str | bytes) -> Ownership:
    """The facts of a Form 3, 4 or 5 document (its XML, as bytes or text)."""
    root = _root(document)
    footnotes = {
        note.get("id", ""): " ".join("".join(note.itertext()).split())
        for note in children(child(root, "footnotes"), "footnote")
        if note.get("id")
    }
    remarks = _text(child(root, "remarks"))
    aff_element = child(root, "aff10b5One")
    rows = _table_rows(root)
    context = _Context(
        footnotes=footnotes,
        aff10b5_one=None if aff_element is None else _flag(aff_element),
        remarks_name_the_rule=bool(remarks and _RULE_10B5_1.search(remarks)),
        some_row_names_the_rule=any(
            _names_the_rule(_footnote_ids(row), footnotes) for row, _ in rows
        ),
    )
    issuer = child(root, "issuer")
    symbol = (_text(child(issuer, "issuerTradingSymbol")) or "").upper()
    return Ownership(
        document_type=_text(child(root, "documentType")) or "",
        schema_version=_text(child(root, "schemaVersion")),
        period_of_report=_date(child(root, "periodOfReport")),
        issuer=Issuer(
            cik=_text(child(issuer, "issuerCik")) or "",
            name=_text(child(issuer, "issuerName")) or "",
            trading_symbol=None if symbol in _NO_SYMBOL else symbol,
        ),
        owners=tuple(_owner(owner) for owner in children(root, "reportingOwner")),
        rows=tuple(_row(row, table, context) for row, table in rows),
        footnotes=footnotes,
        remarks=remarks,
        aff10b5_one=context.aff10b5_one,
        no_securities_owned=_flag(child(root, "noSecuritiesOwned")),
    )


def _row_to_avro(row: OwnershipRow) -> dict[str, Any]:
    return {
        "table": row.table.value,
        "kind": row.kind.value,
        "security_title": row.security_title,
        "date": row.date,
        "code": row.code,
        "shares": row.shares,
        "price_per_share": row.price_per_share,
        "price_footnote_ids": list(row.price_footnote_ids),
        "weighted_average_price": row.weighted_average_price,
        "value_usd": row.value_usd,
        "acquired_disposed": row.acquired_disposed,
        "shares_owned_following": row.shares_owned_following,
        "direct_or_indirect": row.direct_or_indirect,
        "nature_of_ownership": row.nature_of_ownership,
        "conversion_or_exercise_price": row.conversion_or_exercise_price,
        "exercise_date": row.exercise_date,
        "expiration_date": row.expiration_date,
        "underlying_title": row.underlying_title,
        "underlying_shares": row.underlying_shares,
        "footnote_ids": list(row.footnote_ids),
        "rule_10b5_1": row.rule_10b5_1,
    }


def ownership_to_avro(ownership: Ownership) -> dict[str, Any]:
    """Exactly the `ownership` (Ownership) record of FilingAnalysis.avsc."""
    issuer = ownership.issuer
    return {
        "document_type": ownership.document_type,
        "schema_version": ownership.schema_version,
        "period_of_report": ownership.period_of_report,
        "issuer": {"cik": issuer.cik, "name": issuer.name, "trading_symbol": issuer.trading_symbol},
        "owners": [
            {
                "cik": owner.cik,
                "name": owner.name,
                "is_director": owner.is_director,
                "is_officer": owner.is_officer,
                "officer_title": owner.officer_title,
                "is_ten_percent_owner": owner.is_ten_percent_owner,
                "is_other": owner.is_other,
                "other_text": owner.other_text,
            }
            for owner in ownership.owners
        ],
        "transactions": [_row_to_avro(row) for row in ownership.rows],
        "footnotes": [{"id": key, "text": text} for key, text in ownership.footnotes.items()],
        "remarks": ownership.remarks,
        "aff10b5_one": ownership.aff10b5_one,
        "no_securities_owned": ownership.no_securities_owned,
    }


_TITLES = (
    (re.compile(r"chief executive|\bceo\b", re.I), "CEO"),
    (re.compile(r"chief financial|\bcfo\b", re.I), "CFO"),
    (re.compile(r"chief operating|\bcoo\b", re.I), "COO"),
    (re.compile(r"^president\b", re.I), "President"),
)


def owner_label(owner: ReportingOwner) -> str:
    """ "CFO Maestri Luca", "Director GARRETT MARK", "10% owner SOFTBANK GROUP CORP."."""
    role = ""
    if owner.is_officer:
        title = owner.officer_title or "Officer"
        role = next((short for pattern, short in _TITLES if pattern.search(title)), title)
    elif owner.is_director:
        role = "Director"
    elif owner.is_ten_percent_owner:
        role = "10% owner"
    elif owner.is_other:
        role = owner.other_text or ""
    return f"{role} {owner.name}".strip()
