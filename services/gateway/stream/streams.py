"""What the stream endpoints share: parsing a request, and opening and closing a session.

`Streams` is part of the lifespan state (services/gateway/state.py) for the lifetime of the app;
it holds, per topic alias (analyzed, raw), the shared tail, the position resolver and the codec,
plus the committer of acknowledged client positions, the replays' worker processes and the
limit of replays per API key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from services.common.avro import AvroCodec
from services.common.errors import BadParameterError
from services.common.filters import Filter, parse_filter, parse_filter_fields
from services.common.kafka import KafkaConsumer, consumer_config
from services.common.positions import PositionResolver, parse_cursor, parse_from
from services.common.settings import CommonSettings
from services.gateway.errors import ErrorCode, GatewayError
from services.gateway.limits import KeyLimit, ReplayRates
from services.gateway.settings import GatewaySettings
from services.gateway.stream.acks import AckCommitter, DurableConnection
from services.gateway.stream.fanout import TopicTail
from services.gateway.stream.session import StreamRequest, StreamSession
from services.gateway.stream.transcoding import TranscoderPool
from services.gateway.stream.wire import WireWriter

_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def parse_client_id(value: str | None) -> str | None:
    """The durable position's name (the group `sec-gateway.<client_id>`); None: not durable."""
    if not value:
        return None
    if not _CLIENT_ID.fullmatch(value):
        raise BadParameterError("client_id", "use 1-100 of A-Z a-z 0-9 . _ -")
    return value


def replay_consumer_config(settings: CommonSettings) -> dict[str, Any]:
    """The consumer of a session's replay from Kafka. Retention removing what it is about to
    read must not move it on silently, as librdkafka's auto.offset.reset would: its consume
    fails instead, the stream ends (internal, with its cursor) and reconnecting with that
    cursor is told the gap (docs/gateway-protocol.md, "Gaps")."""
    return consumer_config(settings, client_id="sec-gateway-replay") | {
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
    }


@dataclass(frozen=True)
class TopicStream:
    tail: TopicTail
    resolver: PositionResolver
    codec: AvroCodec


class Streams:
    def __init__(
        self,
        settings: GatewaySettings,
        topics: Mapping[str, TopicStream],
        acks: AckCommitter,
        transcoder: TranscoderPool,
        replays: KeyLimit,
    ) -> None:
        self._settings = settings
        self.topics = topics
        self.acks = acks
        self._transcoder = transcoder
        self._replays = replays
        self._replay_rates = ReplayRates(settings.gateway_replay_records_per_s_per_key)

    def request(self, params: Mapping[str, str], last_event_id: str | None = None) -> StreamRequest:
        """The stream a client asks for; BadParameterError names what is wrong, GatewayError
        (unknown_topic) says the topic is not one of those served."""
        alias = params.get("topic", "analyzed")
        if alias not in self.topics:
            raise GatewayError(
                ErrorCode.UNKNOWN_TOPIC, f"topic: {alias!r} is unknown: use analyzed or raw"
            )
        client_id = parse_client_id(params.get("client_id"))
        start = last_event_id or params.get("from")
        return StreamRequest(
            topic=self.topics[alias].tail.topic,
            spec=parse_from(start, client_id=client_id),
            client_id=client_id,
            filter=parse_filter(params, analyzed=alias == "analyzed"),
        )

    def filter_of(self, request: StreamRequest, fields: Mapping[str, object]) -> Filter:
        """The filter of a `subscribe` frame on the stream of `request`; BadParameterError
        names what is wrong."""
        analyzed = request.topic == self.topics["analyzed"].tail.topic
        return parse_filter_fields(fields, analyzed=analyzed)

    def _stream_of(self, request: StreamRequest) -> TopicStream:
        return next(s for s in self.topics.values() if s.tail.topic == request.topic)

    @asynccontextmanager
    async def durable(self, request: StreamRequest) -> AsyncIterator[DurableConnection | None]:
        """The hold of a stream that acknowledges (WebSocket) on its client_id's position, for
        as long as it runs; None without a client_id. Taken before the stream resolves its
        start: an older connection of the client_id on this gateway is superseded first."""
        if request.client_id is None:
            yield None
            return
        partitions = self._stream_of(request).resolver.partitions
        connection = await self.acks.take(request.client_id, request.topic, partitions)
        try:
            yield connection
        finally:
            await self.acks.release(connection)

    async def claim(self, connection: DurableConnection, session: StreamSession) -> None:
        """Claim the position once the session's start is known, before its welcome."""
        resumed = session.request.spec.kind == "committed"
        await self.acks.claim(connection, session.start, resumed)

    @asynccontextmanager
    async def session(
        self, request: StreamRequest, key: str | None, writer: WireWriter | None = None
    ) -> AsyncIterator[StreamSession]:
        """The session of `request` for a client of API key `key` (None: no keys)."""
        stream = self._stream_of(request)

        def open_consumer() -> KafkaConsumer:
            return KafkaConsumer(replay_consumer_config(self._settings))

        session = StreamSession(
            request,
            stream.tail,
            stream.resolver,
            stream.codec,
            open_consumer,
            self._transcoder,
            self._settings.gateway_client_queue,
            writer,
            functools.partial(self._replays.slot, key),
            functools.partial(self._replay_rates.take, key),
        )
        try:
            yield session
        finally:
            session.close()

    def acknowledge(
        self, request: StreamRequest, cursor: str, durable: DurableConnection | None
    ) -> None:
        positions = parse_cursor(cursor, "ack.cursor")
        partitions = set(self._stream_of(request).resolver.partitions)
        if not set(positions) <= partitions:
            raise BadParameterError("ack.cursor", f"the topic has partitions {sorted(partitions)}")
        if durable is not None:
            self.acks.acknowledge(durable, positions)
