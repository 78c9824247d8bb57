"""Where exported records go: JSON lines or Parquet, written to `<out>.partial` and renamed into
place only when the export completed, so a reader never takes a half export for a whole.

JSON lines: one record per line, exactly the JSON the gateway sends as a frame's `data`
(services/common/record_json.py, the gateway's encoder; times in UTC with a Z). Bytes (the
dead-letter topic's original key and value) are base64 strings. Parquet: one row per record,
columns typed by the topic's Avro schema (services/export/arrow_schema.py), pyarrow from the
`parquet` extra.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from services.common.errors import ConfigurationError
from services.common.record_json import record_json
from services.common.schemas import SchemaName, schema_dict


class Sink(Protocol):
    def write(self, records: list[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


def require_parquet() -> None:
    """Fail before reading anything when pyarrow is not installed."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "EXPORT_FORMAT (--format) parquet needs pyarrow: pip install 'sec-digester[parquet]'"
        ) from exc


class JsonLinesSink:
    def __init__(self, path: Path) -> None:
        self._file: IO[bytes] = path.open("wb")

    def write(self, records: list[dict[str, Any]]) -> None:
        self._file.write(b"".join(record_json(_base64_bytes(r)) + b"\n" for r in records))

    def close(self) -> None:
        self._file.close()


def _base64_bytes(record: dict[str, Any]) -> dict[str, Any]:
    """JSON has no bytes: top-level bytes fields (a dead letter's key and value) as base64."""
    if not any(isinstance(v, bytes) for v in record.values()):
        return record
    return {
        k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in record.items()
    }


class ParquetSink:
    def __init__(self, path: Path, schema: SchemaName) -> None:
        import pyarrow.parquet as pq

        from services.export.arrow_schema import arrow_schema

        self._schema = arrow_schema(schema_dict(schema))
        self._writer = pq.ParquetWriter(path, self._schema, compression="zstd")

    def write(self, records: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        self._writer.write_table(pa.Table.from_pylist(records, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


@contextlib.contextmanager
def open_sink(out: Path, output_format: str, schema: SchemaName) -> Iterator[Sink]:
    """A sink on `<out>.partial`, renamed to `out` when the block completes, removed if not."""
    partial = out.with_name(out.name + ".partial")
    sink: Sink
    sink = ParquetSink(partial, schema) if output_format == "parquet" else JsonLinesSink(partial)
    try:
        yield sink
    except BaseException:
        sink.close()
        partial.unlink(missing_ok=True)
        raise
    sink.close()
    partial.replace(out)
