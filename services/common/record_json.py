"""A decoded record as the JSON its readers get: a stream client's `data`, an export's line.

orjson, with datetimes in UTC as `...Z`: the JSON mirrors the Avro record field for field
(DESIGN.md), whoever serves it.
"""

from __future__ import annotations

from typing import Any

import orjson


def record_json(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_UTC_Z)
