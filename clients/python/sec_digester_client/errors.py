"""The exception tree of the client, written down in one place.

Only errors that retrying cannot fix reach the user: a refused key, a bad parameter, something
the client cannot read, or a client used after it was closed. Lost connections, a gateway that
stops answering or restarts, and a slow-consumer close are handled inside (reconnect, resume).

    ClientError
    ├── AuthenticationError   missing or wrong API key (close 4401, HTTP 401/403)
    ├── BadParameterError     a parameter the gateway (or the config) rejects (4400, 4404),
    │                         or filters of `subscribe` it refuses (the stream goes on)
    ├── ProtocolError         a frame or record this client cannot read, or a refused handshake
    ├── GapError              records were removed before they were read (on_gap="raise")
    ├── SupersededError       a newer connection with the same client_id took over (4409)
    └── ClientClosedError     the client was used outside `async with`, or after it closed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sec_digester_client.protocol import Gap


class ClientError(Exception):
    """Base class of everything the client raises."""


class AuthenticationError(ClientError):
    """The gateway refused the API key (or wants one). Not retried: the key will not change."""


class BadParameterError(ClientError):
    """A connection parameter is invalid; the message starts with the parameter's name."""


class ProtocolError(ClientError):
    """The gateway sent something this client cannot read, or refused the handshake outright."""


class GapError(ClientError):
    """The stream's position lies before what the topic still holds: retention removed those
    records, or the topic was created again. `gap` says what is gone, per partition. Not a
    failure of the client: iterating on (or `run` again) accepts the gap and goes on from the
    first available records; until then nothing past it is acknowledged."""

    def __init__(self, gap: Gap) -> None:
        super().__init__(gap.describe())
        self.gap = gap


class SupersededError(ClientError):
    """A newer connection with the same `client_id` took the stream over (close 4409): another
    process runs with this id. Not retried: two copies would take it from each other in turn.
    The newer connection goes on from what this one acknowledged (on another gateway: from what
    the gateway had committed of it; the rest is sent to the newer one again)."""


class ClientClosedError(ClientError):
    """The client is single-use: open it with `async with`, once."""
