"""A question to the store: the stream's filters (services.common.filters, the same names and
the same meaning as /stream's), plus full text (`q`), a time window (`since` inclusive, `until`
exclusive, on accepted_at), the CIK of any entity (`cik`), and a page (`limit`, and `before`,
the `next` token of the previous page). Newest first, by (accepted_at, accession).

Parsing raises BadParameterError naming the parameter; `sql` is the parameterized statement
(no value of the user's is ever part of the SQL text), in the SQL of either backend (`SQLITE`,
`POSTGRES`: a Dialect says where they differ; the logic is written once).

Full text: `q` is read as words (letters and digits; everything else separates them), each
searched for as a quoted FTS5 term (PostgreSQL: the words given to plainto_tsquery) and all of
them required, so FTS syntax in the input (quotes, NEAR, *, column filters, parentheses, & | !)
is only ever text. At most 500 characters (a
400 beyond); a `q` with no word in it matches nothing.

`AfterQuery` is the other question: what the store holds after a cursor (`P:O,...`, the
stream's: the position just after a record), in topic order within each partition, a page at
a time, with the cursor that continues it. "What arrived since I last asked" is a question of
positions, not of accepted_at: a filing accepted long ago and analyzed again arrives again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.common.errors import BadParameterError
from services.common.filters import Filter, parse_filter
from services.store.layout import CIK, CODE, ITEM, ROLE, TICKER
from services.store.rows import stored_time

LIMIT_DEFAULT = 50
LIMIT_MAX = 1000
Q_MAX_CHARS = 500
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d{1,7}", re.ASCII)
CIK_PATTERN = r"^[0-9]{1,10}$"
ACCESSION_PATTERN = r"^\d{10}-\d{2}-\d{6}$"
_CIK = re.compile(CIK_PATTERN)
# The `next` token, readable (nothing secret in it): the last filing's accepted_at and
# accession, and the as_of of the walk's first page, which every later page keeps to.
NEXT_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)"
    r"_([0-9]{10}-[0-9]{2}-[0-9]{6})_([0-9]{1,9}:[0-9]{1,19}(?:,[0-9]{1,9}:[0-9]{1,19}){0,999})$"
)
_NEXT = re.compile(NEXT_PATTERN)
# How many filings a `q` matches, for the plan (StoreQuery.sql).
WordMatches = Literal["few", "some", "many"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """Where the backends' SQL differs: the parameter mark, false, and the full-text match."""

    mark: str  # a parameter's placeholder
    false: str
    # The filings matching the words (one argument), among few (looked up and sorted), some
    # (each row of the time index tested against the set of the matches, made once) or many
    # (each row of the time index tested by a search of its own).
    words_among_few: str
    words_among_some: str
    words_among_many: str
    postgres: bool  # the words' argument: plainto_tsquery's text, not FTS5's quoted terms
    # filing_tags holds each filing's sort key too (filing_accepted_at, filing_accession),
    # indexed after (kind, value): a one-valued tag filter is read newest first from there.
    tags_sorted: bool = False

    def marks(self, count: int) -> str:
        return ",".join([self.mark] * count)

    def words_argument(self, words: tuple[str, ...]) -> str:
        if self.postgres:
            return " ".join(words)  # only letters, digits, _: nothing plainto_tsquery parses
        return " ".join(f'"{word}"' for word in words)


SQLITE = Dialect(
    mark="?",
    false="0",
    words_among_few="id IN (SELECT rowid FROM filings_text WHERE filings_text MATCH ?)",
    # `+id`: not a lookup by rowid, so the time index is walked (covering: no row is read).
    words_among_some="+id IN (SELECT rowid FROM filings_text WHERE filings_text MATCH ?)",
    words_among_many="EXISTS (SELECT 1 FROM filings_text WHERE filings_text MATCH ?"
    " AND filings_text.rowid = filings.id)",
    postgres=False,
)
# services/store/postgres.py: filings_text's GIN index is on (described || document).
_PG_MATCH = "(described || document) @@ plainto_tsquery('simple', %s)"
POSTGRES = Dialect(
    mark="%s",
    false="FALSE",
    words_among_few=f"id IN (SELECT filing_id FROM filings_text WHERE {_PG_MATCH})",  # noqa: S608
    words_among_some=f"id IN (SELECT filing_id FROM filings_text WHERE {_PG_MATCH})",  # noqa: S608
    words_among_many=f"EXISTS (SELECT 1 FROM filings_text WHERE {_PG_MATCH}"  # noqa: S608
    " AND filings_text.filing_id = filings.id)",
    postgres=True,
    tags_sorted=True,
)


@dataclass(frozen=True, slots=True)
class StoreQuery:
    filter: Filter = field(default_factory=Filter)
    words: tuple[str, ...] | None = None  # of `q`; None without one
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    cik: str | None = None  # ten digits
    limit: int = LIMIT_DEFAULT
    # The next token: accepted_at and accession of the last one seen, and the walk's as_of.
    before: tuple[str, str, dict[int, int]] | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> StoreQuery:
        """From query parameters; empty ones count as absent. `ticker` and `form` (the REST
        API's first names) are `tickers` and `forms`."""
        given = {name: value for name, value in params.items() if value != ""}
        for single, listed in (("ticker", "tickers"), ("form", "forms")):
            if single in given:
                given[listed] = ",".join(v for v in (given.get(listed), given.pop(single)) if v)
        return cls(
            filter=parse_filter(given, analyzed=True),
            words=_words(given["q"]) if "q" in given else None,
            since=_time(given, "since"),
            until=_time(given, "until"),
            cik=_cik(given["cik"]) if "cik" in given else None,
            limit=_limit(given["limit"]) if "limit" in given else LIMIT_DEFAULT,
            before=_token(given["before"]) if "before" in given else None,
        )

    def tags(self) -> list[tuple[str, frozenset[str]]]:
        """The multi-valued filters asked for: (tag kind, any of these values)."""
        chosen = self.filter
        wanted = [
            (TICKER, chosen.tickers),
            (CIK, frozenset({self.cik}) if self.cik is not None else frozenset()),
            (ITEM, chosen.items),
            (CODE, chosen.transaction_codes),
            (ROLE, chosen.insider_roles),
        ]
        return [(kind, values) for kind, values in wanted if values]

    def sql(
        self,
        *,
        word_matches: WordMatches = "few",
        common_tags: frozenset[str] = frozenset(),
        dialect: Dialect = SQLITE,
    ) -> tuple[str, list[object]]:
        """SELECT accepted_at, accession, body, newest first, one more than `limit` (to know
        whether there is a next page).

        `word_matches`, `common_tags` (kinds): how many filings `q`, or a tag filter, matches
        (the store counts before it asks). Many: the newest are found by walking the time index
        and testing each row (a seek by its id; the walk stops after a page); few: the matches
        are looked up and sorted; some (words only): the time index is walked, each row tested
        against the set of the matches (made once: cheaper than a search per row, dearer than
        a sort of a few). Either way the sort and the page carry ids only; the
        bodies are read for the page's rows.

        With `dialect.tags_sorted`, the first tag filter of one value is read from its rows
        of filing_tags newest first (their copy of the sort key) and each filing tested: the
        walk stops after a page however many filings have the tag, where sorting them all
        reads every one (the planner still chooses; it may start elsewhere)."""
        where: list[str] = []
        args: list[object] = []
        chosen = self.filter
        mark = dialect.mark
        tags = self.tags()
        driving = (
            next((kind for kind, values in tags if len(values) == 1), None)
            if dialect.tags_sorted
            else None
        )
        for kind, values in tags:
            if kind == driving:
                continue
            matches, tag_args = tag_matches(kind, values, dialect)
            where.append(
                f"EXISTS ({matches} AND filing_id = filings.id)"
                if kind in common_tags
                else f"id IN ({matches})"
            )
            args.extend(tag_args)
        if chosen.forms:
            marks = dialect.marks(len(chosen.forms))
            # A form's amendments go with it, as on the stream.
            where.append(f"(form IN ({marks}) OR base_form IN ({marks}))")
            args.extend(sorted(chosen.forms) * 2)
        for column, bound in (
            ("priority", chosen.min_priority),
            ("max_value_usd", chosen.min_value_usd),
            ("stake_percent", chosen.min_stake_pct),
        ):
            if bound is not None:
                where.append(f"{column} >= {mark}")
                args.append(bound)
        if chosen.stake_kind is not None:
            where.append(f"stake_kind = {mark}")
            args.append(chosen.stake_kind)
        self._time_conditions("accepted_at", "accession", mark, where, args)
        if self.words == ():
            where.append(dialect.false)  # a q with no word in it matches nothing
        elif self.words:
            among = {
                "few": dialect.words_among_few,
                "some": dialect.words_among_some,
                "many": dialect.words_among_many,
            }
            where.append(among[word_matches])
            args.append(dialect.words_argument(self.words))
        if self.before is not None:
            as_of = self.before[2]
            # Only what the first page's snapshot held: a filing stored since (even one older
            # by accepted_at) is after as_of, so the stream from as_of gives it, not this walk.
            where.append(
                "("
                + " OR ".join(f'(partition = {mark} AND "offset" < {mark})' for _ in as_of)
                + ")"
                if as_of
                else dialect.false
            )
            for partition, offset in sorted(as_of.items()):
                args.extend([partition, offset])
        order = "ORDER BY accepted_at DESC, accession DESC"
        if driving is None:
            condition = f"WHERE {' AND '.join(where)} " if where else ""
            ids = f"SELECT id FROM filings {condition}{order}"  # noqa: S608
        else:
            # The window and the page on the tag's copy of the sort key too: the index's range.
            (value,) = dict(tags)[driving]
            on_tag = ["filing_tags.kind = " + mark, "filing_tags.value = " + mark]
            on_tag_args: list[object] = [driving, value]
            self._time_conditions(
                "filing_accepted_at", "filing_accession", mark, on_tag, on_tag_args
            )
            ids = (
                "SELECT filings.id FROM filing_tags JOIN filings"  # noqa: S608
                f" ON filings.id = filing_tags.filing_id WHERE {' AND '.join(on_tag + where)}"
                " ORDER BY filing_accepted_at DESC, filing_accession DESC"
            )
            args = [*on_tag_args, *args]
        # The SQL text is fixed fragments and marks; every value of the user's is an argument.
        statement = (
            "SELECT accepted_at, accession, body FROM filings WHERE id IN"  # noqa: S608
            f" ({ids} LIMIT {mark}) {order}"
        )
        return statement, [*args, self.limit + 1]

    def _time_conditions(
        self, accepted_at: str, accession: str, mark: str, where: list[str], args: list[object]
    ) -> None:
        """The window (`since`, `until`) and the page (after `before`'s filing), on these
        columns: the filing's sort key, or filing_tags' copy of it."""
        if self.since is not None:
            where.append(f"{accepted_at} >= {mark}")
            args.append(stored_time(self.since))
        if self.until is not None:
            where.append(f"{accepted_at} < {mark}")
            args.append(stored_time(self.until))
        if self.before is not None:
            at, last, _ = self.before
            where.append(
                f"({accepted_at} < {mark} OR ({accepted_at} = {mark} AND {accession} < {mark}))"
            )
            args.extend([at, at, last])

    @property
    def match_expression(self) -> str:
        """The FTS5 query of `q`: every word, each a quoted term."""
        return SQLITE.words_argument(self.words or ())


@dataclass(frozen=True, slots=True)
class AfterQuery:
    """What the store holds after `after` (partition -> next offset; a partition it leaves out
    from its beginning, as a cursor of the stream means), at most `limit` filings."""

    after: dict[int, int]
    limit: int = LIMIT_DEFAULT

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= LIMIT_MAX:
            raise BadParameterError(
                "limit", f"{self.limit} is not an integer from 1 to {LIMIT_MAX}"
            )

    def offsets_sql(self, partition: int, dialect: Dialect = SQLITE) -> tuple[str, list[object]]:
        """The first offsets of `partition` from its position on, one more than `limit` (to
        know whether the partition has more), by the (partition, offset) index."""
        mark = dialect.mark
        return (
            f'SELECT "offset" FROM filings WHERE partition = {mark} AND "offset" >= {mark}'  # noqa: S608
            f' ORDER BY "offset" LIMIT {mark}',
            [partition, self.after.get(partition, 0), self.limit + 1],
        )

    def page(self, offsets: Mapping[int, list[int]]) -> tuple[list[tuple[int, int]], bool]:
        """The page from each partition's next offsets (`offsets_sql`): partitions interleaved
        by rank (each one's first, then each one's second, ...), so that a page moves every
        partition on and never takes a later record of a partition before an earlier one (the
        cursor after the page then skips nothing). Also whether any partition has more."""
        ranked = sorted(
            (rank, partition, offset)
            for partition, found in offsets.items()
            for rank, offset in enumerate(found)
        )
        chosen = [(partition, offset) for _, partition, offset in ranked[: self.limit]]
        return chosen, len(ranked) > self.limit

    def next_positions(
        self, chosen: list[tuple[int, int]], more: bool, as_of: Mapping[int, int]
    ) -> dict[int, int]:
        """The cursor that continues after the page: past its last record in each partition
        while there is more; once there is none, the store's as_of (past transaction markers
        too). Never behind `after`: a cursor ahead of the store stays where it is."""
        partitions = set(as_of) | set(self.after)
        if not more:
            return {p: max(self.after.get(p, 0), as_of.get(p, 0)) for p in partitions}
        moved = {p: self.after.get(p, 0) for p in partitions}
        for partition, offset in chosen:
            moved[partition] = max(moved[partition], offset + 1)
        return moved


def tag_matches(
    kind: str, values: frozenset[str], dialect: Dialect = SQLITE
) -> tuple[str, list[object]]:
    """The SELECT of the filing ids with any of these tag values, and its arguments."""
    marks = dialect.marks(len(values))
    select = (
        f"SELECT filing_id FROM filing_tags WHERE kind = {dialect.mark}"  # noqa: S608
        f" AND value IN ({marks})"
    )
    return select, [kind, *sorted(values)]


_PARTITION_MAX = 2**31 - 1
_OFFSET_MAX = 2**63 - 1


def next_token(accepted_at: str, accession: str, as_of: str) -> str:
    return f"{accepted_at}_{accession}_{as_of}"


def _token(value: str) -> tuple[str, str, dict[int, int]]:
    match = _NEXT.match(value)
    if match is None:
        raise BadParameterError("before", "not a `next` token of this API's answers")
    as_of = {}
    for pair in match.group(3).split(","):
        partition, offset = (int(number) for number in pair.split(":"))
        # Kafka's partitions are int32 and offsets int64: larger numbers were never in a token
        # (and do not fit the databases' integers).
        if partition > _PARTITION_MAX or offset > _OFFSET_MAX:
            raise BadParameterError("before", "not a `next` token of this API's answers")
        as_of[partition] = offset
    return match.group(1), match.group(2), as_of


def _words(value: str) -> tuple[str, ...]:
    if len(value) > Q_MAX_CHARS:
        raise BadParameterError("q", f"longer than {Q_MAX_CHARS} characters")
    return tuple(_WORD.findall(value))


def _time(params: Mapping[str, str], name: str) -> dt.datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        hint = " (a '+' in a URL means a space: write it %2B)" if " " in value else ""
        raise BadParameterError(
            name, f"{value[:60]!r} is not an ISO-8601 time such as 2025-12-12T18:00:00Z{hint}"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)  # naive = UTC
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar: its end
        return (dt.datetime.min if moment.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)


def _cik(value: str) -> str:
    if not _CIK.match(value):
        raise BadParameterError("cik", f"{value[:60]!r} is not a CIK (1 to 10 digits)")
    return value.zfill(10)


def _limit(value: str) -> int:
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= LIMIT_MAX:
        raise BadParameterError("limit", f"{value[:60]!r} is not an integer from 1 to {LIMIT_MAX}")
    return int(value)
