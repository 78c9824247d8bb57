"""`sec-digester demo`: the whole pipeline, locally, on the bundled recorded EDGAR corpus.

Starts the local Kafka and registry, creates the topics and registers the schemas, then runs
each service as its own process, as in production: an EDGAR emulator serving the recorded
corpus (analyze reads filing documents from it), ingest replaying the corpus (`--live` polls
real EDGAR instead), analyze (offline unless LLM_MODEL is set) and the gateway. Ctrl-C stops the
services cleanly (SIGTERM, then SIGKILL after a grace period); Kafka and the registry keep
running (`sec-digester infra down` stops them). Running it again resumes: ingest skips what it
emitted, analyze continues from its committed offsets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from services.common.registry import open_registry, register_subjects
from services.common.settings import shared_environment
from services.common.topics import create_topics
from services.demo.settings import DemoSettings
from services.infra import local

_GRACE_S = 20.0


@dataclass
class Child:
    name: str
    process: asyncio.subprocess.Process
    log: Path


async def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> Child:
    log = logs / f"demo-{name}.log"
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *args,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Child(name, process, log)


async def _stop(children: list[Child]) -> None:
    """SIGTERM to every child (in reverse order of start), SIGKILL to what is left after grace."""
    for child in reversed(children):
        if child.process.returncode is None:
            child.process.send_signal(signal.SIGTERM)
    waits = [asyncio.wait_for(c.process.wait(), _GRACE_S) for c in children]
    for child, outcome in zip(
        children, await asyncio.gather(*waits, return_exceptions=True), strict=True
    ):
        if isinstance(outcome, TimeoutError):
            child.process.kill()
            await child.process.wait()
        print(f"  {child.name}: stopped (exit {child.process.returncode})", file=sys.stderr)


async def _provision(settings: DemoSettings) -> DemoSettings:
    print("starting local Kafka and the schema registry ...", file=sys.stderr)
    await asyncio.to_thread(local.up, settings)
    on_local = settings.model_copy(
        update={
            "kafka_bootstrap_servers": settings.bootstrap_servers,
            "schema_registry_url": settings.registry_url,
        }
    )
    await create_topics(on_local)
    async with open_registry(on_local) as registry:
        await register_subjects(registry, on_local, settings.schema_compatibility)
    return on_local


def _environment(settings: DemoSettings) -> dict[str, str]:
    env = dict(os.environ) | shared_environment(settings)
    env["GATEWAY_PORT"] = str(settings.gateway_port)
    if not settings.demo_live:
        emulator = f"http://127.0.0.1:{settings.demo_emulator_port}"
        env |= {"EDGAR_BASE_URL": emulator, "EDGAR_DATA_URL": f"{emulator}/data.sec.gov"}
    return env


async def run_demo(settings: DemoSettings) -> int:
    local_settings = await _provision(settings)
    env, logs = _environment(local_settings), settings.infra_dir / "logs"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    children: list[Child] = []
    try:
        if not settings.demo_live:
            children.append(
                await _start(
                    "emulator",
                    [
                        "services.emulator",
                        "--corpus",
                        str(settings.demo_corpus),
                        "--port",
                        str(settings.demo_emulator_port),
                    ],
                    env,
                    logs,
                )
            )
        source = (
            ["--source", "live"]
            if settings.demo_live
            else [
                "--source",
                "replay",
                "--corpus",
                str(settings.demo_corpus),
                "--speed",
                str(settings.demo_speed),
            ]
        )
        children.append(await _start("ingest", ["services", "ingest", *source], env, logs))
        children.append(await _start("analyze", ["services", "analyze"], env, logs))
        children.append(await _start("gateway", ["services", "gateway"], env, logs))
        port = settings.gateway_port
        what = "live EDGAR" if settings.demo_live else "replaying the recorded corpus"
        print(
            f"""
sec-digester demo is running ({what}).
  dashboard:  http://127.0.0.1:{port}/
  WebSocket:  {sys.executable} -m websockets 'ws://127.0.0.1:{port}/stream?from=earliest&min_priority=high'
  REST:       curl 'http://127.0.0.1:{port}/api/filings?limit=5'
  logs:       {logs}/demo-*.log
Ctrl-C stops the services; `sec-digester infra down` stops Kafka and the registry.
""",
            file=sys.stderr,
        )
        await _supervise(children, stop)
    finally:
        print("stopping ...", file=sys.stderr)
        await _stop(children)
    return 0


async def _supervise(children: list[Child], stop: asyncio.Event) -> None:
    """Until Ctrl-C; a service that dies (not ingest finishing its replay) ends the demo."""
    while not stop.is_set():
        for child in children:
            code = child.process.returncode
            if code is not None and not (child.name == "ingest" and code == 0):
                print(f"{child.name} exited with {code}; see {child.log}", file=sys.stderr)
                return
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            continue
