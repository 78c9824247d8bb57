"""A local PostgreSQL cluster from Debian's `postgresql` package (scripts/install-postgres.sh),
for the filings store in tests and the demo: initdb'd once into its data directory, started
with pg_ctl on 127.0.0.1 only (TCP, no Unix socket), trust authentication for the `postgres`
user (local use only), stopped with `pg_ctl stop -m fast`.

PostgreSQL refuses to run as root: run by root, every command runs as the `postgres` user
(runuser), and the data directory, owned by it, must be somewhere that user can reach (a
directory under /root is not): infra_postgres.data_dir picks one.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from services.common.errors import InfrastructureError
from services.infra.settings import InfraSettings

_BINARIES = Path("/usr/lib/postgresql")
_USER = "postgres"
_INSTALL_HINT = "install Debian's package: scripts/install-postgres.sh (make postgres)"


def bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (the one with initdb)."""
    found = sorted(
        _BINARIES.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if not found:
        raise InfrastructureError(f"no PostgreSQL in {_BINARIES}/*/bin: {_INSTALL_HINT}")
    return found[0].parent


def as_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    # For tests: no fsync (a crash of the machine may lose the cluster, never a test's point).
    durable: bool = True

    @property
    def dsn(self) -> str:
        return f"postgresql://{_USER}@{self.host}:{self.port}/postgres"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"  # written by the server's user

    def running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        return self._pg_ctl("status", check=False).returncode == 0

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as db:
                db.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def up(self, timeout_s: float = 60.0) -> None:
        """initdb (once) and start, unless running; wait until it answers."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if not self.running():
            options = (
                f"-c listen_addresses={self.host} -c port={self.port}"
                " -c unix_socket_directories='' -c max_connections=100"
            )
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            self._pg_ctl(
                "start", "-w", "-t", str(int(timeout_s)), "-l", str(self.log_file), "-o", options
            )
        deadline = time.monotonic() + timeout_s
        while not self.answers():
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"PostgreSQL on port {self.port} did not answer within {timeout_s:.0f}s:\n"
                    f"{self._log_tail()}"
                )
            time.sleep(0.2)

    def down(self) -> bool:
        """Stop it (fast: sessions are ended); whether it was running."""
        if not self.running():
            return False
        self._pg_ctl("stop", "-m", "fast", "-w")
        return True

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if as_root():
            user = pwd.getpwnam(_USER)
            os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        self.data_dir.chmod(0o700)
        self._run(
            [
                str(bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                _USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
        )

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._run([str(bin_dir() / "pg_ctl"), "-D", str(self.data_dir), *args], check)

    def _run(self, command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if as_root():
            runuser = shutil.which("runuser")
            if runuser is None:
                raise InfrastructureError("PostgreSQL cannot run as root, and runuser is missing")
            command = [runuser, "-u", _USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise InfrastructureError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                f"{self._log_tail()}"
            )
        return done

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def reachable_by_postgres(path: Path) -> bool:
    """Whether the `postgres` user can reach `path` (run by root; always so otherwise)."""
    if not as_root():
        return True
    try:
        user = pwd.getpwnam(_USER)
    except KeyError:  # not installed: nothing will run there
        return True
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        mode = parent.stat()
        if mode.st_uid == user.pw_uid:
            continue
        if not mode.st_mode & 0o001:  # others may not traverse
            return False
    return True


def infra_postgres(settings: InfraSettings) -> LocalPostgres:
    """The cluster of `sec-digester infra`: INFRA_POSTGRES_PORT, its directory as the setting
    says (INFRA_POSTGRES_DIR)."""
    directory = settings.infra_postgres_dir or settings.infra_dir / "postgres"
    if settings.infra_postgres_dir is None and not reachable_by_postgres(directory):
        directory = Path("/var/lib/postgresql") / f"sec-digester-{settings.infra_postgres_port}"
    return LocalPostgres(directory, settings.infra_postgres_port, settings.infra_host)
