"""Background Java processes that outlive the command that started them.

A process is identified by a pid file *and* a marker on its command line
(`-Dsec-digester.node=<name>@<data dir>`), so a recycled pid never makes `down` kill a stranger
and `up` never mistakes a stranger on our port for our own node.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import InfrastructureError


@dataclass(frozen=True)
class Node:
    """One managed process: its name, data directory and the port it must own."""

    name: str
    directory: Path
    port: int
    port_setting: str

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / "logs" / f"{self.name}.log"

    @property
    def marker(self) -> str:
        return f"-Dsec-digester.node={self.name}@{self.directory}"

    def running_pid(self) -> int | None:
        """The pid of our process if it is alive, else None (a stale pid file is ignored)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid if self.marker.encode() in cmdline else None

    def check_port_free(self, host: str) -> None:
        check_port_free(host, self.port, self.port_setting, self.name)

    def start(self, command: list[str]) -> int:
        """Start detached, in its own session so Ctrl-C in the terminal does not reach it.

        posix_spawn rather than Popen: nothing in this process owns the child afterwards, and
        a dropped Popen object complains that its child is still running.
        """
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        java, *rest = command
        append = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        pid = os.posix_spawnp(
            java,
            [java, self.marker, *rest],
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(self.log_file), append, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        self.pid_file.write_text(f"{pid}\n")
        return pid

    def stop(self, grace_s: float) -> bool:
        """SIGTERM, wait up to `grace_s` for a clean exit, then SIGKILL. False if not running."""
        return bool(stop_together([self], grace_s))

    def crash(self) -> bool:
        """SIGKILL at once, as a crash would: no controlled shutdown, nothing handed over (the
        fault tests' kill -9). False if not running."""
        pid = self.running_pid()
        if pid is None:
            return False
        _kill(self, pid)
        return True

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the log, after its first errors: a JVM that fails logs why, then
        pages of orderly shutdown."""
        try:
            logged = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        errors = [line for line in logged if " ERROR " in line or " FATAL " in line][:3]
        tail = logged[-lines:]
        return "\n".join([*(line for line in errors if line not in tail), *tail])


def stop_together(nodes: Sequence[Node], grace_s: float) -> list[Node]:
    """SIGTERM every node at once, wait up to `grace_s` for all to exit cleanly, then SIGKILL
    what is left. Returns the nodes that were running."""
    running: list[tuple[Node, int]] = []
    for node in nodes:
        pid = node.running_pid()
        if pid is None:
            node.pid_file.unlink(missing_ok=True)
        else:
            running.append((node, pid))
    for _, pid in running:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(pid) for _, pid in running):
        time.sleep(0.2)
    for node, pid in running:
        _kill(node, pid)
    return [node for node, _ in running]


def _kill(node: Node, pid: int) -> None:
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    node.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        # A zombie still has a pid; only a running process counts.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def check_port_free(host: str, port: int, setting: str, owner: str) -> None:
    if port_in_use(host, port):
        raise InfrastructureError(
            f"port {port} ({setting}) on {host} is already in use by another "
            f"process, so {owner} cannot listen there: stop it or choose another port"
        )


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0
