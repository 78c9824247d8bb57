"""`sec-digester gateway --workers N`: N gateway processes sharing one port.

One process's fan-out is bound by one core (a write per client and record,
services/gateway/stream/fanout.py). Each worker is a whole gateway — its own shared tail of
the topics, ring, index and lifespan — listening on the port with SO_REUSEPORT, so the kernel
spreads new connections over the workers and each fans out to its share of the clients.
Nothing is shared between them: a client's stream, cursor and acknowledgements live in the
worker it connected to, and a durable client that reconnects to another worker resumes from
Kafka as it would on another instance.

The parent only starts the workers, passes SIGTERM (and Ctrl-C) on, and waits. A worker that
ends on its own ends the others too (the gateway is then restarted as a whole, by systemd or
Kubernetes); the exit code is the first non-zero one of the workers.

The filings store is one SQLite file: the first worker feeds it, every worker answers REST
from it.

/metrics is the whole gateway's whichever worker answers: the workers write prometheus_client's
multiprocess files into a directory of the parent's, and each worker's /metrics merges them
(counters and histograms summed, gauges as services/gateway/metrics.py says). /healthz and
/readyz are the answering worker's.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
from multiprocessing.process import BaseProcess

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from services.command import event_loop_factory
from services.common.errors import SecDigesterError
from services.common.logging import configure_logging
from services.gateway.process.server import serve
from services.gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other processes may bind too (SO_REUSEPORT)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def _worker(settings: GatewaySettings, index: int, metrics_dir: str) -> None:
    """A worker process: one gateway on the shared port, on uvloop like `sec-digester gateway`."""
    metrics = CollectorRegistry()
    MultiProcessCollector(metrics, path=metrics_dir)  # type: ignore[no-untyped-call]

    configure_logging(settings.log_level, settings.log_format)
    structlog.contextvars.bind_contextvars(worker=index)
    # One writer for the filings store's file: the first worker feeds it, the others read it.
    if index:
        settings = settings.model_copy(update={"gateway_store_feeder": False})
    sock = shared_port_socket(settings.gateway_host, settings.gateway_port)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory(True)) as runner:
            code = runner.run(serve(settings, [sock], metrics))
    except SecDigesterError as exc:
        print(f"sec-digester gateway (worker {index}): {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:  # Ctrl-C: uvicorn re-raises it once shut down, as the CLI does
        code = 130
    sys.exit(code)


async def _ended(worker: BaseProcess, metrics_dir: str) -> None:
    await asyncio.to_thread(worker.join)
    assert worker.pid is not None
    # Its live gauges no longer count (prometheus_client leaves this function untyped).
    mark_process_dead(worker.pid, metrics_dir)  # type: ignore[no-untyped-call]


def _exit_code(process: BaseProcess, stopped: bool) -> int:
    code = process.exitcode
    assert code is not None
    if stopped and code == -signal.SIGTERM:
        # uvicorn re-raises the signal it shut down on, once shut down: a clean stop.
        return 0
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


async def run_workers(settings: GatewaySettings) -> int:
    structlog.contextvars.bind_contextvars(service="gateway")
    with tempfile.TemporaryDirectory(prefix="sec-digester-metrics-") as metrics_dir:
        # prometheus_client reads this when a worker imports it: its metrics go to files there.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        try:
            return await _run(settings, metrics_dir)
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


async def _run(settings: GatewaySettings, metrics_dir: str) -> int:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no loop, no threads
    workers = [
        context.Process(target=_worker, args=(settings, n, metrics_dir), name=f"gateway-worker-{n}")
        for n in range(settings.gateway_workers)
    ]
    for worker in workers:
        worker.start()
    log.info("gateway workers started", pids=[w.pid for w in workers], port=settings.gateway_port)

    stopped: set[BaseProcess] = set()  # sent SIGTERM

    def stop_all() -> None:
        # SIGTERM even for Ctrl-C: the workers got the terminal's SIGINT themselves, and a
        # second SIGINT would make uvicorn skip its graceful shutdown.
        for worker in workers:
            if worker.pid is not None and worker.exitcode is None:
                stopped.add(worker)
                os.kill(worker.pid, signal.SIGTERM)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_all)
    try:
        ended = [asyncio.create_task(_ended(w, metrics_dir)) for w in workers]
        await asyncio.wait(ended, return_when=asyncio.FIRST_COMPLETED)
        stop_all()  # one ended (a signal, or on its own): the others end too
        await asyncio.gather(*ended)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    codes = [_exit_code(w, w in stopped) for w in workers]
    log.info("gateway workers ended", exit_codes=codes)
    return next((code for code in codes if code != 0), 0)
