"""EDGAR emulator: a real local HTTP server that answers like www.sec.gov and data.sec.gov from
a recorded corpus, and can be told to misbehave, so that ingest and analyze are tested through
their real HTTP clients. See app.py for what it serves and control_api.py for how to steer it.

    with run_emulator(Path("samples/edgar-corpus")) as edgar:
        httpx.get(f"{edgar.base_url}/cgi-bin/browse-edgar?action=getcurrent&output=atom")
        edgar.control.faults.add(Fault(FaultKind.RATE_LIMITED, count=2, retry_after=3))
        edgar.control.switch_snapshot("2025-12-12T18-03-31")
        assert edgar.control.requests.max_in_window(1.0) <= 10
"""

from services.emulator.control import EmulatorControl
from services.emulator.faults import Fault, FaultKind
from services.emulator.request_log import LoggedRequest
from services.emulator.server import EmulatorHandle, run_emulator, serve_emulator

__all__ = [
    "EmulatorControl",
    "EmulatorHandle",
    "Fault",
    "FaultKind",
    "LoggedRequest",
    "run_emulator",
    "serve_emulator",
]
