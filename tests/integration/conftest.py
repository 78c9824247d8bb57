from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator

import pytest
import pytest_asyncio

from services.common.settings import TopicSettings
from services.emulator.server import EmulatorHandle, run_emulator
from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.infra import (
    SHARED_THREE_NODE_OFFSET,
    infra_settings_for_tests,
    provision,
    session_port_offset,
    topic_settings,
)
from tests.support.records import CORPUS_DIR

# The tests on a three-node cluster run one after another on one xdist worker (`make test` runs
# `--dist loadgroup`): a second worker's cluster would be three more brokers on the same cores.
_THREE_NODE_FIXTURES = {"infra3", "own_infra3"}


@pytest.hookimpl(wrapper=True)  # around xdist's hook, which reads the groups off the markers
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
        if _THREE_NODE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("three_nodes"))
    yield
    # xdist groups by a suffix it adds to the node id; a pytest that ignores it (9.2, xdist
    # issue #1386) would spread the group silently, so say so instead.
    if getattr(config.option, "loadgroup", False):
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
                raise pytest.UsageError(f"xdist did not group {item.nodeid}")


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraSettings]:
    settings = infra_settings_for_tests(tmp_path_factory.mktemp("infra"), session_port_offset())
    try:
        local.up(settings)
        yield settings
    finally:
        local.down(settings)


@pytest.fixture(scope="session")
def _infra3_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraSettings]:
    offset = session_port_offset() + SHARED_THREE_NODE_OFFSET
    settings = infra_settings_for_tests(tmp_path_factory.mktemp("infra3"), offset, nodes=3)
    try:
        local.up(settings)
        yield settings
    finally:
        local.down(settings)


@pytest.fixture
def infra3(_infra3_session: InfraSettings) -> Iterator[InfraSettings]:
    """The session's three-node cluster (each node a broker and a controller, internal topics
    with three copies) and its registry, beside the single-node `infra`. A test may kill nodes
    (`tests.support.infra.kill_node`): whatever is down afterwards is started again, so the
    next test finds the cluster whole."""
    yield _infra3_session
    local.up(_infra3_session)


@pytest_asyncio.fixture
async def topics(infra: InfraSettings) -> AsyncIterator[TopicSettings]:
    """A fresh set of topics (one partition) with the schemas registered for them."""
    settings = topic_settings(infra)
    await provision(settings)
    yield settings


@pytest_asyncio.fixture
async def three_partitions(infra: InfraSettings) -> AsyncIterator[TopicSettings]:
    """Like `topics`, with three partitions."""
    settings = topic_settings(infra, partitions=3)
    await provision(settings)
    yield settings


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    """The EDGAR emulator on the bundled corpus, showing its oldest feed snapshot."""
    with run_emulator(CORPUS_DIR) as handle:
        yield handle
