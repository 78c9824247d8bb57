"""Settings of `sec-digester gateway`."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, SecretStr, model_validator

from services.common.settings import CommaList, Port, comma_separated
from services.store.settings import StoreSettings


class GatewaySettings(StoreSettings):
    FLAG_ALIASES: ClassVar[dict[str, str]] = {"gateway_workers": "workers"}

    gateway_host: str = "0.0.0.0"  # noqa: S104 (a server for clients elsewhere)
    gateway_port: Port = 8000
    # Gateway processes on the one port (SO_REUSEPORT: the kernel spreads connections over
    # them), each with its own tail of the topics; about one per core the fan-out may use.
    gateway_workers: Annotated[int, Field(ge=1, le=256)] = 1
    # Comma-separated keys; none = no authentication (local use).
    gateway_api_keys: SecretStr | None = None
    # Limits per API key, per gateway process (services/gateway/limits.py; none without keys):
    # open streams (WebSocket and SSE together), streams replaying history older than the
    # tail's ring from Kafka (each a consumer and worker time: the costly kind), and /mcp
    # requests in flight.
    gateway_max_connections_per_key: Annotated[int, Field(ge=1)] = 100
    gateway_max_replays_per_key: Annotated[int, Field(ge=1)] = 4
    gateway_max_mcp_requests_per_key: Annotated[int, Field(ge=1)] = 8
    # Records a second one key's replays from Kafka read together, at most (0: as fast as the
    # gateway can). Replays compete with live delivery for the CPU of the gateway and of the
    # brokers: unpaced, one key's four replays from `earliest` pushed another key's live p99 to
    # 2.4-7x its unloaded value on 2 cores, at 5000 to 1.2x (bench/gateway.py --only fairness).
    gateway_replay_records_per_s_per_key: Annotated[float, Field(ge=0)] = 5000.0
    # Clients only send acks and pings: anything bigger is a mistake or an attack.
    gateway_max_frame_bytes: Annotated[int, Field(ge=256, le=1_048_576)] = 4096
    # Comma-separated origins allowed to call the API from a browser ("" = same origin only).
    gateway_cors_origins: CommaList = ()
    # Frames queued for one client before it counts as too slow and is closed.
    gateway_client_queue: Annotated[int, Field(ge=10, le=1_000_000)] = 10_000
    # Whether this process feeds the filings store (STORE_PATH) from the analyzed topic. With
    # --workers N only the first worker does; false for every gateway that shares the file with
    # another feeder (one more gateway on the host, or `sec-digester store feed`). With
    # PostgreSQL (STORE_DSN) every replica may feed: the consumer group STORE_GROUP_ID gives
    # each partition one writer at a time.
    gateway_store_feeder: bool = True
    # Recent records each shared tail keeps, so a client that finished replaying joins live
    # without another trip to Kafka.
    gateway_tail_buffer: Annotated[int, Field(ge=100, le=1_000_000)] = 20_000
    # Worker processes that decode the records of replays from Kafka (history older than the
    # tail's ring) into JSON, shared by every replaying client; started on the first such
    # replay. Decoding is most of a replay's work: one process per core the gateway may use.
    gateway_replay_processes: Annotated[int, Field(ge=1, le=64)] = 2
    # permessage-deflate for clients that offer it. Off by default: compression is per
    # connection, so a record going to N clients is compressed N times, and a compressing
    # client cannot take the pre-encoded frames of the fan-out fast path.
    gateway_ws_compression: bool = False
    gateway_commit_interval_s: Annotated[float, Field(gt=0)] = 0.5
    # librdkafka consumers kept open to commit and read durable clients' positions (one per
    # consumer group `sec-gateway.<client_id>` in use; the least recently used idle one is
    # closed to make room): thousands of durable clients share these few handles.
    gateway_position_consumers: Annotated[int, Field(ge=1, le=256)] = 8
    # How long a client being closed (too slow, bad frame) has to make room for the error
    # frame and the close; after that the connection is dropped.
    gateway_close_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    # A request head (a WebSocket handshake included) not complete this long after it began is
    # answered 408 and its connection closed: a slow-loris client holds nothing for long.
    gateway_handshake_timeout_s: Annotated[float, Field(gt=0)] = 10.0

    @property
    def api_keys(self) -> frozenset[str]:
        if self.gateway_api_keys is None:
            return frozenset()
        return frozenset(comma_separated(self.gateway_api_keys.get_secret_value()))

    @property
    def cors_origins(self) -> list[str]:
        return list(self.gateway_cors_origins)

    @model_validator(mode="after")
    def _no_wildcard_with_keys(self) -> GatewaySettings:
        if "*" in self.cors_origins and self.api_keys:
            raise ValueError(
                "GATEWAY_CORS_ORIGINS='*' cannot be combined with GATEWAY_API_KEYS: "
                "name the origins that may send credentials"
            )
        return self
