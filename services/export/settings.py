"""Settings of `sec-digester export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from services.common.settings import CommonSettings

TopicRole = Literal["analyzed", "raw", "dlq", "text"]


class ExportSettings(CommonSettings):
    # Which of the configured topics (TOPIC_ANALYZED, TOPIC_RAW, TOPIC_DLQ, TOPIC_TEXT) to read.
    export_topic: TopicRole = "analyzed"
    # earliest | latest | an offset (single partition) | a cursor P:O,... | an ISO-8601 time.
    export_from: str = "earliest"
    # Same forms, exclusive; unset = the end of every partition when the export starts.
    export_to: str | None = None
    export_format: Literal["jsonl", "parquet"] = "jsonl"
    export_out: Path
    # Parquet rows per row group (and records held in memory before a write).
    export_batch_size: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000

    # The spelling of the flags.
    FLAG_ALIASES: ClassVar[dict[str, str]] = {
        "export_topic": "topic",
        "export_from": "from",
        "export_to": "to",
        "export_format": "format",
        "export_out": "out",
    }

    def topic_name(self) -> str:
        names = {
            "analyzed": self.topic_analyzed,
            "raw": self.topic_raw,
            "dlq": self.topic_dlq,
            "text": self.topic_text,
        }
        return names[self.export_topic]
