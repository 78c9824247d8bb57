"""Fixtures of the unit and the integration tests alike.

The session's PostgreSQL is registered here, once: registered by both folders' conftests it
was two session fixtures, and an xdist worker that ran tests of both started a second server
on the first one's port."""

from __future__ import annotations

from tests.support.postgres import pg_schema, postgres  # noqa: F401 (fixtures)
