"""`sec-digester tail`: the live stream in a terminal, or as JSON lines for a pipe.

Built on the client library, so it reconnects, resumes and dedupes like any client; with
`--client-id` its position is durable. Records go to stdout, everything else (the library's
logs, errors, a gap: records removed before they were read) to stderr. SIGTERM or Ctrl-C stops
it between two records (printing one is not interruptible): the last one printed is
acknowledged, so a restart with the same `--client-id` neither repeats nor skips one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys

from sec_digester_client import ClientConfig, Gap, StreamClient

from services.common.lifecycle import shutdown_event, until_stopped
from services.tail.render import render_json, render_line
from services.tail.settings import TailSettings
from services.tail.stream_client import client_errors


async def run_tail(settings: TailSettings) -> int:
    config = settings.client_config(
        client_id=settings.tail_client_id,
        tickers=settings.tail_tickers,
        forms=settings.tail_forms,
        items=settings.tail_items,
        min_priority=settings.tail_min_priority,
        transaction_codes=settings.tail_transaction_codes,
        min_value_usd=settings.tail_min_value_usd,
        insider_roles=settings.tail_insider_roles,
        start=settings.tail_from,
        on_gap=settings.tail_on_gap,
    )
    # Cut to the terminal's width only when a person reads it.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    print(f"tail: following {settings.gateway_url} (Ctrl-C stops)", file=sys.stderr)
    with client_errors():
        try:
            await until_stopped(shutdown_event(), _follow(config, settings.tail_json, width))
        except BrokenPipeError:
            # The reader went away (`| head`): not an error, but nothing more can be written,
            # not even the flush at exit.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _report_gap(gap: Gap) -> None:
    print(f"tail: gap: {gap.describe()}", file=sys.stderr, flush=True)


async def _follow(config: ClientConfig, as_json: bool, width: int | None) -> None:
    reporter = _report_gap if config.on_gap == "report" else None
    async with StreamClient(config, gap_handler=reporter) as client:
        async for record in client:  # acknowledged when the loop asks for the next one
            sys.stdout.write(
                (render_json(record) if as_json else render_line(record, width)) + "\n"
            )
            sys.stdout.flush()
