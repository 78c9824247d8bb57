"""The gateway's tools for agents, written once: what the MCP transport (transports/mcp.py)
serves at /mcp, and through it `sec-digester mcp` on stdio.

Each tool is a typed input model, a typed output model (pydantic: the JSON Schemas MCP lists)
and a coroutine over the filings store (services/store) or the freshness histogram:

    search_filings    the store's query: every filter of GET /api/filings (the stream's
                      filters, q, since, until, cik), a limit and the next token
    get_filing        one filing by accession number
    insider_activity  Form 3/4/5 transactions at one issuer (ticker) in the last N days, per
                      reporting owner(s), transaction code and table, with totals
    whats_new         what the store holds after a cursor of the stream, and the next cursor
    freshness         p50/p95 of the gateway's freshness histogram (freshness.py)

Arguments are checked by the models for their JSON types, then by the parsers REST uses
(services.store.query, services.common.filters), so a filter means the same and is refused with
the same words on every transport. A refusal is a GatewayError (bad_parameter, not_found,
unavailable) whose message starts with the argument's name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from services.common.errors import BadParameterError
from services.common.filters import (
    INSIDER_ROLES,
    PRIORITIES,
    STAKE_KINDS,
    TRANSACTION_CODES,
    filter_params,
    owner_roles,
)
from services.common.positions import parse_cursor
from services.common.transaction_codes import TRANSACTION_CODES as CODE_MEANINGS
from services.gateway.errors import ErrorCode, GatewayError, as_gateway_error
from services.gateway.freshness import freshness_series
from services.store.backend import FilingsStore, StoreError
from services.store.query import (
    ACCESSION_PATTERN,
    CIK_PATTERN,
    LIMIT_MAX,
    NEXT_PATTERN,
    Q_MAX_CHARS,
    AfterQuery,
    StoreQuery,
)

# Records are large (a Form 4 with its table is several kB): a page an agent reads whole.
TOOL_LIMIT_DEFAULT = 10
DAYS_MAX = 3650
INSIDER_FORMS = "3,4,5"  # and their amendments: a form's filter takes them
QUANTILES = (0.5, 0.95)
FRESHNESS_TOPICS = ("analyzed", "raw")
_ACCESSION = re.compile(ACCESSION_PATTERN)
_CURSOR_PATTERN = r"^\d+:\d+(,\d+:\d+)*$"
# A record as the gateway serves it: marked so, the transport lists the schema derived from the
# Avro schema there (transports/mcp.py; pydantic cannot refer to a schema it did not make).
RECORD_MARK = "x-sec-digester-record"
Record = Annotated[dict[str, Any], WithJsonSchema({"type": "object", RECORD_MARK: True})]


def _schema(**schema: Any) -> WithJsonSchema:
    """The JSON Schema an argument is listed with. What it says (patterns, enums, bounds) is
    checked by the parsers REST uses, not by pydantic: they refuse with the protocol's words."""
    return WithJsonSchema(schema)


_TICKER = _schema(type="string", pattern=r"^[A-Za-z0-9.\-]{1,12}$")
_FORM = _schema(type="string", pattern=r"^[A-Za-z0-9 ./\-]{1,20}$")
_ITEM = _schema(type="string", pattern=r"^\d{1,2}\.\d{2}$")


class _Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SearchFilingsInput(_Arguments):
    """The filters of GET /api/filings (all of them optional, all required to match)."""

    tickers: list[Annotated[str, _TICKER]] | None = Field(
        None, description="Filings listing any of these tickers (any case)."
    )
    forms: list[Annotated[str, _FORM]] | None = Field(
        None, description="Filings of any of these forms or their amendments: 8-K also 8-K/A."
    )
    cik: Annotated[str, _schema(type="string", pattern=CIK_PATTERN)] | None = Field(
        None, description="Filings with this CIK among their entities."
    )
    min_priority: Annotated[str, _schema(type="string", enum=list(PRIORITIES))] | None = Field(
        None, description="At least this priority."
    )
    items: list[Annotated[str, _ITEM]] | None = Field(
        None, description="8-K items, any of them (2.02, 5.02, ...)."
    )
    transaction_codes: (
        list[Annotated[str, _schema(type="string", enum=list(TRANSACTION_CODES))]] | None
    ) = Field(
        None,
        description="Form 3/4/5 transaction codes, any of them (P purchase, S sale, A award, ...).",
    )
    min_value_usd: Annotated[float, _schema(type="number", minimum=0)] | None = Field(
        None, description="A Form 3/4/5 transaction worth at least this many dollars."
    )
    insider_roles: list[Annotated[str, _schema(type="string", enum=list(INSIDER_ROLES))]] | None = (
        Field(None, description="Reporting owners in any of these roles.")
    )
    min_stake_pct: Annotated[float, _schema(type="number", minimum=0, maximum=100)] | None = Field(
        None, description="A Schedule 13D/13G stake of at least this percent of a class."
    )
    stake_kind: Annotated[str, _schema(type="string", enum=list(STAKE_KINDS))] | None = Field(
        None, description="active (13D) or passive (13G)."
    )
    q: Annotated[str, _schema(type="string", maxLength=Q_MAX_CHARS)] | None = Field(
        None, description="Full text over the summary and the names: every word must appear."
    )
    since: str | None = Field(
        None, description="Accepted at or after this ISO-8601 time (no zone: UTC)."
    )
    until: str | None = Field(None, description="Accepted before this ISO-8601 time.")
    limit: int = Field(TOOL_LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Filings per page.")
    next: Annotated[str, _schema(type="string", pattern=NEXT_PATTERN)] | None = Field(
        None,
        description="The `next` of the previous page: the page after it, as of the same as_of.",
    )


class FilingsPage(BaseModel):
    filings: list[Record] = Field(description="Newest first (accepted_at, then accession).")
    count: int
    next: str | None = Field(description="The next page's `next` argument; null on the last.")
    as_of: str = Field(
        description="The Kafka cursor the answer reflects: /stream?from=<as_of> (or whats_new "
        "with since=<as_of>) continues it with no gap and no duplicate."
    )


class GetFilingInput(_Arguments):
    accession: Annotated[str, _schema(type="string", pattern=ACCESSION_PATTERN)] = Field(
        description="The accession number, such as 0000950103-25-016011."
    )


class FilingAnswer(BaseModel):
    filing: Record
    as_of: str = Field(description="The Kafka cursor the store reflected when it answered.")


class InsiderActivityInput(_Arguments):
    ticker: Annotated[str, _TICKER] = Field(description="The issuer's ticker (any case).")
    days: int = Field(
        90, ge=1, le=DAYS_MAX, description="Filings accepted in the last this many days."
    )


class Owner(BaseModel):
    cik: str
    name: str
    roles: list[str] = Field(description="director, officer, ten_percent_owner, other.")
    officer_title: str | None


class Totals(BaseModel):
    transactions: int
    shares_acquired: float = Field(description="Of rows coded A (acquired).")
    shares_disposed: float = Field(description="Of rows coded D (disposed).")
    value_acquired_usd: float = Field(description="Shares times price, where both are stated.")
    value_disposed_usd: float
    unpriced: int = Field(description="Transactions that state no value (no price).")


class CodeTotals(Totals):
    code: str
    meaning: str = Field(description="What the insider did: 'sold', 'was awarded', ...")
    table: str = Field(
        description="non_derivative (the stock itself) or derivative (options, units, ...)."
    )


class InsiderActivity(BaseModel):
    owners: list[Owner] = Field(
        description="The reporting owners of the filings (usually one; joint filers together, "
        "since a joint filing reports its transactions once for all of them)."
    )
    filings: int
    by_code: list[CodeTotals]
    totals: Totals = Field(description="Of the non-derivative rows (the issuer's stock).")


class InsiderActivityOutput(BaseModel):
    ticker: str
    since: str = Field(description="The window's start (accepted_at), ISO-8601 UTC.")
    filings: int = Field(description="Form 3/4/5 filings (amendments included) in the window.")
    amendments: int = Field(description="Of them amendments (3/A, 4/A, 5/A), counted as filed.")
    insiders: list[InsiderActivity] = Field(description="Most value traded first.")
    by_code: list[CodeTotals] = Field(description="Every insider's together.")
    as_of: str


class WhatsNewInput(_Arguments):
    since: Annotated[str, _schema(type="string", pattern=_CURSOR_PATTERN)] | None = Field(
        None,
        description="A cursor P:O[,P:O...]: the `next` of the previous call, a stream frame's "
        "cursor or an as_of. Absent: the newest filings, and the cursor after them.",
    )
    limit: int = Field(TOOL_LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Filings at most.")


class WhatsNewOutput(BaseModel):
    filings: list[Record] = Field(
        description="With since: after it, in topic order within each partition. Without: the "
        "newest, newest first."
    )
    count: int
    next: str = Field(description="The cursor after these: the `since` of the next call.")
    more: bool = Field(description="Whether the store already holds more after `next`.")
    as_of: str = Field(description="The Kafka cursor the store reflects.")


class FreshnessInput(_Arguments):
    topic: Annotated[str, _schema(type="string", enum=list(FRESHNESS_TOPICS))] | None = Field(
        None, description="analyzed or raw; absent: both."
    )


class FreshnessQuantile(BaseModel):
    seconds: float | None = Field(description="Null when nothing was delivered yet.")
    beyond_largest_bucket: bool = Field(
        description="The value is past the largest bucket: it is at least `seconds`."
    )


class FreshnessSeriesOut(BaseModel):
    topic: str = Field(description="analyzed or raw.")
    kafka_topic: str
    since: str = Field(
        description="accepted: from EDGAR's acceptance; detected: from ingest's detection."
    )
    count: int = Field(description="Records delivered to live clients since the gateway started.")
    mean_s: float | None
    p50: FreshnessQuantile
    p95: FreshnessQuantile


class FreshnessOutput(BaseModel):
    series: list[FreshnessSeriesOut]
    method: str = Field(description="How the quantiles were computed.")


METHOD = (
    "gateway_freshness_seconds (every worker's merged), since the gateway started; each "
    "quantile interpolated linearly within the histogram bucket holding its rank, as "
    "Prometheus' histogram_quantile does"
)


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    input: type[_Arguments]
    output: type[BaseModel]
    run: Callable[[Any], Awaitable[BaseModel]]


@dataclass(slots=True)
class _Insider:
    owners: list[Owner]
    filings: int = 0
    codes: dict[tuple[str, str], CodeTotals] = field(default_factory=dict)


class GatewayTools:
    """The tools over one store and the registry /metrics exposes."""

    def __init__(
        self, store: FilingsStore, metrics: CollectorRegistry, topics: Mapping[str, str]
    ) -> None:
        """`topics`: the Kafka topic of each of FRESHNESS_TOPICS (the histogram's label)."""
        self._store = store
        self._metrics = metrics
        self._topics = {kafka: alias for alias, kafka in topics.items()}
        self.tools = {
            tool.name: tool
            for tool in (
                Tool(
                    "search_filings",
                    "Search every analyzed SEC filing the gateway holds: the filters of the "
                    "stream (tickers, forms, 8-K items, priority, insider transaction codes, "
                    "values and roles, 13D/G stakes), full text q, a time window and a CIK. "
                    "Newest first, a page at a time.",
                    SearchFilingsInput,
                    FilingsPage,
                    self.search_filings,
                ),
                Tool(
                    "get_filing",
                    "One analyzed filing by its accession number.",
                    GetFilingInput,
                    FilingAnswer,
                    self.get_filing,
                ),
                Tool(
                    "insider_activity",
                    "Insider transactions (Forms 3, 4, 5) at one issuer in the last N days: "
                    "per reporting owner, transaction code and table, with share and dollar "
                    "totals.",
                    InsiderActivityInput,
                    InsiderActivityOutput,
                    self.insider_activity,
                ),
                Tool(
                    "whats_new",
                    "The filings that arrived since a cursor (the `next` of the previous call), "
                    "and the cursor to ask from next time; without one, the newest filings.",
                    WhatsNewInput,
                    WhatsNewOutput,
                    self.whats_new,
                ),
                Tool(
                    "freshness",
                    "How fresh the stream is: p50 and p95 seconds from EDGAR's acceptance (and "
                    "from ingest's detection) of a filing to its delivery to live clients.",
                    FreshnessInput,
                    FreshnessOutput,
                    self.freshness,
                ),
            )
        }

    async def call(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The tool's structured result; GatewayError when it refuses."""
        tool = self.tools.get(name)
        if tool is None:
            raise GatewayError(
                ErrorCode.BAD_PARAMETER,
                f"name: {name[:60]!r} is not a tool; there are {', '.join(self.tools)}",
            )
        try:
            parsed = tool.input.model_validate(arguments)
        except ValidationError as exc:
            raise GatewayError(ErrorCode.BAD_PARAMETER, _described(exc)) from exc
        try:
            result = await tool.run(parsed)
        except BadParameterError as exc:
            raise as_gateway_error(exc) from exc
        except StoreError as exc:
            raise GatewayError(ErrorCode.UNAVAILABLE, f"the filings store: {exc}") from exc
        return result.model_dump(mode="json")

    async def search_filings(self, arguments: SearchFilingsInput) -> FilingsPage:
        chosen = arguments.model_dump(
            exclude_none=True, exclude={"q", "since", "until", "cik", "limit", "next"}
        )
        params = filter_params(chosen)
        for name in ("q", "since", "until", "cik"):
            if (value := getattr(arguments, name)) is not None:
                params[name] = value
        params["limit"] = str(arguments.limit)
        if arguments.next is not None:
            params["before"] = arguments.next
        try:
            query = StoreQuery.from_params(params)
        except BadParameterError as exc:
            if exc.parameter == "before":  # REST's name of the token: ours is `next`
                raise BadParameterError("next", str(exc).removeprefix("before: ")) from exc
            raise
        page = await self._store.query(query)
        filings = [orjson.loads(body) for body in page.filings]
        return FilingsPage(filings=filings, count=len(filings), next=page.next, as_of=page.as_of)

    async def get_filing(self, arguments: GetFilingInput) -> FilingAnswer:
        accession = arguments.accession
        if not _ACCESSION.fullmatch(accession):
            raise BadParameterError(
                "accession",
                f"{accession[:60]!r} is not an accession number such as 0000950103-25-016011",
            )
        body, as_of = await self._store.get(accession)
        if body is None:
            raise GatewayError(
                ErrorCode.NOT_FOUND,
                f"accession: {accession} is not in the filings store, which reflects the "
                f"analyzed topic up to {as_of or 'nothing yet'}",
            )
        return FilingAnswer(filing=orjson.loads(body), as_of=as_of)

    async def insider_activity(self, arguments: InsiderActivityInput) -> InsiderActivityOutput:
        if "," in arguments.ticker:
            raise BadParameterError("ticker", "one ticker")
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=arguments.days)
        params = {"forms": INSIDER_FORMS, "since": since.isoformat(), "limit": str(LIMIT_MAX)}
        try:
            query = StoreQuery.from_params(params | {"tickers": arguments.ticker})
        except BadParameterError as exc:
            raise BadParameterError("ticker", str(exc).removeprefix("tickers: ")) from exc
        insiders: dict[tuple[str, ...], _Insider] = {}
        filings = amendments = 0
        page = await self._store.query(query)
        as_of = page.as_of
        while True:
            for body in page.filings:
                record = orjson.loads(body)
                filings += 1
                amendments += record["filing"]["form_type"].endswith("/A")
                _count_ownership(record.get("ownership"), insiders)
            if page.next is None:
                break
            page = await self._store.query(
                StoreQuery.from_params(params | {"tickers": arguments.ticker, "before": page.next})
            )
        activity = [
            InsiderActivity(
                owners=insider.owners,
                filings=insider.filings,
                by_code=_ordered(insider.codes),
                totals=_totals(c for c in insider.codes.values() if c.table == "non_derivative"),
            )
            for insider in insiders.values()
        ]
        activity.sort(
            key=lambda a: (
                -(a.totals.value_acquired_usd + a.totals.value_disposed_usd),
                a.owners[0].name,
            )
        )
        overall: dict[tuple[str, str], CodeTotals] = {}
        for insider in insiders.values():
            for key, totals in insider.codes.items():
                _add(overall, key, totals)
        return InsiderActivityOutput(
            ticker=arguments.ticker.upper(),
            since=since.isoformat().replace("+00:00", "Z"),
            filings=filings,
            amendments=amendments,
            insiders=activity,
            by_code=_ordered(overall),
            as_of=as_of,
        )

    async def whats_new(self, arguments: WhatsNewInput) -> WhatsNewOutput:
        if arguments.since is None:
            page = await self._store.query(StoreQuery(limit=arguments.limit))
            filings = [orjson.loads(body) for body in page.filings]
            # Everything the snapshot holds is at or before as_of: the next call goes on there.
            return WhatsNewOutput(
                filings=filings, count=len(filings), next=page.as_of, more=False, as_of=page.as_of
            )
        after = await self._store.after(
            AfterQuery(parse_cursor(arguments.since, "since"), limit=arguments.limit)
        )
        filings = [orjson.loads(body) for body in after.filings]
        return WhatsNewOutput(
            filings=filings, count=len(filings), next=after.next, more=after.more, as_of=after.as_of
        )

    async def freshness(self, arguments: FreshnessInput) -> FreshnessOutput:
        if arguments.topic is not None and arguments.topic not in FRESHNESS_TOPICS:
            raise BadParameterError(
                "topic", f"{arguments.topic[:60]!r} is not one of analyzed, raw"
            )
        series = []
        for found in freshness_series(self._metrics):
            alias = self._topics.get(found.topic)
            if alias is None or arguments.topic not in (None, alias):
                continue
            p50, p95 = (found.quantile(q) for q in QUANTILES)
            series.append(
                FreshnessSeriesOut(
                    topic=alias,
                    kafka_topic=found.topic,
                    since=found.since,
                    count=found.count,
                    mean_s=found.sum_s / found.count if found.count else None,
                    p50=FreshnessQuantile(
                        seconds=p50.seconds, beyond_largest_bucket=p50.beyond_largest_bucket
                    ),
                    p95=FreshnessQuantile(
                        seconds=p95.seconds, beyond_largest_bucket=p95.beyond_largest_bucket
                    ),
                )
            )
        return FreshnessOutput(series=series, method=METHOD)


def _described(exc: ValidationError) -> str:
    """Pydantic's errors as the protocol's messages: each starting with the argument's name."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def _count_ownership(
    ownership: Mapping[str, Any] | None, insiders: dict[tuple[str, ...], _Insider]
) -> None:
    """Add one filing's transactions to its reporting owners' totals."""
    if not ownership:
        return
    owners = [
        Owner(
            cik=owner["cik"],
            name=owner["name"],
            roles=list(owner_roles(owner)),
            officer_title=owner.get("officer_title"),
        )
        for owner in ownership.get("owners") or ()
    ]
    key = tuple(sorted(owner.cik for owner in owners))
    insider = insiders.setdefault(key, _Insider(owners))
    insider.filings += 1
    for row in ownership.get("transactions") or ():
        if row.get("kind") != "transaction" or not row.get("code"):
            continue  # a holding reported without a transaction
        code = row["code"].upper()
        shares = row.get("shares") or 0.0
        value = row.get("value_usd")
        acquired = row.get("acquired_disposed") == "A"
        disposed = row.get("acquired_disposed") == "D"
        one = CodeTotals(
            code=code,
            meaning=CODE_MEANINGS[code].verb if code in CODE_MEANINGS else "unknown code",
            table=row.get("table") or "non_derivative",
            transactions=1,
            shares_acquired=shares if acquired else 0.0,
            shares_disposed=shares if disposed else 0.0,
            value_acquired_usd=value if acquired and value is not None else 0.0,
            value_disposed_usd=value if disposed and value is not None else 0.0,
            unpriced=int(value is None),
        )
        _add(insider.codes, (one.table, code), one)


_SUMMED = (
    "transactions",
    "shares_acquired",
    "shares_disposed",
    "value_acquired_usd",
    "value_disposed_usd",
    "unpriced",
)


def _add(into: dict[tuple[str, str], CodeTotals], key: tuple[str, str], more: CodeTotals) -> None:
    held = into.get(key)
    if held is None:
        into[key] = more.model_copy()
        return
    into[key] = held.model_copy(
        update={name: getattr(held, name) + getattr(more, name) for name in _SUMMED}
    )


def _ordered(codes: Mapping[tuple[str, str], CodeTotals]) -> list[CodeTotals]:
    return [codes[key] for key in sorted(codes)]


def _totals(codes: Any) -> Totals:
    rows = list(codes)
    return Totals(**{name: sum(getattr(row, name) for row in rows) for name in _SUMMED})
