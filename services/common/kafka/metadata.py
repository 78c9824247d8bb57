"""Does a topic exist, and which partitions has it: the one answer to both, from cluster
metadata (a consumer's or an admin client's `list_topics`)."""

from __future__ import annotations

from typing import Any

from services.common.errors import ConfigurationError


def partitions_in(metadata: Any, topic: str) -> list[int] | None:
    """The topic's partitions, in order; None when the metadata says it does not exist.

    A topic that does not exist is listed with an error (unknown topic) and no partitions, as
    librdkafka reports every topic it was asked about."""
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        return None
    return sorted(described.partitions)


def missing_topic(topic: str, setting: str | None) -> ConfigurationError:
    """What to tell the operator: create the topics (and which setting names this one)."""
    named = f" ({setting})" if setting else ""
    return ConfigurationError(
        f"topic {topic} does not exist: run `sec-digester topics create`{named}"
    )
