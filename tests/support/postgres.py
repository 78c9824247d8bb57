"""A PostgreSQL for the session's tests (Debian's package, `make postgres`), on port
15432 + the session's port offset (SEC_DIGESTER_TEST_PORT_OFFSET, and the xdist worker's
share): started once, stopped and removed at the session's end. Without the binaries the tests
that need it fail, never skip. Each test gets a schema of its own (`pg_schema`)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.errors import InfrastructureError
from services.infra.postgres import LocalPostgres
from tests.support.infra import session_port_offset

TEST_POSTGRES_PORT = 15432


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    # Under /tmp, which the postgres user can reach when the tests run as root (pytest's own
    # temporary directories are private to root).
    base = Path(tempfile.mkdtemp(prefix="sec-digester-pg-"))
    base.chmod(0o755)
    server = LocalPostgres(base / "data", TEST_POSTGRES_PORT + session_port_offset(), durable=False)
    try:
        server.up()
    except InfrastructureError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL for the tests: {exc}")
    try:
        yield server
    finally:
        server.down()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_schema() -> str:
    """A schema no other test uses: tests share the server, never their tables."""
    return f"test_{uuid.uuid4().hex[:12]}"
