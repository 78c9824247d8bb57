"""`sec-digester`'s command table: every declaration resolves, and a command line imports only
what its own command needs."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.cli import COMMANDS, build_parser
from services.command import Command
from services.common.errors import ConfigurationError
from services.common.settings import CommonSettings, load_settings
from services.gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]

# What tail (a WebSocket client of the gateway) never needs: the Kafka client, the registry
# client and its Avro library, the LLM client, the web server, Parquet.
NOT_FOR_TAIL = (
    "confluent_kafka",
    "confluent_kafka.schema_registry",
    "fastavro",
    "litellm",
    "openai",
    "uvicorn",
    "starlette",
    "pyarrow",
)


# `python -m services <args>`, then the names of every module it imported, as the last line
# of stderr (argparse's --help exits, so they are printed at exit).
_RUN_AND_LIST_MODULES = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["sec-digester", *sys.argv[1:]]
runpy.run_module("services", run_name="__main__", alter_sys=True)
"""


def _modules_imported_by(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    process = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules: list[str] = json.loads(process.stderr.splitlines()[-1])
    return process, set(modules)


def test_tail_help_imports_neither_kafka_nor_the_registry_nor_litellm() -> None:
    process, modules = _modules_imported_by("tail", "--help")
    assert process.returncode == 0, process.stderr[-2000:]
    assert "--ticker" in process.stdout, "tail's settings flags are listed"
    assert "services.tail.settings" in modules
    assert sorted(modules & set(NOT_FOR_TAIL)) == []


def test_the_command_list_imports_no_commands_settings() -> None:
    process, modules = _modules_imported_by("--help")
    assert process.returncode == 0, process.stderr[-2000:]
    for command in COMMANDS:
        assert command.path[0] in process.stdout
    settings_modules = {m for m in modules if m.startswith("services.") and "settings" in m}
    assert settings_modules == {"services.common.settings"}
    assert "confluent_kafka" not in modules


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c.path))
def test_each_declared_command_resolves(command: Command) -> None:
    settings = command.settings_class()
    assert isinstance(settings, type)
    assert issubclass(settings, CommonSettings)
    assert inspect.iscoroutinefunction(command.runner())


def test_no_two_commands_share_their_words() -> None:
    paths = [command.path for command in COMMANDS]
    assert len(set(paths)) == len(paths)


def test_gateway_workers_is_a_flag_and_a_setting_and_refuses_zero() -> None:
    words = ["gateway", "--workers", "3"]
    args = vars(build_parser(COMMANDS, words).parse_args(words))
    assert args["setting:gateway_workers"] == "3"
    assert load_settings(GatewaySettings, {"gateway_workers": "3"}).gateway_workers == 3
    assert load_settings(GatewaySettings).gateway_workers == 1
    with pytest.raises(ConfigurationError, match="GATEWAY_WORKERS"):
        load_settings(GatewaySettings, {"gateway_workers": "0"})
