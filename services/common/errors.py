"""The exception tree of sec-digester, written down in one place.

Every error the services raise derives from `SecDigesterError`. Its `retriable` flag is the
one thing the processing loops look at: a retriable error is retried (with backoff) and the
record is not given up; a non-retriable one sends the record to the dead-letter topic (analyze)
or is reported to the user (CLI, gateway). Library errors are translated at the boundary where
they are caught, with `raise ... from exc`, so the original stays in the traceback.

    SecDigesterError
    ├── ConfigurationError          bad setting; names the setting
    ├── InfrastructureError         local Kafka/registry processes (infra up/down)
    ├── KafkaClientError            broker I/O; retriable as librdkafka says
    ├── SchemaRegistryError         registry I/O or refusal
    │   └── IncompatibleSchemaError a schema change that breaks compatibility
    ├── SerializationError          a record that cannot be encoded or decoded
    ├── BadParameterError           a client's request parameter (gateway); names it
    └── UpstreamError               an HTTP source (EDGAR, an LLM API)
        └── MalformedResponseError  an answer that does not parse (HTML error page, truncated XML)
"""

from __future__ import annotations


class SecDigesterError(Exception):
    """Base class. `retriable` says whether trying the same thing again may succeed."""

    retriable: bool = False

    def __init__(self, message: str, *, retriable: bool | None = None) -> None:
        super().__init__(message)
        if retriable is not None:
            self.retriable = retriable


class ConfigurationError(SecDigesterError):
    """A setting is missing or invalid. The message names the setting (env var and flag)."""


class InfrastructureError(SecDigesterError):
    """The local Kafka or registry process could not be fetched, started or stopped."""


class KafkaClientError(SecDigesterError):
    """A Kafka operation failed; `retriable` follows librdkafka's own classification.

    `code` is librdkafka's error name (`UNKNOWN_TOPIC_OR_PART`, `_TIMED_OUT`, ...). For a
    transactional producer, `abortable` means "abort the transaction and try it again" and
    `fatal` means the producer is unusable (fenced, for example) and must be rebuilt."""

    retriable = True

    def __init__(
        self,
        message: str,
        *,
        retriable: bool | None = None,
        code: str | None = None,
        fatal: bool = False,
        abortable: bool = False,
    ) -> None:
        super().__init__(message, retriable=retriable)
        self.code = code
        self.fatal = fatal
        self.abortable = abortable


class UnresponsiveClientError(KafkaClientError):
    """A librdkafka call did not return by its deadline (services/common/kafka/boundary.py):
    the handle is given up, `fatal`, and its owner replaces it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=False, code="_UNRESPONSIVE", fatal=True)


class KafkaOutageError(KafkaClientError):
    """Kafka stayed unreachable for longer than KAFKA_OUTAGE_TOLERANCE_S: the process gives up
    (its supervisor restarts it or alerts) instead of waiting for ever."""

    retriable = False


class SchemaRegistryError(SecDigesterError):
    """The schema registry could not be reached or refused a request."""

    retriable = True


class IncompatibleSchemaError(SchemaRegistryError):
    """A schema would break the subject's compatibility rule."""

    retriable = False


class SerializationError(SecDigesterError):
    """A record could not be encoded to, or decoded from, the Avro wire format."""


class UpstreamError(SecDigesterError):
    """An HTTP upstream (EDGAR, an LLM endpoint) failed; 5xx, 429 and timeouts are retriable."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retriable: bool | None = None,
    ) -> None:
        super().__init__(message, retriable=retriable)
        self.url = url
        self.status = status


class MalformedResponseError(UpstreamError):
    """The upstream answered, but not with what it should have (an HTML error page instead of
    Atom, a truncated document). Retriable: the next poll usually gets a good page."""

    retriable = True


class BadParameterError(SecDigesterError):
    """A client sent an invalid parameter or frame; the message starts with its name."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
