"""Consumed messages, typed: a record passes as it is, an error is raised as the project's,
and a partition EOF says where the partition ended."""

from __future__ import annotations

import confluent_kafka
import pytest

from services.common.errors import KafkaClientError
from services.common.kafka import PartitionEnd, successful
from services.common.kafka.messages import record_or_end, recovers_by_itself


def _record() -> confluent_kafka.Message:
    return confluent_kafka.Message(
        topic="sec.filings.raw", partition=2, offset=41, key=b"0000320193-25-000001", value=b"v"
    )


def _error(code: int, *, retriable: bool = False) -> confluent_kafka.Message:
    error = confluent_kafka.KafkaError(code, "what librdkafka said", retriable=retriable)
    return confluent_kafka.Message(topic="sec.filings.raw", partition=2, offset=7, error=error)


def test_a_record_is_passed_on_as_it_is_with_its_coordinates() -> None:
    message = _record()
    record = successful(message)
    assert id(record) == id(message)  # typed, not copied
    assert (record.topic(), record.partition(), record.offset()) == ("sec.filings.raw", 2, 41)
    assert record.key() == b"0000320193-25-000001"
    assert id(record_or_end(message)) == id(message)


@pytest.mark.parametrize("retriable", [True, False])
def test_a_message_carrying_an_error_raises_the_projects_error(retriable: bool) -> None:
    message = _error(confluent_kafka.KafkaError._TRANSPORT, retriable=retriable)
    with pytest.raises(KafkaClientError, match="what librdkafka said") as raised:
        successful(message)
    assert raised.value.retriable is retriable
    assert "sec.filings.raw [2]" in str(raised.value)
    with pytest.raises(KafkaClientError):
        record_or_end(message)


def test_a_partition_eof_is_where_the_partition_ended() -> None:
    message = _error(confluent_kafka.KafkaError._PARTITION_EOF)
    assert record_or_end(message) == PartitionEnd("sec.filings.raw", 2, 7)
    with pytest.raises(KafkaClientError):  # not a record
        successful(message)


@pytest.mark.parametrize(
    "code",
    [
        confluent_kafka.KafkaError._TRANSPORT,
        confluent_kafka.KafkaError._ALL_BROKERS_DOWN,
        confluent_kafka.KafkaError._TIMED_OUT,
    ],
)
def test_brokers_being_away_is_polled_through_not_raised(code: int) -> None:
    # librdkafka reconnects and fetches on from the same position: nothing is skipped.
    assert recovers_by_itself(confluent_kafka.KafkaError(code, "brokers away"))


def test_a_fatal_or_lasting_error_is_not_polled_through() -> None:
    fatal = confluent_kafka.KafkaError(confluent_kafka.KafkaError._TRANSPORT, "x", fatal=True)
    assert not recovers_by_itself(fatal)
    unknown = confluent_kafka.KafkaError(confluent_kafka.KafkaError.UNKNOWN_TOPIC_OR_PART, "gone")
    assert not recovers_by_itself(unknown)
