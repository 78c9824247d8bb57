"""`GET /openapi.json`: the OpenAPI 3.1 document of the gateway's REST part (rest.py).

Written by hand for the paths, parameters and errors (Starlette's SchemaGenerator only collects
docstrings). The parameter limits are defined here and enforced by rest.py, and the record
schemas are derived from the Avro schema (json_schema.py), so the document cannot drift from
what the gateway does. The streams (WebSocket, SSE) are described in docs/gateway-protocol.md:
OpenAPI cannot express them.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.common.schemas import SchemaName, schema_dict
from services.gateway.errors import HTTP_ERROR_CODES
from services.gateway.json_schema import record_schemas

LIMIT_DEFAULT = 50
LIMIT_MAX = 1000
ACCESSION_PATTERN = r"^\d{10}-\d{2}-\d{6}$"
_SCHEMAS = "#/components/schemas/"
_RESPONSES = "#/components/responses/"


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "Error"}}},
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_LIST_PARAMETERS = [
    _query("ticker", "Filings that list this ticker among theirs (any case).", {"type": "string"}),
    _query(
        "form",
        "Filings of this form type or its amendment (any case): 8-K also matches 8-K/A.",
        {"type": "string"},
    ),
    _query(
        "since",
        "Filings accepted by EDGAR at or after this ISO-8601 time; without a zone it is UTC.",
        {"type": "string", "format": "date-time", "examples": ["2025-12-12T18:00:00Z"]},
    ),
    _query(
        "limit",
        "At most this many filings.",
        {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
    ),
]

_ACCESSION_PARAMETER = {
    "name": "accession",
    "in": "path",
    "required": True,
    "description": "The accession number, dashed.",
    "schema": {
        "type": "string",
        "pattern": ACCESSION_PATTERN,
        "examples": ["0000950103-25-016011"],
    },
}

_SECURITY_NOTE = (
    "When the gateway has API keys configured (GATEWAY_API_KEYS) every path needs one, as "
    "`Authorization: Bearer <key>` or the `api_key` query parameter; without keys it is open."
)


@functools.cache
def openapi_document() -> dict[str, Any]:
    schemas = record_schemas(schema_dict(SchemaName.FILING_ANALYSIS), _SCHEMAS)
    schemas["FilingList"] = {
        "type": "object",
        "properties": {
            "filings": {
                "type": "array",
                "items": {"$ref": _SCHEMAS + "FilingAnalysis"},
                "description": "Newest accepted_at first.",
            },
            "count": {"type": "integer", "minimum": 0, "description": "Length of filings."},
        },
        "required": ["filings", "count"],
    }
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {"type": "string", "enum": [code.value for code in HTTP_ERROR_CODES]},
            "message": {"type": "string", "description": "What was wrong, naming the parameter."},
        },
        "required": ["error", "message"],
    }
    unauthorized = {"$ref": _RESPONSES + "Unauthorized"}
    bad_parameter = {"$ref": _RESPONSES + "BadParameter"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sec-digester gateway",
            "version": importlib.metadata.version("sec-digester"),
            "description": "Recent analyzed SEC EDGAR filings, from the gateway's in-memory "
            "index of the most recent GATEWAY_INDEX_SIZE records of the analyzed topic. "
            "Older filings: replay the stream or read the topic. " + _SECURITY_NOTE,
        },
        "paths": {
            "/api/filings": {
                "get": {
                    "operationId": "listFilings",
                    "summary": "The most recent filings matching the filters, newest first",
                    "parameters": _LIST_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "The matching filings.",
                            "content": {
                                "application/json": {"schema": {"$ref": _SCHEMAS + "FilingList"}}
                            },
                        },
                        "400": bad_parameter,
                        "401": unauthorized,
                    },
                }
            },
            "/api/filings/{accession}": {
                "get": {
                    "operationId": "getFiling",
                    "summary": "One filing by accession number",
                    "parameters": [_ACCESSION_PARAMETER],
                    "responses": {
                        "200": {
                            "description": "The filing with its analysis.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": _SCHEMAS + "FilingAnalysis"}
                                }
                            },
                        },
                        "400": bad_parameter,
                        "401": unauthorized,
                        "404": {"$ref": _RESPONSES + "NotFound"},
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "responses": {
                "BadParameter": _error_response("A parameter is invalid (error: bad_parameter)."),
                "Unauthorized": _error_response("Missing or wrong API key (error: unauthorized)."),
                "NotFound": _error_response(
                    "Not among the filings the gateway holds (error: not_found)."
                ),
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": _SECURITY_NOTE},
                "apiKeyQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "api_key",
                    "description": _SECURITY_NOTE,
                },
            },
        },
        # Either scheme; the empty requirement says a gateway without keys needs neither.
        "security": [{"bearer": []}, {"apiKeyQuery": []}, {}],
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document())


OPENAPI_ROUTE = Route("/openapi.json", openapi_json, methods=["GET"])
