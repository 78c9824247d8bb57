"""`sec-digester`: one console script, one subcommand per job.

Every setting of a command's settings class is also a flag (`KAFKA_BOOTSTRAP_SERVERS` is
`--kafka-bootstrap-servers`), so environment and flags always agree; a flag wins. The settings
object is built and validated here, once, and passed down.

Each package declares its subcommands in its `commands` module; their settings classes and run
functions are imported only for the command given, so `sec-digester tail` loads what tail
needs and nothing of Kafka, the registry or litellm.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from services.alerts.commands import COMMANDS as ALERTS_COMMANDS
from services.analyze.commands import COMMANDS as ANALYZE_COMMANDS
from services.command import Command, event_loop_factory
from services.common.errors import ConfigurationError, SecDigesterError
from services.common.logging import configure_logging
from services.common.settings import CommonSettings, load_settings
from services.demo.commands import COMMANDS as DEMO_COMMANDS
from services.export.commands import COMMANDS as EXPORT_COMMANDS
from services.gateway.commands import COMMANDS as GATEWAY_COMMANDS
from services.infra.commands import COMMANDS as INFRA_COMMANDS
from services.ingest.commands import COMMANDS as INGEST_COMMANDS
from services.mcp_relay.commands import COMMANDS as MCP_COMMANDS
from services.provision.commands import COMMANDS as PROVISION_COMMANDS
from services.store.commands import COMMANDS as STORE_COMMANDS
from services.tail.commands import COMMANDS as TAIL_COMMANDS

COMMANDS: list[Command] = [
    *INFRA_COMMANDS,
    *PROVISION_COMMANDS,
    *INGEST_COMMANDS,
    *ANALYZE_COMMANDS,
    *GATEWAY_COMMANDS,
    *DEMO_COMMANDS,
    *TAIL_COMMANDS,
    *EXPORT_COMMANDS,
    *ALERTS_COMMANDS,
    *STORE_COMMANDS,
    *MCP_COMMANDS,
]


def _add_setting_flags(parser: argparse.ArgumentParser, settings: type[CommonSettings]) -> None:
    group = parser.add_argument_group("settings (flag or environment variable)")
    aliases: dict[str, str] = getattr(settings, "FLAG_ALIASES", {})
    for name, field in settings.model_fields.items():
        flags = [f"--{name.replace('_', '-')}"]
        if name in aliases:
            flags.insert(0, f"--{aliases[name]}")
        # A boolean flag alone means true (`--json`); `--json false` still works.
        switch: dict[str, Any] = {"nargs": "?", "const": "true"} if field.annotation is bool else {}
        group.add_argument(
            *flags,
            dest=f"setting:{name}",
            metavar=name.upper(),
            help=f"{field.description or ''} (env {name.upper()}, default {field.default!r})",
            **switch,
        )


def _named_command(commands: Sequence[Command], argv: Sequence[str]) -> Command | None:
    """The command whose words begin `argv` (None for `--help`, a group alone, a typo)."""
    return next((c for c in commands if tuple(argv[: len(c.path)]) == c.path), None)


def build_parser(commands: Sequence[Command], argv: Sequence[str]) -> argparse.ArgumentParser:
    """A parser for `argv`. Every command is listed, but only the one `argv` names gets its
    settings flags: adding them imports its settings class, and those of the others (and what
    they import) are not needed to parse this command line."""
    chosen = _named_command(commands, argv)
    parser = argparse.ArgumentParser(
        prog="sec-digester", description="Real-time SEC EDGAR filings on Kafka."
    )
    groups: dict[tuple[str, ...], Any] = {(): parser.add_subparsers(dest="command", required=True)}
    for command in commands:
        for depth in range(1, len(command.path)):
            prefix = command.path[:depth]
            if prefix not in groups:
                sub = groups[prefix[:-1]].add_parser(prefix[-1], help=f"{prefix[-1]} commands")
                groups[prefix] = sub.add_subparsers(dest=f"command_{depth}", required=True)
        leaf = groups[command.path[:-1]].add_parser(command.path[-1], help=command.help)
        leaf.set_defaults(handler=command)
        if command is chosen:
            _add_setting_flags(leaf, command.settings_class())
    return parser


def _first_failure(exc: BaseException) -> SecDigesterError | None:
    """The error to report: `exc`, or the first project error in an exception group."""
    if isinstance(exc, SecDigesterError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _first_failure(inner)) is not None:
                return found
    return None


def main(argv: Sequence[str] | None = None) -> None:
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(COMMANDS, words).parse_args(words)
    command: Command = args.handler
    overrides = {
        key.removeprefix("setting:"): value
        for key, value in vars(args).items()
        if key.startswith("setting:")
    }
    try:
        settings = load_settings(command.settings_class(), overrides)
        configure_logging(settings.log_level, settings.log_format)
        with asyncio.Runner(loop_factory=event_loop_factory(command.uvloop)) as runner:
            code = runner.run(command.runner()(settings))
    except (SecDigesterError, ExceptionGroup) as exc:
        # A command's own error, or the first of its tasks' (a task group lists them in order).
        failure = _first_failure(exc)
        if failure is None:
            raise
        if isinstance(failure, ConfigurationError):
            print(f"sec-digester: {failure}", file=sys.stderr)
            sys.exit(2)
        print(f"sec-digester {' '.join(command.path)}: {failure}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)
