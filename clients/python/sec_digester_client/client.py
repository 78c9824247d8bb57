"""`StreamClient`: filings from the gateway, each handled once, across reconnects and restarts.

Position. The client keeps the cursor up to which everything has been handled: the welcome's
start, then each handled record's cursor, then `caught_up` and error cursors (they come after
every record before them, so those are handled by then; filtered-out records move them too).
Every reconnection resumes from that cursor (`from=<cursor>`), with or without a `client_id`:
the gateway's committed position can lag it (commits are batched, and lost with a killed
gateway), and with nothing committed yet would mean `latest`, skipping records.

Acknowledgement. With a `client_id`, a record's cursor is acknowledged only once it has been
handled: when the handler of `run` returns, or when the `async for` body asks for the next
record. The gateway commits acknowledged positions, so a new process with the same id starts
right after the last handled record. A record given to a handler that raised is not
acknowledged (and is the first of the next `run`); a `break` out of `async for` leaves the last
record unacknowledged too.

Gaps. When the stream's position lies before what the topic still holds (retention removed
those records, or the topic was created again), the gateway says so with a `gap` frame before
the first record. With `on_gap="raise"` the client raises `GapError` and acknowledges nothing
past the gap (not even the welcome's start), so a `client_id`'s committed position stays before
it and a new process is told again; iterating on, or calling `run` again, accepts the gap and
goes on from the first available records. With `on_gap="report"` the gap goes to `gap_handler`
(or a warning log) and the stream goes on.

Duplicates. A record the gateway redelivers (at least once across reconnects) whose accession
number is in the dedupe window is acknowledged and skipped, never handed out twice.

Filters. `subscribe` replaces the filters on the open connection (the gateway's `subscribe`
frame) and returns once the gateway acknowledged them. Frames read meanwhile wait in an inbox
and are handed out in order, before anything after them; one reader at a time takes frames
from the connection (a lock), so a subscribe in another task and `async for` never split the
stream. Every later connection opens with the filters last acknowledged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlsplit

from websockets.exceptions import InvalidStatus, WebSocketException

from sec_digester_client.backoff import Backoff
from sec_digester_client.config import ClientConfig
from sec_digester_client.connection import Connection
from sec_digester_client.dedupe import DedupeWindow
from sec_digester_client.errors import BadParameterError, ClientClosedError, GapError
from sec_digester_client.protocol import (
    UNDECODABLE,
    CaughtUp,
    Closed,
    Delivered,
    Event,
    Gap,
    Refused,
    Subscribed,
    SubscribeRefused,
    Welcome,
    final_error,
    handshake_error,
)
from sec_digester_client.records import FilingAnalysis

log = logging.getLogger(__name__)

Handler = Callable[[FilingAnalysis], Awaitable[None]]
GapHandler = Callable[[Gap], None]


class StreamClient:
    def __init__(self, config: ClientConfig, gap_handler: GapHandler | None = None) -> None:
        """`gap_handler`: called with each gap when `config.on_gap` is "report"."""
        if gap_handler is not None and config.on_gap != "report":
            raise BadParameterError("gap_handler: needs on_gap='report' (else gaps are raised)")
        self.config = config
        self._gap_handler = gap_handler
        self._unaccepted_gap: Gap | None = None  # raised, not yet accepted by iterating on
        self._start_unacknowledged = False  # the welcome's start, held back until no gap came
        self._state: Literal["new", "open", "closed"] = "new"
        self._connection: Connection | None = None
        self._position: str | None = None
        self._unsent_ack: str | None = None
        self._handed_out: FilingAnalysis | None = None  # by __anext__, handled at the next call
        self._unhandled: FilingAnalysis | None = None  # its handler in `run` did not return
        self._seen = DedupeWindow(config.dedupe_window)
        self._backoff = Backoff(config.backoff_initial_s, config.backoff_max_s)
        self._where = urlsplit(config.url).netloc  # for logs: the query may hold a key
        self.connections = 0  # connections opened so far; more than one means it reconnected
        self._inbox: deque[Event] = deque()  # read from the connection, not yet handled
        self._reading = asyncio.Lock()  # one reader of the connection at a time
        # Subscribes sent and not answered yet, oldest first: each with the config it asks for
        # and who waits for the answer (None: the one `_connect` sends on its own).
        self._subscribing: deque[tuple[asyncio.Future[str | None] | None, ClientConfig]] = deque()

    @property
    def position(self) -> str | None:
        """The cursor up to which every record has been handled (None before the first welcome)."""
        return self._position

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.alive

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise ClientClosedError("a StreamClient cannot be reopened; create a new one")
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Send the last due acknowledgement and close the connection (closing flushes the
        gateway's commit of this client's position)."""
        self._state = "closed"
        if self._connection is not None:
            await self._send_ack()
            await self._connection.close()
            self._connection = None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> FilingAnalysis:
        if self._handed_out is not None:
            self._handled(self._handed_out)
            self._handed_out = None
        self._handed_out = await self._next()
        return self._handed_out

    async def run(self, handler: Handler) -> None:
        """Call `handler` for each filing, one at a time, until it raises (or cancellation).

        The record whose handler raised is not acknowledged: the next `run` starts with it."""
        while True:
            filing = self._unhandled or await self._next()
            self._unhandled = filing
            await handler(filing)
            self._unhandled = None
            self._handled(filing)

    async def subscribe(
        self,
        *,
        tickers: Iterable[str] = (),
        forms: Iterable[str] = (),
        min_priority: str | None = None,
        items: Iterable[str] = (),
        transaction_codes: Iterable[str] = (),
        min_value_usd: float | None = None,
        insider_roles: Iterable[str] = (),
    ) -> str | None:
        """Replace all filters (one not given: no restriction) without reconnecting.

        Returns the cursor after which the new filters apply, once the gateway acknowledged
        them; records sent before that are still handed out, in order. Raises
        BadParameterError if the gateway refuses them (the old filters stay). Returns None
        when no connection is open, or it was lost before the answer: the filters then apply
        from the next connection on, which opens with them."""
        if self._state != "open":
            raise ClientClosedError("use the StreamClient inside `async with`, once")
        wanted = dataclasses.replace(
            self.config,
            tickers=_listed("tickers", tickers),
            forms=_listed("forms", forms),
            min_priority=min_priority,
            items=_listed("items", items),
            transaction_codes=_listed("transaction_codes", transaction_codes),
            min_value_usd=min_value_usd,
            insider_roles=_listed("insider_roles", insider_roles),
        )
        connection = self._connection
        if connection is None or not connection.alive:
            self.config = wanted
            return None
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._subscribing.append((answer, wanted))
        # If the send fails the connection is gone: its Closed event settles the answer.
        await connection.send({"type": "subscribe", **wanted.filters()})
        while not answer.done():
            async with self._reading:
                if not answer.done():
                    await self._read(connection)
        return answer.result()

    async def _next_event(self, connection: Connection) -> Event:
        while not self._inbox:
            async with self._reading:
                if not self._inbox:
                    await self._read(connection)
        return self._inbox.popleft()

    async def _read(self, connection: Connection) -> None:
        """Take one frame from the connection (holding `_reading`): the answer to a subscribe
        settles it; anything else goes to the inbox."""
        event = await connection.next_event()
        if isinstance(event, Subscribed | SubscribeRefused):
            answer, wanted = self._subscribing.popleft()
            if isinstance(event, Subscribed):
                self.config = wanted
                if answer is not None:
                    answer.set_result(event.cursor)
            else:
                log.warning("gateway refused the filters: %s", event.message)
                if answer is not None:
                    answer.set_exception(BadParameterError(event.message))
            return
        if isinstance(event, Closed):
            # Unanswered: the next connection opens with what they asked for.
            while self._subscribing:
                answer, self.config = self._subscribing.popleft()
                if answer is not None:
                    answer.set_result(None)
        self._inbox.append(event)

    def _handled(self, filing: FilingAnalysis) -> None:
        assert filing.delivery is not None
        self._seen.add(filing.accession_number)
        self._advance(filing.delivery.cursor)

    def _advance(self, cursor: str) -> None:
        self._position = cursor
        if self.config.client_id is not None:  # without one, the gateway ignores acks
            self._unsent_ack = cursor

    async def _send_ack(self) -> None:
        cursor = self._unsent_ack
        if cursor is None or self._connection is None:
            return
        # Cleared only once sent: an ack that missed its connection (lost, or cancelled
        # mid-send) goes out on the next one, or from `aclose`.
        if await self._connection.send({"type": "ack", "cursor": cursor}) and (
            self._unsent_ack == cursor
        ):
            self._unsent_ack = None

    async def _next(self) -> FilingAnalysis:
        if self._state != "open":
            raise ClientClosedError("use the StreamClient inside `async with`, once")
        if self._unaccepted_gap is not None:  # asked for more after the GapError: accepted
            self._advance(self._unaccepted_gap.cursor)
            self._unaccepted_gap = None
        while True:
            await self._send_ack()
            connection = self._connection or await self._connect()
            event = await self._next_event(connection)
            if isinstance(event, Gap):
                self._gap(event)
                continue
            if self._start_unacknowledged:  # no gap right after the welcome
                self._start_unacknowledged = False
                assert self._position is not None
                self._advance(self._position)
            if isinstance(event, Delivered):
                self._backoff.reset()  # this connection works: a later failure starts over
                filing = event.filing
                if filing.accession_number not in self._seen:
                    return filing
                log.debug("skipping redelivered %s", filing.accession_number)
                self._handled(filing)
            elif isinstance(event, Welcome):
                if self._position is None:
                    # Pin the resolved start: a reconnection must not re-resolve `latest`.
                    # Acknowledged with the next frame, unless that is a gap being raised.
                    self._position = event.start
                    self._start_unacknowledged = True
            elif isinstance(event, CaughtUp):
                self._backoff.reset()
                self._advance(event.cursor)
            elif isinstance(event, Refused):
                # A refusal is followed by the close it explains, reported (or raised) there.
                level = logging.WARNING if event.code == UNDECODABLE else logging.DEBUG
                log.log(level, "gateway: %s: %s", event.code, event.message)
                if event.cursor:
                    self._advance(event.cursor)
            elif isinstance(event, Closed):
                await self._lost(event)

    def _gap(self, gap: Gap) -> None:
        self._start_unacknowledged = False
        if self.config.on_gap == "raise":
            self._unaccepted_gap = gap
            raise GapError(gap)
        if self._gap_handler is not None:
            self._gap_handler(gap)
        else:
            log.warning("gateway: %s", gap.describe())
        self._advance(gap.cursor)

    async def _connect(self) -> Connection:
        while True:
            start = self._position or self.config.start
            config = self.config
            try:
                self._connection = await Connection.open(config, start)
            except InvalidStatus as exc:
                error = handshake_error(exc.response.status_code)
                if error is not None:
                    raise error from exc
                await self._wait(f"handshake refused: HTTP {exc.response.status_code}")
            except (OSError, TimeoutError, WebSocketException) as exc:
                await self._wait(f"cannot connect: {exc!r}")
            else:
                self.connections += 1
                log.info("connected to %s from %s", self._where, start or "the default position")
                if self.config is not config:  # a subscribe while it opened
                    self._subscribing.append((None, self.config))
                    await self._connection.send({"type": "subscribe", **self.config.filters()})
                return self._connection

    async def _lost(self, closed: Closed) -> None:
        assert self._connection is not None
        await self._connection.close()
        self._connection = None
        error = final_error(closed)
        if error is not None:
            raise error
        why = closed.refused.message if closed.refused else closed.reason
        at_least = closed.refused.retry_after_s if closed.refused else None
        await self._wait(f"connection closed ({closed.code}: {why})", at_least or 0.0)

    async def _wait(self, why: str, at_least_s: float = 0.0) -> None:
        """Back off before the next attempt: the backoff's delay, and at least the wait the
        gateway asked for (a key at one of its limits)."""
        delay = max(self._backoff.next_delay(), at_least_s)
        log.warning("gateway %s: %s; reconnecting in %.1fs", self._where, why, delay)
        await asyncio.sleep(delay)


def _listed(name: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):  # tuple() would take it letter by letter
        raise BadParameterError(f"{name}: a list of strings, not one string")
    return tuple(values)
