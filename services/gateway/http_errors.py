"""The JSON error body of the gateway's HTTP answers, as docs/gateway-protocol.md fixes it.

`{"error": "<code>", "message": "<what was wrong, naming the parameter>"}` with status 400, 401,
404 or 429. The codes are those of the WebSocket `error` frames, so a client handles one set of
codes whichever transport it uses. The OpenAPI document (openapi.py) lists the same codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from starlette.responses import JSONResponse

ErrorCode = Literal["bad_parameter", "unauthorized", "not_found", "too_many_connections"]
ERROR_CODES: tuple[ErrorCode, ...] = get_args(ErrorCode)


def error_response(
    status: int, code: ErrorCode, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)
