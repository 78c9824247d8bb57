"""Per-client filters: tickers, forms, minimum priority, 8-K items, the ownership facts of
a Form 3/4/5 (transaction codes, transaction value, the reporting owners' roles), and the stake
of a Schedule 13D or 13G (its percent of the class, active or passive).

Forms are compared in one spelling (services.common.forms): a filter naming "SC 13D" or
"SCHEDULE 13D" gets both, and their amendments.

They come from the stream's query parameters (`parse_filter`) or from a WebSocket client's
`subscribe` frame (`parse_filter_fields`: the same names, lists as JSON arrays), which is turned
into the query parameters' text and parsed by `parse_filter`, so the two cannot diverge.

The attributes a filter looks at are extracted once per record (`RecordFacts`), when the shared
tail decodes it; each client's filter is then a few set lookups and one comparison, the same on
replay and live.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.common import transaction_codes
from services.common.errors import BadParameterError
from services.common.forms import AMENDMENT, form_spelling

PRIORITIES = ("low", "medium", "high", "critical")
_ITEM = re.compile(r"\d{1,2}\.\d{2}", re.ASCII)
_TICKER = re.compile(r"[A-Za-z0-9.\-]{1,12}")
_FORM = re.compile(r"[A-Za-z0-9 ./\-]{1,20}")
# Every transaction code of the Form 4 instructions. A closed list: a mistyped code would
# otherwise be accepted and silently match nothing.
TRANSACTION_CODES = tuple(transaction_codes.TRANSACTION_CODES)
# The reporting owner's relationships to the issuer, as ReportingOwner's flags name them.
INSIDER_ROLES = ("director", "officer", "ten_percent_owner", "other")
_OWNER_FLAGS = (
    ("is_director", "director"),
    ("is_officer", "officer"),
    ("is_ten_percent_owner", "ten_percent_owner"),
    ("is_other", "other"),
)
# Plain decimal or exponent notation; no sign (negative is meaningless), no nan or inf.
_AMOUNT = re.compile(r"[0-9]{1,20}(\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?", re.ASCII)
# The filters by how a subscribe frame gives them: a JSON array of strings, or one value.
LIST_FILTERS = ("tickers", "forms", "items", "transaction_codes", "insider_roles")
VALUE_FILTERS = ("min_priority", "min_value_usd", "min_stake_pct", "stake_kind")
NUMBER_FILTERS = ("min_value_usd", "min_stake_pct")
STAKE_KINDS = ("active", "passive")


@dataclass(frozen=True, slots=True)
class RecordFacts:
    tickers: frozenset[str]
    form_type: str  # in one spelling (services.common.forms)
    priority: int  # index in PRIORITIES; -1 for raw filings (no analysis)
    items: frozenset[str]
    # Of the ownership document (schema v2), empty for any other filing.
    transaction_codes: frozenset[str] = frozenset()
    # The largest value_usd of its transactions: "any transaction worth at least N" is one
    # comparison with it. None when no transaction states a value.
    max_value_usd: float | None = None
    insider_roles: frozenset[str] = frozenset()
    # Of a Schedule 13D or 13G (schema v3): the largest percent of the class its reporting
    # persons state, and active (13D) or passive (13G); None for any other filing.
    stake_percent: float | None = None
    stake_kind: str | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> RecordFacts:
        """Facts of a FilingAnalysis (has `filing`) or of a raw Filing record."""
        filing = data.get("filing", data)
        analysis = data.get("analysis")
        items = set(filing.get("items") or ()) | set(data.get("items") or ())
        ownership = data.get("ownership") or {}
        rows = ownership.get("transactions") or ()
        values = [row["value_usd"] for row in rows if row.get("value_usd") is not None]
        stake = data.get("stake") or {}
        return cls(
            tickers=frozenset(t.upper() for t in filing.get("tickers") or ()),
            form_type=form_spelling(str(filing.get("form_type", ""))),
            priority=PRIORITIES.index(analysis["priority"]) if analysis else -1,
            items=frozenset(items),
            transaction_codes=frozenset(row["code"].upper() for row in rows if row.get("code")),
            max_value_usd=max(values, default=None),
            insider_roles=frozenset(_roles(ownership.get("owners") or ())),
            stake_percent=stake.get("percent_of_class"),
            stake_kind=stake.get("kind"),
        )


def _roles(owners: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for owner in owners:
        yield from owner_roles(owner)


def owner_roles(owner: Mapping[str, Any]) -> Iterator[str]:
    """A reporting owner's roles (INSIDER_ROLES) as its flags state them."""
    return (role for flag, role in _OWNER_FLAGS if owner.get(flag))


@dataclass(frozen=True, slots=True)
class Filter:
    tickers: frozenset[str] = frozenset()
    forms: frozenset[str] = frozenset()
    min_priority: int | None = None
    items: frozenset[str] = frozenset()
    transaction_codes: frozenset[str] = frozenset()
    min_value_usd: float | None = None
    insider_roles: frozenset[str] = frozenset()
    min_stake_pct: float | None = None
    stake_kind: str | None = None

    def matches(self, facts: RecordFacts) -> bool:
        if self.tickers and not self.tickers & facts.tickers:
            return False
        if (
            self.forms
            and facts.form_type not in self.forms
            and facts.form_type.removesuffix(AMENDMENT) not in self.forms
        ):
            return False
        if self.min_priority is not None and facts.priority < self.min_priority:
            return False
        if self.items and not self.items & facts.items:
            return False
        if self.transaction_codes and not self.transaction_codes & facts.transaction_codes:
            return False
        if self.min_value_usd is not None and (
            facts.max_value_usd is None or facts.max_value_usd < self.min_value_usd
        ):
            return False
        if self.insider_roles and not self.insider_roles & facts.insider_roles:
            return False
        if self.min_stake_pct is not None and (
            facts.stake_percent is None or facts.stake_percent < self.min_stake_pct
        ):
            return False
        return self.stake_kind is None or self.stake_kind == facts.stake_kind

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {}
        if self.tickers:
            described["tickers"] = sorted(self.tickers)
        if self.forms:
            described["forms"] = sorted(self.forms)
        if self.min_priority is not None:
            described["min_priority"] = PRIORITIES[self.min_priority]
        if self.items:
            described["items"] = sorted(self.items)
        if self.transaction_codes:
            described["transaction_codes"] = sorted(self.transaction_codes)
        if self.min_value_usd is not None:
            described["min_value_usd"] = self.min_value_usd
        if self.insider_roles:
            described["insider_roles"] = sorted(self.insider_roles)
        if self.min_stake_pct is not None:
            described["min_stake_pct"] = self.min_stake_pct
        if self.stake_kind is not None:
            described["stake_kind"] = self.stake_kind
        return described


def _listed(params: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> frozenset[str]:
    raw = params.get(name, "")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    for value in values:
        if not pattern.fullmatch(value):
            raise BadParameterError(name, f"{value[:60]!r} is not a valid value")
    return frozenset(v.upper() for v in values)


def _chosen_from(
    params: Mapping[str, str], name: str, allowed: Collection[str], normal: Callable[[str], str]
) -> frozenset[str]:
    """A comma-separated subset of `allowed`, compared after `normal` (upper or lower case)."""
    chosen = set()
    for value in (v.strip() for v in params.get(name, "").split(",")):
        if not value:
            continue
        if normal(value) not in allowed:
            raise BadParameterError(name, f"{value[:60]!r} is not one of {', '.join(allowed)}")
        chosen.add(normal(value))
    return frozenset(chosen)


def _amount(params: Mapping[str, str], name: str, what: str = "dollars") -> float | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    value = float(raw) if _AMOUNT.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise BadParameterError(name, f"{raw[:60]!r} is not a non-negative number of {what}")
    return value


def _stake_percent(params: Mapping[str, str]) -> float | None:
    value = _amount(params, "min_stake_pct", "percent")
    if value is not None and value > 100:
        raise BadParameterError("min_stake_pct", f"{value:g} is over 100 percent of a class")
    return value


def _stake_kind(params: Mapping[str, str]) -> str | None:
    wanted = params.get("stake_kind", "").strip().lower()
    if not wanted:
        return None
    if wanted not in STAKE_KINDS:
        raise BadParameterError("stake_kind", f"{wanted[:60]!r} is not one of active, passive")
    return wanted


def _facts_only_on_analyzed(chosen: Filter) -> None:
    """The ownership and stake facts are analyze's: a raw Filing has none, so the filter would
    match nothing; refused like min_priority rather than silently empty."""
    for name, wanted in (
        ("transaction_codes", chosen.transaction_codes),
        ("min_value_usd", chosen.min_value_usd is not None),
        ("insider_roles", chosen.insider_roles),
        ("min_stake_pct", chosen.min_stake_pct is not None),
        ("stake_kind", chosen.stake_kind is not None),
    ):
        if wanted:
            raise BadParameterError(name, "raw filings have no ownership facts (topic=raw)")


def parse_filter(params: Mapping[str, str], *, analyzed: bool) -> Filter:
    min_priority = None
    if wanted := params.get("min_priority"):
        if wanted not in PRIORITIES:
            raise BadParameterError(
                "min_priority", f"{wanted[:60]!r} is not one of {', '.join(PRIORITIES)}"
            )
        if not analyzed:
            raise BadParameterError("min_priority", "raw filings have no priority (topic=raw)")
        min_priority = PRIORITIES.index(wanted)
    chosen = Filter(
        tickers=_listed(params, "tickers", _TICKER),
        forms=frozenset(form_spelling(form) for form in _listed(params, "forms", _FORM)),
        min_priority=min_priority,
        items=_listed(params, "items", _ITEM),
        transaction_codes=_chosen_from(params, "transaction_codes", TRANSACTION_CODES, str.upper),
        min_value_usd=_amount(params, "min_value_usd"),
        insider_roles=_chosen_from(params, "insider_roles", INSIDER_ROLES, str.lower),
        min_stake_pct=_stake_percent(params),
        stake_kind=_stake_kind(params),
    )
    if not analyzed:
        _facts_only_on_analyzed(chosen)
    return chosen


def parse_filter_fields(fields: Mapping[str, object], *, analyzed: bool) -> Filter:
    """The filter of a `subscribe` frame's fields: each list a JSON array of strings,
    `min_priority` a string, `min_value_usd` a number (or its text); null or an empty list is
    no restriction, as an absent field is. Refused, naming the field: any other field, a value
    of the wrong JSON type, and whatever `parse_filter` refuses."""
    return parse_filter(filter_params(fields), analyzed=analyzed)


def filter_params(fields: Mapping[str, object]) -> dict[str, str]:
    """JSON fields of filters (as `parse_filter_fields` takes them) as the query parameters'
    text, for whatever parses parameters (`parse_filter`, the store's query): the MCP tools'
    arguments come as JSON too."""
    params = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in LIST_FILTERS:
            params[name] = _joined(name, value)
        elif name in VALUE_FILTERS:
            params[name] = _single(name, value)
        else:
            known = ", ".join(LIST_FILTERS + VALUE_FILTERS)
            raise BadParameterError(name[:40], f"not a filter; a subscribe frame takes {known}")
    return params


def _joined(name: str, value: object) -> str:
    """A JSON array of strings as the comma-separated text of the query parameter."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadParameterError(name, "must be a JSON array of strings")
    for element in value:
        # A comma would split one element into several values that were never asked for.
        if "," in element:
            raise BadParameterError(name, f"{element[:60]!r}: one value per array element")
    return ",".join(value)


def _single(name: str, value: object) -> str:
    # bool is an int to Python; `true` is no number.
    if name in NUMBER_FILTERS and isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    if not isinstance(value, str):
        expected = "a number" if name in NUMBER_FILTERS else "a string"
        raise BadParameterError(name, f"must be {expected}")
    return value
