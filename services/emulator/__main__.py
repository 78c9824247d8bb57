"""python -m services.emulator --corpus DIR [--snapshot NAME] [--host H] [--port P]

Serves the corpus until SIGTERM or SIGINT, then exits 0. Prints one line when it accepts
connections, `EDGAR emulator ready: base_url=http://H:P data_url=http://H:P/data.sec.gov`,
so a parent process (or a person) knows where it is, also when --port 0 picks the port.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from services.common.logging import configure_logging
from services.emulator.control import EmulatorControl
from services.emulator.server import EmulatorServer, bind_socket, handle_for


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.emulator", description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="recorded corpus directory")
    parser.add_argument("--snapshot", help="getcurrent snapshot to show (default: the oldest)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    configure_logging()

    control = EmulatorControl(args.corpus, args.snapshot)
    sock = bind_socket(args.host, args.port)
    handle = handle_for(sock, control)

    def announce() -> None:
        print(
            f"EDGAR emulator ready: base_url={handle.base_url} data_url={handle.data_url}",
            flush=True,
        )

    server = EmulatorServer(control, on_ready=announce)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
