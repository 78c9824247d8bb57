"""`sec-digester`: one console script, one subcommand per job.

Every setting of a command's settings class is also a flag (`KAFKA_BOOTSTRAP_SERVERS` is
`--kafka-bootstrap-servers`), so environment and flags always agree; a flag wins. The settings
object is built and validated here, once, and passed down.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.errors import ConfigurationError, SecDigesterError
from services.common.logging import configure_logging
from services.common.settings import CommonSettings, load_settings


@dataclass(frozen=True)
class Command:
    """A subcommand: its settings class and the coroutine that runs it (returns exit code).

    `run` is "module:function", imported only when that command runs: one service's
    dependencies (litellm, uvicorn, ...) never slow down or break another's command.
    """

    path: tuple[str, ...]
    help: str
    settings: type[CommonSettings]
    run: str

    def runner(self) -> Callable[[Any], Coroutine[Any, Any, int]]:
        module, function = self.run.split(":")
        loaded: Callable[[Any], Coroutine[Any, Any, int]] = getattr(
            importlib.import_module(module), function
        )
        return loaded


def _commands() -> list[Command]:
    from services import commands

    return commands.COMMANDS


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


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
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
        _add_setting_flags(leaf, command.settings)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(_commands())
    args = parser.parse_args(argv)
    command: Command = args.handler
    overrides = {
        key.removeprefix("setting:"): value
        for key, value in vars(args).items()
        if key.startswith("setting:")
    }
    try:
        settings = load_settings(command.settings, overrides)
        configure_logging(settings.log_level, settings.log_format)
        code = asyncio.run(command.runner()(settings))
    except ConfigurationError as exc:
        print(f"sec-digester: {exc}", file=sys.stderr)
        sys.exit(2)
    except SecDigesterError as exc:
        print(f"sec-digester {' '.join(command.path)}: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)
