"""HTTP face of `EmulatorControl`, under /_emulator/, for tests whose client runs in another
process than the emulator (or that drive a `python -m services.emulator` process):

    GET    /_emulator/snapshot    {"current": NAME, "available": [NAME, ...]}
    PUT    /_emulator/snapshot    body {"name": NAME, "without_newest": N}  -> 200, 404 unknown
    POST   /_emulator/daily-index body {"day": "YYYY-MM-DD", "recorded": PATH} -> 204, 404 unknown
    GET    /_emulator/faults      the queued faults, each with the count it has left
    POST   /_emulator/faults      body {"kind": "429"|"403"|"stall"|"truncate"|"malformed"|
                                  "reset", "count": K, "path_prefix": "/cgi-bin/",
                                  "retry_after": S, "stall_seconds": D}   -> 201, 400 invalid
    DELETE /_emulator/faults      drop every queued fault                  -> 204
    GET    /_emulator/requests    the request log, oldest first
    DELETE /_emulator/requests    empty the request log                    -> 204
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from services.emulator.control import EmulatorControl
from services.emulator.faults import Fault

CONTROL_PREFIX = "/_emulator"
_FAULT = TypeAdapter(Fault)


def control_routes(control: EmulatorControl) -> list[BaseRoute]:
    async def snapshot(request: Request) -> Response:
        if request.method == "PUT":
            try:
                body = await _json_object(request)
                control.switch_snapshot(
                    str(body.get("name")), without_newest=int(body.get("without_newest", 0))
                )
            except (ValueError, TypeError) as exc:  # not JSON, or not an object
                return JSONResponse({"error": str(exc)}, status_code=400)
            except KeyError as exc:
                return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(
            {"current": control.snapshot.name, "available": list(control.snapshots)}
        )

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                fault = _FAULT.validate_python(await _json_object(request))
            except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
                return JSONResponse({"error": str(exc)}, status_code=400)
            control.faults.add(fault)
            return JSONResponse(_fault_json(fault), status_code=201)
        if request.method == "DELETE":
            control.faults.clear()
            return Response(status_code=204)
        return JSONResponse([_fault_json(fault) for fault in control.faults.pending()])

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            control.requests.clear()
            return Response(status_code=204)
        return JSONResponse([logged.to_json() for logged in control.requests.snapshot()])

    async def daily_index(request: Request) -> Response:
        try:
            body = await _json_object(request)
            day = dt.date.fromisoformat(str(body.get("day")))
            control.publish_daily_index(day, str(body.get("recorded")))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except KeyError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return Response(status_code=204)

    return [
        Route(f"{CONTROL_PREFIX}/snapshot", snapshot, methods=["GET", "PUT"]),
        Route(f"{CONTROL_PREFIX}/daily-index", daily_index, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/requests", requests, methods=["GET", "DELETE"]),
    ]


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise TypeError("the request body must be a JSON object")
    return body


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {**dataclasses.asdict(fault), "kind": fault.kind.value}
