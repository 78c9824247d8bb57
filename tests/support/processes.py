"""The services as separate OS processes, as they run in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Self


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServiceProcess:
    """`python -m services <args>` with its output kept in `log_dir` for the test's artifacts.

    With `separate_stdout`, stdout (a command's machine-readable output) goes to its own file,
    `stdout_path`, and only stderr to the log."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        log_dir: Path,
        *,
        separate_stdout: bool = False,
    ) -> None:
        self.name = name
        self._separate_stdout = separate_stdout
        self._args = args
        self._env = env
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self._log_dir / f"{self.name}.log"

    @property
    def stdout_path(self) -> Path:
        return self._log_dir / f"{self.name}.stdout" if self._separate_stdout else self.log_path

    def start(self) -> Self:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log_path.open("ab") as log, self.stdout_path.open("ab") as stdout:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "services", *self._args],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=log if self._separate_stdout else subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a node dies."""
        self.signal(signal.SIGKILL)
        self.wait(timeout_s=30)

    def wait(self, timeout_s: float) -> int:
        assert self._process is not None
        return self._process.wait(timeout=timeout_s)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.running():
            self.signal(signal.SIGTERM)
            try:
                self.wait(timeout_s=30)
            except subprocess.TimeoutExpired:
                self.kill()
