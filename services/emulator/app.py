"""The emulator's Starlette app: EDGAR's paths, answered from the recorded corpus.

- /cgi-bin/browse-edgar?action=getcurrent&output=atom&start=N&count=C: entries [N, N+C) of the
  current snapshot's merged feed, each <entry> re-emitted byte for byte under the feed header
  of a recorded page. `count` defaults to 40 and is capped at 100, as on EDGAR; `type` and
  `owner` are accepted and not applied (the recordings were taken with type= and
  owner=include). Past the last entry the answer is what EDGAR answered past the recorded
  pages (a 503 "File Unavailable" page in the corpus), or an empty feed.
- every other recorded www.sec.gov path at that path, data.sec.gov paths under /data.sec.gov,
  with the recorded status and Content-Type, ETag and Last-Modified, and 304 to a matching
  conditional GET;
- 404 for anything else, as EDGAR answers for a filing it does not have;
- /_emulator/...: the control endpoints (control_api.py).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.emulator.control import EmulatorControl
from services.emulator.control_api import control_routes
from services.emulator.middleware import FaultsAndLogMiddleware

GETCURRENT_PATH = "/cgi-bin/browse-edgar"
DEFAULT_COUNT = 40
MAX_COUNT = 100
_NOT_FOUND_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>SEC.gov | Page Not Found</title></head>
<body><h1>Page Not Found</h1></body></html>
"""


def build_app(control: EmulatorControl) -> Starlette:
    async def getcurrent(request: Request) -> Response:
        query = request.query_params
        if query.get("action") != "getcurrent" or query.get("output") != "atom":
            return _not_found()
        try:
            start = int(query.get("start") or 0)
            count = int(query.get("count") or DEFAULT_COUNT)
        except ValueError:
            return Response(b"start and count must be integers", 400, media_type="text/plain")
        if start < 0 or count < 1:
            return Response(b"start must be >= 0, count >= 1", 400, media_type="text/plain")
        return _feed_page(control, start=start, count=min(count, MAX_COUNT))

    async def recorded(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        found = control.files.find(target)
        if found is None:
            return _not_found()
        if found.not_modified(request.headers):
            return Response(status_code=304, headers=found.validators)
        headers = {"content-type": found.content_type, **found.validators}
        return Response(found.path.read_bytes(), found.status, headers=headers)

    return Starlette(
        routes=[
            *control_routes(control),
            Route(GETCURRENT_PATH, getcurrent, methods=["GET"]),
            Route("/{path:path}", recorded, methods=["GET"]),
        ],
        middleware=[Middleware(FaultsAndLogMiddleware, control=control)],
    )


def _feed_page(control: EmulatorControl, *, start: int, count: int) -> Response:
    snapshot = control.snapshot
    past_end = snapshot.past_end
    if start >= len(snapshot.entries) and past_end is not None:
        body = (control.corpus_dir / past_end.path).read_bytes()
        return Response(body, past_end.status, headers={"content-type": past_end.content_type})
    entries = snapshot.entries[start : start + count]
    body = snapshot.header + b"\n".join(entry.xml for entry in entries) + snapshot.trailer
    return Response(body, 200, headers={"content-type": "application/atom+xml"})


def _not_found() -> Response:
    return Response(_NOT_FOUND_PAGE, 404, headers={"content-type": "text/html"})
