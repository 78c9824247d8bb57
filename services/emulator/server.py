"""Running the emulator: on a background thread of the test process (`run_emulator`,
`serve_emulator`), or as a process of its own (`python -m services.emulator`).

The listening socket is bound before uvicorn starts, so an ephemeral port (0) is known at
once and nobody can take it in between; readiness is uvicorn's own end of start-up, signalled
through an Event, never a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from services.emulator.app import build_app
from services.emulator.connection_reset import ResettableH11Protocol
from services.emulator.control import EmulatorControl
from services.emulator.recorded import DATA_PREFIX

# A stalled request must not hold up shutdown for its whole stall.
_GRACEFUL_SHUTDOWN_SECONDS = 1
_STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class EmulatorHandle:
    base_url: str  # stands for https://www.sec.gov
    data_url: str  # stands for https://data.sec.gov
    control: EmulatorControl  # switch snapshot, queue faults, read the request log


class EmulatorServer(uvicorn.Server):
    """A uvicorn server that reports readiness and stops on SIGINT/SIGTERM with status 0
    (uvicorn itself re-raises the signal after shutting down)."""

    def __init__(self, control: EmulatorControl, on_ready: Callable[[], None]) -> None:
        super().__init__(
            uvicorn.Config(
                build_app(control),
                http=ResettableH11Protocol,
                loop="asyncio",
                ws="none",
                lifespan="off",
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
            )
        )
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals belong to the main thread (the test runner's, in-process)
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only turns Nagle off (TCP_NODELAY) on sockets that do, and
    # with Nagle on, every small answer waits out the client's delayed ACK (40 ms on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def handle_for(sock: socket.socket, control: EmulatorControl) -> EmulatorHandle:
    """The handle of a server listening on `sock` (bound, so its port is known)."""
    host, port = sock.getsockname()[:2]
    base_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    return EmulatorHandle(base_url=base_url, data_url=base_url + DATA_PREFIX, control=control)


@contextlib.contextmanager
def run_emulator(
    corpus_dir: Path, snapshot: str | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[EmulatorHandle]:
    """Serve the corpus on a background thread for the duration of the `with` block."""
    control = EmulatorControl(corpus_dir, snapshot)
    ready = threading.Event()
    server = EmulatorServer(control, on_ready=ready.set)
    sock = bind_socket(host, port)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # uvicorn exits start-up failures with SystemExit
            failure.append(exc)
        finally:
            ready.set()  # wake the starter whether or not the server came up

    thread = threading.Thread(target=serve, name="edgar-emulator", daemon=True)
    thread.start()
    try:
        if not ready.wait(_STARTUP_TIMEOUT_SECONDS) or not server.started:
            raise RuntimeError("the EDGAR emulator did not start") from next(iter(failure), None)
        yield handle_for(sock, control)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
    if failure:  # the block ended normally, but the server had not
        raise RuntimeError("the EDGAR emulator failed while serving") from failure[0]


@contextlib.asynccontextmanager
async def serve_emulator(
    corpus_dir: Path, snapshot: str | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[EmulatorHandle]:
    """`run_emulator` for async code: start-up and shutdown happen off the event loop."""
    running = run_emulator(corpus_dir, snapshot, host=host, port=port)
    handle = await asyncio.to_thread(running.__enter__)
    try:
        yield handle
    finally:
        await asyncio.to_thread(running.__exit__, None, None, None)
