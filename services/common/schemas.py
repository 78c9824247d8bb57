"""The record schemas of schemas/ (shipped in the package as `services.schemas`).

Each file is named after the full name of its record (`io.secdigester.Filing.avsc`), which lets
fastavro inline the named types a schema references (FilingAnalysis embeds Filing). What the
registry stores is that self-contained form, so any client decodes a record with no references.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastavro.schema import SchemaParseException, UnknownType, load_schema

from services.common.errors import ConfigurationError


class SchemaName(StrEnum):
    """Full names of the record schemas in schemas/ (file `<name>.avsc`)."""

    FILING = "io.secdigester.Filing"
    FILING_ANALYSIS = "io.secdigester.FilingAnalysis"
    DEAD_LETTER = "io.secdigester.DeadLetter"
    FILING_TEXT = "io.secdigester.FilingText"


@functools.cache
def schema_dict(name: SchemaName, directory: Path | None = None) -> dict[str, Any]:
    """The schema with every named type it references inlined, as the registry stores it.

    From the package by default; `directory` reads a proposed set instead (`schemas check
    --schemas-dir`), so a change can be checked against the registry before it ships.
    """
    resource = (
        importlib.resources.files("services.schemas") if directory is None else directory
    ) / f"{name}.avsc"
    with importlib.resources.as_file(resource) as file:
        try:
            loaded = load_schema(str(file), _write_hint=False)
        except (OSError, ValueError, SchemaParseException, UnknownType) as exc:
            raise ConfigurationError(f"{file}: not a valid Avro schema: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"{name}.avsc is not a record schema")
    return loaded


def schema_text(name: SchemaName, directory: Path | None = None) -> str:
    """Canonical text for registration and lookup: the same bytes every time."""
    return json.dumps(schema_dict(name, directory), separators=(",", ":"), sort_keys=True)
