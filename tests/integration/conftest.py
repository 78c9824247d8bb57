from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from services.common.settings import TopicSettings
from services.emulator.server import EmulatorHandle, run_emulator
from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.infra import infra_settings_for_tests, provision, topic_settings
from tests.support.records import CORPUS_DIR


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraSettings]:
    # Two test sessions on one machine (e.g. two developers' checkouts) need their own ports.
    port_offset = int(os.environ.get("SEC_DIGESTER_TEST_PORT_OFFSET", "0"))
    settings = infra_settings_for_tests(tmp_path_factory.mktemp("infra"), port_offset)
    try:
        local.up(settings)
        yield settings
    finally:
        local.down(settings)


@pytest_asyncio.fixture
async def topics(infra: InfraSettings) -> AsyncIterator[TopicSettings]:
    """A fresh set of topics (one partition) with the schemas registered for them."""
    settings = topic_settings(infra)
    await provision(settings)
    yield settings


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    """The EDGAR emulator on the bundled corpus, showing its oldest feed snapshot."""
    with run_emulator(CORPUS_DIR) as handle:
        yield handle
