"""Replayed records made into the JSON clients get, in worker processes, a batch at a time.

A replay from Kafka spends most of its time decoding Avro and writing each record's JSON
(py-spy on a replaying gateway, all on the event loop: the Avro reader 44% of the samples,
the record's JSON, facts and cursor another 12%), and both depend only on the record's bytes
and its writer schema. So a replay hands each consumed batch (up to 500 values) to a pool of
worker processes in one call: the values go out as bytes, the JSON comes back as bytes, and the
pickling is paid per batch, not per record. The event loop keeps what needs the session's state
(positions, cursors, frames, the socket) and serves other clients meanwhile; with the next
batches submitted before the last one's JSON comes back, decoding and writing overlap. A
client's filter is applied in the worker, so records it does not want never come back.

The registry is asked in the gateway process (the codec's cache, as before), and each batch
carries the writer schemas its records name; a worker resolves a schema once and keeps it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from typing import Any, NamedTuple

import structlog

from services.common.avro import AvroCodec, AvroReader, split_wire
from services.common.errors import SecDigesterError
from services.common.filters import Filter, RecordFacts
from services.common.record_json import record_json
from services.common.schemas import SchemaName
from services.gateway.errors import ErrorCode, GatewayError

log = structlog.get_logger(__name__)

_EVERYTHING = Filter()
_PARENT_CHECK_S = 1.0


class Undecodable(NamedTuple):
    reason: str  # why the record could not be read, for the client's error frame


# Per record: its JSON (the `data` of its frame); None when the client's filter does not want
# it; or why it cannot be read.
Transcoded = bytes | Undecodable | None

# Per worker process: a reader per schema, with every writer schema it has been sent.
_readers: dict[SchemaName, AvroReader] = {}


def transcode(
    schema: SchemaName,
    writers: dict[int, Any],
    refused: dict[int, str],
    values: Sequence[bytes | None],
    wanted: Filter,
) -> list[Transcoded]:
    """Each value's JSON if `wanted` matches it, in order. `writers`: the writer schemas (as
    the registry gave them) of the values; `refused`: why the registry had none for an id.
    Runs in a worker process; a plain function of its arguments."""
    reader = _readers.get(schema)
    if reader is None:
        reader = _readers[schema] = AvroReader(schema)
    for schema_id, writer in writers.items():
        if not reader.knows(schema_id):
            reader.add_writer(schema_id, writer)  # the gateway process could: so can this one
    everything = wanted == _EVERYTHING  # then the facts are not needed
    transcoded: list[Transcoded] = []
    for value in values:
        try:
            if refused and (schema_id := split_wire(value)[0]) in refused:
                transcoded.append(Undecodable(refused[schema_id]))
                continue
            record = reader.decode(value)
        except SecDigesterError as exc:
            transcoded.append(Undecodable(str(exc)))
            continue
        if everything or wanted.matches(RecordFacts.of(record)):
            transcoded.append(record_json(record))
        else:
            transcoded.append(None)
    return transcoded


def _watch_parent(parent: int) -> None:
    """In each worker: end when the gateway is gone. A gateway killed outright (SIGKILL, the
    OOM killer) cannot shut its pool down, and a worker blocked on its call queue would
    otherwise live on, orphaned, for as long as the machine runs."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _started() -> None:
    """Nothing: a worker that ran it has imported this module (cavro, orjson) and is idle."""


class TranscoderPool:
    """The gateway's worker processes for replays, shared by every session (a batch at a
    time each)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._starting: list[Future[None]] = []

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: never fork a process that runs librdkafka's threads.
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return self._executor

    def start(self) -> None:
        """Start the processes (the pool starts one per call waiting): a fresh process takes
        a while to import what it runs, which a first replay should not wait for."""
        executor = self._pool()
        self._starting = [executor.submit(_started) for _ in range(self.processes)]

    async def started(self) -> None:
        """Until every process `start` began is up."""
        await asyncio.gather(*(asyncio.wrap_future(call) for call in self._starting))

    async def transcode(
        self, codec: AvroCodec, values: Sequence[bytes | None], wanted: Filter
    ) -> list[Transcoded]:
        """`values` decoded as `codec`'s schema and made JSON where `wanted`, in a worker
        process."""
        writers, refused = await _writer_schemas(codec, values)
        executor = self._pool()
        try:
            return await asyncio.wrap_future(
                executor.submit(
                    transcode, codec.schema_name, writers, refused, list(values), wanted
                )
            )
        except BrokenExecutor as exc:
            # A worker died (killed, out of memory): the next batch gets a fresh pool, and
            # this session ends with a retriable error (the client resumes from its cursor).
            log.error("replay worker process died; restarting the pool", error=str(exc))
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            raise GatewayError(
                ErrorCode.INTERNAL, "a replay worker process died; resume from the last cursor"
            ) from exc

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


async def _writer_schemas(
    codec: AvroCodec, values: Sequence[bytes | None]
) -> tuple[dict[int, Any], dict[int, str]]:
    """The writer schemas the values name, fetched from the registry when new, and why the
    registry had none for an id. (A value that is not framed is the worker's to report.)"""
    named = {value[1:5] for value in values if value is not None and len(value) >= 5}
    writers: dict[int, Any] = {}
    refused: dict[int, str] = {}
    for header in named:
        schema_id = int.from_bytes(header, "big")
        try:
            await codec.learn(schema_id)
        except SecDigesterError as exc:
            refused[schema_id] = str(exc)
            continue
        writers[schema_id] = codec.writer_schema(schema_id)
    return writers, refused
