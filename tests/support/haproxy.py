"""HAProxy (Debian's package, `make haproxy`) in front of gateway processes, with the
configuration a deployment uses (deploy/haproxy/haproxy.cfg)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.processes import free_port
from tests.support.waiting import wait_for

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
# The servers the configuration names (GATEWAY_1 ... GATEWAY_3).
SERVERS = 3


class HaproxyProcess:
    """`haproxy -f deploy/haproxy/haproxy.cfg` in the foreground, on a port of its own, in
    front of `servers` (host:port each)."""

    def __init__(self, servers: Sequence[str], log_dir: Path) -> None:
        if len(servers) != SERVERS:
            raise ValueError(f"{CONFIG.name} names {SERVERS} gateways, not {len(servers)}")
        binary = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
        if binary is None:
            raise RuntimeError("haproxy is not installed: run `make haproxy`")
        self._binary = binary
        self.port = free_port()
        self._env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HAPROXY_BIND": f"127.0.0.1:{self.port}",
        } | {f"GATEWAY_{n}": server for n, server in enumerate(servers, start=1)}
        self.log_path = log_dir / "haproxy.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    def __enter__(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self._binary, "-db", "-f", str(CONFIG)],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._listening, timeout_s=15, what="haproxy listening")
        return self

    def _listening(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise RuntimeError(f"haproxy exited: {self.log_path.read_text(errors='replace')}")
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)  # hard stop: every connection closed
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
