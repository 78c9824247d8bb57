"""structlog configuration: called once per process, from its entry point.

Logs go to stderr: JSON lines when stderr is not a terminal (production, containers, CI),
coloured key=value when it is. Context (topic, partition, offset, accession number) is bound
per record with `structlog.contextvars.bound_contextvars` or `log.bind`, never formatted into
the message.

Every line has the same shape, whoever wrote it:
- our own events go straight from structlog to stderr (no standard-library logging on the way,
  so a log call costs what it did);
- standard-library records (uvicorn, httpx, the client library, Python warnings) reach one
  root handler whose `ProcessorFormatter` runs them through the same processors and renderer;
- librdkafka's lines come through `LIBRDKAFKA_LOGGER`, set as `logger` in every Kafka client's
  configuration, instead of librdkafka's own `%3|...|FAIL|...` lines on stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog


class LibrdkafkaLogger:
    """What confluent-kafka calls for each librdkafka log line, when the client's
    configuration has it as `logger`: `log(level, "%s [%s] %s", facility, client, message)`,
    with `level` already a logging level. The line becomes a structlog event with the facility
    and the client as fields.

    confluent-kafka delivers these lines from the client's poll (a consumer's poll or consume,
    the producer's poll thread), never from librdkafka's own threads; an AdminClient keeps
    them until its `poll()`.
    """

    def __init__(self) -> None:
        self._log = structlog.get_logger()

    def log(self, level: int, _template: str, facility: str, client: str, message: str) -> None:
        self._log.log(level, message, logger="librdkafka", facility=facility, client=client)


LIBRDKAFKA_LOGGER = LibrdkafkaLogger()


def _not_a_line_per_websocket(record: logging.LogRecord) -> bool:
    """uvicorn logs each WebSocket handshake at INFO ('... - "WebSocket /stream" [accepted]',
    or the status it answered instead): 10,000 lines for 10,000 clients. The gateway counts
    connections in its metrics instead."""
    return not (record.levelno == logging.INFO and str(record.msg).startswith('%s - "WebSocket '))


def configure_logging(
    level: str = "INFO", log_format: Literal["auto", "json", "console"] = "auto"
) -> None:
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if use_json:
        shared += [structlog.processors.dict_tracebacks]
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer()
    numeric_level = logging.getLevelName(level)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # One write per line (print() makes two), so a line from the standard-library handler
        # on another thread never lands in the middle of one of ours.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    # The configured level holds for loggers that set a lower one of their own, too.
    handler.setLevel(numeric_level)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    logging.captureWarnings(True)
    # One line per HTTP request is the access log's job, not the client's; at DEBUG the
    # operator asked for everything.
    quiet_httpx = numeric_level > logging.DEBUG
    logging.getLogger("httpx").setLevel(logging.WARNING if quiet_httpx else logging.NOTSET)
    logging.getLogger("uvicorn.error").addFilter(_not_a_line_per_websocket)
