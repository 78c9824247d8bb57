"""The exception tree of the client, written down in one place.

Only errors that retrying cannot fix reach the user: a refused key, a bad parameter, something
the client cannot read, or a client used after it was closed. Lost connections, a gateway that
stops answering or restarts, and a slow-consumer close are handled inside (reconnect, resume).

    ClientError
    ├── AuthenticationError   missing or wrong API key (close 4401, HTTP 401/403)
    ├── BadParameterError     a parameter the gateway (or the config) rejects (4400, 4404),
    │                         or filters of `subscribe` it refuses (the stream goes on)
    ├── ProtocolError         a frame or record this client cannot read, or a refused handshake
    └── ClientClosedError     the client was used outside `async with`, or after it closed
"""

from __future__ import annotations


class ClientError(Exception):
    """Base class of everything the client raises."""


class AuthenticationError(ClientError):
    """The gateway refused the API key (or wants one). Not retried: the key will not change."""


class BadParameterError(ClientError):
    """A connection parameter is invalid; the message starts with the parameter's name."""


class ProtocolError(ClientError):
    """The gateway sent something this client cannot read, or refused the handshake outright."""


class ClientClosedError(ClientError):
    """The client is single-use: open it with `async with`, once."""
