"""What the benchmarks share: the local infrastructure and real filings from the corpus."""

from __future__ import annotations

import datetime as dt
import platform
import sys
import uuid
from pathlib import Path

from services.common.records import Filing, FilingSource
from services.common.settings import TopicSettings, load_settings
from services.infra import local
from services.infra.settings import InfraSettings
from services.ingest.corpus import list_snapshots, load_snapshot
from services.ingest.feed import merge_entries
from services.ingest.tickers import TickerMap

CORPUS = Path(__file__).resolve().parents[1] / "samples" / "edgar-corpus"


def corpus_filings() -> list[Filing]:
    """Every filing of the first recorded feed snapshot, as ingest would emit it."""
    entries = load_snapshot(CORPUS, list_snapshots(CORPUS)[0])
    return merge_entries(
        entries,
        source=FilingSource.REPLAY,
        detected_at=dt.datetime.now(dt.UTC),
        tickers=TickerMap.bundled(),
    )


def local_topics() -> TopicSettings:
    """Fresh topics on the local infrastructure (`infra up` settings from the environment)."""
    infra = load_settings(InfraSettings)
    local.up(infra)
    suffix = uuid.uuid4().hex[:8]
    return TopicSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        schema_registry_url=infra.registry_url,
        topic_raw=f"bench.{suffix}.raw",
        topic_analyzed=f"bench.{suffix}.analyzed",
        topic_dlq=f"bench.{suffix}.dlq",
        topic_llm_cache=f"bench.{suffix}.llm-cache",
        topic_ingest_control=f"bench.{suffix}.ingest-control",
        topic_text=f"bench.{suffix}.text",
    )


def print_header(title: str, command: str) -> None:
    print(f"== {title}")
    print(f"   reproduce: {command}")
    print(
        f"   machine: {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}"
    )
