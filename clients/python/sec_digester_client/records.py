"""Typed records mirroring io.secdigester.FilingAnalysis as the gateway serves it in JSON.

The protocol's JSON mapping: timestamps are ISO-8601 strings in UTC, dates `YYYY-MM-DD`, enums
their symbol, a nullable field `null`. Fields a newer schema adds are ignored (they stay in
`raw`), and an enum symbol this version does not know reads as the schema's default, as an Avro
reader would: a client keeps working when the gateway's schema evolves. A required field that is
missing or of the wrong type is a `ProtocolError`.

The structured facts of schema v2 (`ownership`, `earnings`, `item_facts`) are typed too; a v1
record reads with `ownership` and `earnings` None and `item_facts` empty, as an Avro reader
fills in their defaults. Their dates stay `YYYY-MM-DD` strings: the schema types them as
strings, copied from the filer's document.

Schema v3 adds `stake` (Schedules 13D and 13G), `sale_notice` (Form 144) and `financials` (a
periodic report's XBRL figures), None for other forms and for older records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sec_digester_client.errors import ProtocolError

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class FilingSource(StrEnum):
    LIVE = "live"
    DAILY_INDEX = "daily_index"
    REPLAY = "replay"


class DocumentStatus(StrEnum):
    FETCHED = "fetched"
    NOT_FOUND = "not_found"
    SKIPPED = "skipped"
    ERROR = "error"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical, for comparisons."""
        return list(Priority).index(self)


@dataclass(frozen=True, slots=True)
class Entity:
    cik: str
    name: str
    role: str
    tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filing:
    accession_number: str
    form_type: str
    accepted_at: dt.datetime
    filed_date: dt.date
    entities: tuple[Entity, ...]
    tickers: tuple[str, ...]
    index_url: str
    size_bytes: int | None
    items: tuple[str, ...]
    source: FilingSource
    detected_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Metric:
    value: float
    unit: str
    text: str


@dataclass(frozen=True, slots=True)
class Analysis:
    summary: str
    sentiment: float
    priority: Priority
    keywords: tuple[str, ...]
    event_types: tuple[str, ...]
    metrics: Mapping[str, Metric] = field(hash=False)


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    name: str
    model: str | None
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    note: str | None


class OwnershipTable(StrEnum):
    NON_DERIVATIVE = "non_derivative"  # Table I: shares
    DERIVATIVE = "derivative"  # Table II: options, RSUs, convertibles


class OwnershipRowKind(StrEnum):
    TRANSACTION = "transaction"
    HOLDING = "holding"  # a holding reported without a transaction


class FiscalPeriod(StrEnum):
    UNKNOWN = "unknown"
    QUARTER = "quarter"
    YEAR_TO_DATE = "year_to_date"
    FULL_YEAR = "full_year"


@dataclass(frozen=True, slots=True)
class OwnershipIssuer:
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
        """director, officer, ten_percent_owner, other: as the `insider_roles` filter names
        them."""
        flags = (
            (self.is_director, "director"),
            (self.is_officer, "officer"),
            (self.is_ten_percent_owner, "ten_percent_owner"),
            (self.is_other, "other"),
        )
        return tuple(role for held, role in flags if held)


@dataclass(frozen=True, slots=True)
class InsiderTransaction:
    """One row of Table I or II of a Form 3/4/5: a transaction, or a holding."""

    table: OwnershipTable
    kind: OwnershipRowKind
    security_title: str | None
    date: str | None  # YYYY-MM-DD; None for holdings
    code: str | None  # P purchase, S sale, A award, M exercise, F tax withholding, G gift, ...
    shares: float | None
    price_per_share: float | None
    price_footnote_ids: tuple[str, ...]
    weighted_average_price: bool
    value_usd: float | None  # shares times price, when both are stated
    acquired_disposed: str | None  # A or D
    shares_owned_following: float | None
    direct_or_indirect: str | None  # D or I
    nature_of_ownership: str | None
    conversion_or_exercise_price: float | None
    exercise_date: str | None
    expiration_date: str | None
    underlying_title: str | None
    underlying_shares: float | None
    footnote_ids: tuple[str, ...]
    rule_10b5_1: bool | None  # None = the document does not say


@dataclass(frozen=True, slots=True)
class OwnershipFootnote:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Ownership:
    document_type: str  # 3, 4, 5, 3/A, 4/A or 5/A
    schema_version: str | None
    period_of_report: str | None
    issuer: OwnershipIssuer
    owners: tuple[ReportingOwner, ...]
    # Both tables' rows in document order, holdings included (see `kind`).
    transactions: tuple[InsiderTransaction, ...]
    footnotes: tuple[OwnershipFootnote, ...]
    remarks: str | None
    aff10b5_one: bool | None
    no_securities_owned: bool


@dataclass(frozen=True, slots=True)
class EarningsFigure:
    name: str  # revenue, net_income, eps_diluted, eps_basic, eps
    value: float
    unit: str  # USD or USD/share
    period: FiscalPeriod
    gaap: bool
    prior_value: float | None
    change_percent: float | None
    text: str
    source: str | None = None  # v3: "table" or "prose"; None in older records


@dataclass(frozen=True, slots=True)
class GuidanceFigure:
    name: str
    low: float
    high: float
    unit: str
    period: FiscalPeriod
    gaap: bool
    text: str


@dataclass(frozen=True, slots=True)
class Earnings:
    figures: tuple[EarningsFigure, ...]
    guidance: tuple[GuidanceFigure, ...]


@dataclass(frozen=True, slots=True)
class ItemFact:
    """A fact an 8-K item states: who was appointed to what (5.02), the counterparty of an
    agreement (1.01), ..."""

    item: str
    event_type: str
    subject: str | None
    role: str | None
    text: str


class StakeKind(StrEnum):
    ACTIVE = "active"  # Schedule 13D
    PASSIVE = "passive"  # Schedule 13G


class StakeSource(StrEnum):
    XML = "xml"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class StakeHolder:
    name: str
    cik: str | None
    type: str | None
    citizenship: str | None
    sole_voting_power: float | None
    shared_voting_power: float | None
    sole_dispositive_power: float | None
    shared_dispositive_power: float | None
    aggregate_amount: float | None
    percent_of_class: float | None


@dataclass(frozen=True, slots=True)
class Stake:
    """Who holds how much of which company (Schedule 13D or 13G)."""

    kind: StakeKind
    source: StakeSource
    amendment_number: int | None
    issuer_name: str | None
    issuer_cik: str | None
    issuer_cusip: str | None
    security_class: str | None
    event_date: str | None
    reporting_persons: tuple[StakeHolder, ...]
    percent_of_class: float | None  # the largest any reporting person states
    aggregate_amount: float | None
    purpose: str | None
    incomplete_reason: str | None


@dataclass(frozen=True, slots=True)
class SaleNoticeSecurity:
    security_class: str | None
    units_to_be_sold: float | None
    aggregate_market_value: float | None
    units_outstanding: float | None
    approximate_sale_date: str | None
    exchange: str | None
    broker_name: str | None


@dataclass(frozen=True, slots=True)
class SaleNoticePastSale:
    seller_name: str | None
    security_class: str | None
    sale_date: str | None
    units_sold: float | None
    gross_proceeds: float | None


@dataclass(frozen=True, slots=True)
class SaleNotice:
    """A Form 144: an insider's notice of a proposed sale."""

    issuer_name: str | None
    issuer_cik: str | None
    issuer_ticker: str | None
    seller_name: str | None
    relationships: tuple[str, ...]
    securities: tuple[SaleNoticeSecurity, ...]
    sold_past_three_months: tuple[SaleNoticePastSale, ...]
    plan_adoption_dates: tuple[str, ...]
    incomplete_reason: str | None


class XbrlSource(StrEnum):
    INSTANCE = "instance"
    INLINE = "inline"


class FactRole(StrEnum):
    CURRENT = "current"
    PRIOR_YEAR = "prior_year"


class PeriodLabel(StrEnum):
    QUARTER = "quarter"
    SIX_MONTHS = "six_months"
    NINE_MONTHS = "nine_months"
    FISCAL_YEAR = "fiscal_year"
    INSTANT = "instant"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class FinancialFact:
    name: str  # revenue, net_income, eps_basic, eps_diluted, operating_cash_flow, cash, ...
    role: FactRole
    value: float
    unit: str
    decimals: int | None
    concept: str
    period_start: str | None
    period_end: str
    period_label: PeriodLabel
    derived: bool


@dataclass(frozen=True, slots=True)
class Financials:
    """A periodic report's figures from its own XBRL."""

    source: XbrlSource
    document_type: str | None
    period_end: str | None
    fiscal_year: int | None
    fiscal_period: str | None
    facts: tuple[FinancialFact, ...]
    incomplete_reason: str | None

    def figure(
        self, name: str, role: FactRole = FactRole.CURRENT, label: PeriodLabel | None = None
    ) -> FinancialFact | None:
        """The first fact of that name and role (and period label, when given)."""
        return next(
            (
                fact
                for fact in self.facts
                if fact.name == name and fact.role == role and label in (None, fact.period_label)
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the gateway delivered a record from; `cursor` is the position just after it."""

    cursor: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class FilingAnalysis:
    filing: Filing
    document_url: str | None
    document_status: DocumentStatus
    document_detail: str | None
    items: tuple[str, ...]
    analysis: Analysis
    analyzer: AnalyzerInfo
    analyzed_at: dt.datetime
    # Schema v2's facts: None / empty for other forms and for v1 records.
    ownership: Ownership | None = None
    earnings: Earnings | None = None
    item_facts: tuple[ItemFact, ...] = ()
    # Schema v3's facts: None for other forms and for older records.
    stake: Stake | None = None
    sale_notice: SaleNotice | None = None
    financials: Financials | None = None
    # None for a record not read from a stream (e.g. from the REST API).
    delivery: Delivery | None = None
    # The JSON object it was read from, fields unknown to this version included.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def accession_number(self) -> str:
        return self.filing.accession_number

    @classmethod
    def from_json(cls, data: Mapping[str, Any], delivery: Delivery | None = None) -> FilingAnalysis:
        """From the `data` of a filing frame (or a REST answer); ProtocolError if malformed."""
        try:
            return cls(
                filing=_filing(data["filing"]),
                document_url=data.get("document_url"),
                document_status=_enum(DocumentStatus, data.get("document_status")),
                document_detail=data.get("document_detail"),
                items=tuple(data.get("items") or ()),
                analysis=_analysis(data["analysis"]),
                analyzer=_analyzer(data["analyzer"]),
                analyzed_at=_timestamp(data["analyzed_at"]),
                ownership=_optional(_ownership, data.get("ownership")),
                earnings=_optional(_earnings, data.get("earnings")),
                item_facts=tuple(_item_fact(fact) for fact in data.get("item_facts") or ()),
                stake=_optional(_stake, data.get("stake")),
                sale_notice=_optional(_sale_notice, data.get("sale_notice")),
                financials=_optional(_financials, data.get("financials")),
                delivery=delivery,
                raw=data,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"not a FilingAnalysis record: {exc!r}") from exc


def _filing(data: Mapping[str, Any]) -> Filing:
    return Filing(
        accession_number=data["accession_number"],
        form_type=data["form_type"],
        accepted_at=_timestamp(data["accepted_at"]),
        filed_date=dt.date.fromisoformat(data["filed_date"]),
        entities=tuple(
            Entity(e["cik"], e["name"], e["role"], tuple(e.get("tickers") or ()))
            for e in data["entities"]
        ),
        tickers=tuple(data.get("tickers") or ()),
        index_url=data["index_url"],
        size_bytes=data.get("size_bytes"),
        items=tuple(data.get("items") or ()),
        source=_enum(FilingSource, data.get("source")),
        detected_at=_timestamp(data["detected_at"]),
    )


def _analysis(data: Mapping[str, Any]) -> Analysis:
    return Analysis(
        summary=data["summary"],
        sentiment=float(data["sentiment"]),
        priority=_enum(Priority, data.get("priority")),
        keywords=tuple(data.get("keywords") or ()),
        event_types=tuple(data.get("event_types") or ()),
        metrics={
            name: Metric(float(m["value"]), m["unit"], m["text"])
            for name, m in (data.get("metrics") or {}).items()
        },
    )


def _analyzer(data: Mapping[str, Any]) -> AnalyzerInfo:
    cost = data.get("cost_usd")
    return AnalyzerInfo(
        name=data["name"],
        model=data.get("model"),
        latency_ms=float(data["latency_ms"]),
        prompt_tokens=int(data.get("prompt_tokens", 0)),
        completion_tokens=int(data.get("completion_tokens", 0)),
        cost_usd=None if cost is None else float(cost),
        note=data.get("note"),
    )


def _optional(read: Callable[[Mapping[str, Any]], T], data: Mapping[str, Any] | None) -> T | None:
    return None if data is None else read(data)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _ownership(data: Mapping[str, Any]) -> Ownership:
    issuer = data["issuer"]
    return Ownership(
        document_type=data["document_type"],
        schema_version=data.get("schema_version"),
        period_of_report=data.get("period_of_report"),
        issuer=OwnershipIssuer(issuer["cik"], issuer["name"], issuer.get("trading_symbol")),
        owners=tuple(_owner(owner) for owner in data.get("owners") or ()),
        transactions=tuple(_transaction(row) for row in data.get("transactions") or ()),
        footnotes=tuple(
            OwnershipFootnote(note["id"], note["text"]) for note in data.get("footnotes") or ()
        ),
        remarks=data.get("remarks"),
        aff10b5_one=data.get("aff10b5_one"),
        no_securities_owned=bool(data.get("no_securities_owned", False)),
    )


def _owner(data: Mapping[str, Any]) -> ReportingOwner:
    return ReportingOwner(
        cik=data["cik"],
        name=data["name"],
        is_director=bool(data.get("is_director", False)),
        is_officer=bool(data.get("is_officer", False)),
        officer_title=data.get("officer_title"),
        is_ten_percent_owner=bool(data.get("is_ten_percent_owner", False)),
        is_other=bool(data.get("is_other", False)),
        other_text=data.get("other_text"),
    )


def _transaction(data: Mapping[str, Any]) -> InsiderTransaction:
    return InsiderTransaction(
        table=_enum(OwnershipTable, data.get("table")),
        kind=_enum(OwnershipRowKind, data.get("kind")),
        security_title=data.get("security_title"),
        date=data.get("date"),
        code=data.get("code"),
        shares=_number(data.get("shares")),
        price_per_share=_number(data.get("price_per_share")),
        price_footnote_ids=tuple(data.get("price_footnote_ids") or ()),
        weighted_average_price=bool(data.get("weighted_average_price", False)),
        value_usd=_number(data.get("value_usd")),
        acquired_disposed=data.get("acquired_disposed"),
        shares_owned_following=_number(data.get("shares_owned_following")),
        direct_or_indirect=data.get("direct_or_indirect"),
        nature_of_ownership=data.get("nature_of_ownership"),
        conversion_or_exercise_price=_number(data.get("conversion_or_exercise_price")),
        exercise_date=data.get("exercise_date"),
        expiration_date=data.get("expiration_date"),
        underlying_title=data.get("underlying_title"),
        underlying_shares=_number(data.get("underlying_shares")),
        footnote_ids=tuple(data.get("footnote_ids") or ()),
        rule_10b5_1=data.get("rule_10b5_1"),
    )


def _earnings(data: Mapping[str, Any]) -> Earnings:
    return Earnings(
        figures=tuple(
            EarningsFigure(
                name=figure["name"],
                value=float(figure["value"]),
                unit=figure["unit"],
                period=_enum(FiscalPeriod, figure.get("period")),
                gaap=bool(figure.get("gaap", True)),
                prior_value=_number(figure.get("prior_value")),
                change_percent=_number(figure.get("change_percent")),
                text=figure["text"],
                source=figure.get("source"),
            )
            for figure in data.get("figures") or ()
        ),
        guidance=tuple(
            GuidanceFigure(
                name=guide["name"],
                low=float(guide["low"]),
                high=float(guide["high"]),
                unit=guide["unit"],
                period=_enum(FiscalPeriod, guide.get("period")),
                gaap=bool(guide.get("gaap", True)),
                text=guide["text"],
            )
            for guide in data.get("guidance") or ()
        ),
    )


def _item_fact(data: Mapping[str, Any]) -> ItemFact:
    return ItemFact(
        item=data["item"],
        event_type=data["event_type"],
        subject=data.get("subject"),
        role=data.get("role"),
        text=data["text"],
    )


def _stake(data: Mapping[str, Any]) -> Stake:
    return Stake(
        kind=_symbol(StakeKind, data["kind"]),
        source=_symbol(StakeSource, data["source"]),
        amendment_number=data.get("amendment_number"),
        issuer_name=data.get("issuer_name"),
        issuer_cik=data.get("issuer_cik"),
        issuer_cusip=data.get("issuer_cusip"),
        security_class=data.get("security_class"),
        event_date=data.get("event_date"),
        reporting_persons=tuple(
            StakeHolder(
                name=person["name"],
                cik=person.get("cik"),
                type=person.get("type"),
                citizenship=person.get("citizenship"),
                sole_voting_power=_number(person.get("sole_voting_power")),
                shared_voting_power=_number(person.get("shared_voting_power")),
                sole_dispositive_power=_number(person.get("sole_dispositive_power")),
                shared_dispositive_power=_number(person.get("shared_dispositive_power")),
                aggregate_amount=_number(person.get("aggregate_amount")),
                percent_of_class=_number(person.get("percent_of_class")),
            )
            for person in data.get("reporting_persons") or ()
        ),
        percent_of_class=_number(data.get("percent_of_class")),
        aggregate_amount=_number(data.get("aggregate_amount")),
        purpose=data.get("purpose"),
        incomplete_reason=data.get("incomplete_reason"),
    )


def _sale_notice(data: Mapping[str, Any]) -> SaleNotice:
    return SaleNotice(
        issuer_name=data.get("issuer_name"),
        issuer_cik=data.get("issuer_cik"),
        issuer_ticker=data.get("issuer_ticker"),
        seller_name=data.get("seller_name"),
        relationships=tuple(data.get("relationships") or ()),
        securities=tuple(
            SaleNoticeSecurity(
                security_class=security.get("security_class"),
                units_to_be_sold=_number(security.get("units_to_be_sold")),
                aggregate_market_value=_number(security.get("aggregate_market_value")),
                units_outstanding=_number(security.get("units_outstanding")),
                approximate_sale_date=security.get("approximate_sale_date"),
                exchange=security.get("exchange"),
                broker_name=security.get("broker_name"),
            )
            for security in data.get("securities") or ()
        ),
        sold_past_three_months=tuple(
            SaleNoticePastSale(
                seller_name=sale.get("seller_name"),
                security_class=sale.get("security_class"),
                sale_date=sale.get("sale_date"),
                units_sold=_number(sale.get("units_sold")),
                gross_proceeds=_number(sale.get("gross_proceeds")),
            )
            for sale in data.get("sold_past_three_months") or ()
        ),
        plan_adoption_dates=tuple(data.get("plan_adoption_dates") or ()),
        incomplete_reason=data.get("incomplete_reason"),
    )


def _financials(data: Mapping[str, Any]) -> Financials:
    return Financials(
        source=_symbol(XbrlSource, data["source"]),
        document_type=data.get("document_type"),
        period_end=data.get("period_end"),
        fiscal_year=data.get("fiscal_year"),
        fiscal_period=data.get("fiscal_period"),
        facts=tuple(
            FinancialFact(
                name=fact["name"],
                role=_symbol(FactRole, fact["role"]),
                value=float(fact["value"]),
                unit=fact["unit"],
                decimals=fact.get("decimals"),
                concept=fact["concept"],
                period_start=fact.get("period_start"),
                period_end=fact["period_end"],
                period_label=_enum(PeriodLabel, fact.get("period_label")),
                derived=bool(fact.get("derived", False)),
            )
            for fact in data.get("facts") or ()
        ),
        incomplete_reason=data.get("incomplete_reason"),
    )


def _symbol(kind: type[E], symbol: object) -> E:
    """A symbol of an enum the schema gives no default: one this version does not know is a
    malformed record (an Avro reader fails on it too)."""
    if isinstance(symbol, str) and symbol in kind._value2member_map_:
        return kind(symbol)
    raise ValueError(f"{symbol!r} is not a {kind.__name__}")


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    # The protocol sends UTC; a zone-less value is read as UTC, as the gateway reads `from`.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _enum(kind: type[E], symbol: object) -> E:
    """The symbol, or the schema's default when it is absent or unknown to this version."""
    if isinstance(symbol, str) and symbol in kind._value2member_map_:
        return kind(symbol)
    return _DEFAULTS[kind]  # type: ignore[return-value]


# The `default` of each enum in schemas/io.secdigester.FilingAnalysis.avsc.
_DEFAULTS: dict[type[StrEnum], StrEnum] = {
    FilingSource: FilingSource.LIVE,
    DocumentStatus: DocumentStatus.ERROR,
    Priority: Priority.LOW,
    OwnershipTable: OwnershipTable.NON_DERIVATIVE,
    OwnershipRowKind: OwnershipRowKind.TRANSACTION,
    FiscalPeriod: FiscalPeriod.UNKNOWN,
    PeriodLabel: PeriodLabel.OTHER,
}
