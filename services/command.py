"""`Command`: how a package declares a subcommand of `sec-digester`.

Each package that owns subcommands lists them in its `commands` module (`COMMANDS`), which
imports nothing but this module: the console script reads every declaration to build its
parser, and must not pay for any command's dependencies while doing so.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from services.common.settings import CommonSettings

Runner = Callable[[Any], Coroutine[Any, Any, int]]


@dataclass(frozen=True)
class Command:
    """A subcommand: its words, its help line, its settings class and the coroutine that runs
    it with a settings object and returns the exit code.

    `settings` and `run` are "module:attribute", imported only when this command is the one
    given: one command's dependencies (litellm, uvicorn, the registry client, ...) never slow
    down or break another's, nor `--help`.
    """

    path: tuple[str, ...]
    help: str
    settings: str
    run: str
    # uvloop's event loop (libuv, its transports in C) for a command whose loop is its hot
    # path: the gateway writes every record to every client's socket.
    uvloop: bool = False

    def settings_class(self) -> type[CommonSettings]:
        return cast("type[CommonSettings]", _load(self.settings))

    def runner(self) -> Runner:
        return cast(Runner, _load(self.run))


def event_loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when asked for (imported only then), else asyncio's default (None)."""
    if not use_uvloop:
        return None
    import uvloop

    return uvloop.new_event_loop


def _load(reference: str) -> object:
    module, attribute = reference.split(":")
    loaded: object = getattr(importlib.import_module(module), attribute)
    return loaded
