"""The `Stake` record of FilingAnalysis, parsed on its own, to validate `Stake.to_avro()`."""

from __future__ import annotations

import functools
from typing import Any

from fastavro import parse_schema
from fastavro.validation import validate

from services.common.schemas import SchemaName, schema_dict


def _find(node: Any) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == "record" and str(node.get("name", "")).split(".")[-1] == "Stake":
            return node
        children: list[Any] = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child)
        if found is not None:
            return found
    return None


@functools.cache
def stake_schema() -> Any:
    found = _find(schema_dict(SchemaName.FILING_ANALYSIS))
    assert found is not None, "FilingAnalysis has no Stake record"
    return parse_schema(found)


def valid_stake(record: dict[str, Any]) -> bool:
    return bool(validate(record, stake_schema(), raise_errors=True))
