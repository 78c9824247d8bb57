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

from services.common.filters import INSIDER_ROLES, PRIORITIES, STAKE_KINDS, TRANSACTION_CODES
from services.common.schemas import SchemaName, schema_dict
from services.gateway.errors import HTTP_ERROR_CODES
from services.gateway.transports.json_schema import record_schemas
from services.store.query import (
    ACCESSION_PATTERN,
    CIK_PATTERN,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    NEXT_PATTERN,
    Q_MAX_CHARS,
)

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


def _listed(name: str, description: str, items: dict[str, Any]) -> dict[str, Any]:
    """A comma-separated list (`?tickers=JPM,GS`): an array, not exploded."""
    return _query(name, description, {"type": "array", "items": items}) | {
        "style": "form",
        "explode": False,
    }


_TICKER = {"type": "string", "pattern": r"^[A-Za-z0-9.\-]{1,12}$"}
_FORM = {"type": "string", "pattern": r"^[A-Za-z0-9 ./\-]{1,20}$"}
_LIST_PARAMETERS = [
    _listed("tickers", "Filings listing any of these tickers (any case).", _TICKER),
    _listed("ticker", "The same as tickers.", _TICKER),
    _listed(
        "forms",
        "Filings of any of these forms or their amendments (any case; SC 13D and SCHEDULE 13D "
        "are one form): 8-K also matches 8-K/A.",
        _FORM,
    ),
    _listed("form", "The same as forms.", _FORM),
    _query(
        "cik",
        "Filings with this CIK among their entities (1 to 10 digits).",
        {"type": "string", "pattern": CIK_PATTERN},
    ),
    _query("min_priority", "At least this priority.", {"type": "string", "enum": list(PRIORITIES)}),
    _listed(
        "items",
        "8-Ks with any of these items (5.02, ...).",
        {"type": "string", "pattern": r"^[0-9]{1,2}\.[0-9]{2}$"},
    ),
    _listed(
        "transaction_codes",
        "Forms 3/4/5 with a transaction of any of these codes.",
        {"type": "string", "enum": list(TRANSACTION_CODES)},
    ),
    _query(
        "min_value_usd",
        "Forms 3/4/5 with a transaction worth at least this many dollars.",
        {"type": "number", "minimum": 0},
    ),
    _listed(
        "insider_roles",
        "Forms 3/4/5 with a reporting owner in any of these roles.",
        {"type": "string", "enum": list(INSIDER_ROLES)},
    ),
    _query(
        "min_stake_pct",
        "Schedules 13D/13G stating at least this percent of the class.",
        {"type": "number", "minimum": 0, "maximum": 100},
    ),
    _query(
        "stake_kind",
        "Schedule 13D (active) or 13G (passive).",
        {"type": "string", "enum": list(STAKE_KINDS)},
    ),
    _query(
        "q",
        "Full text over the summary, the names (entities, insiders, holders, seller) and the "
        "document text analyze read (the text topic's): every word (letters and digits; "
        "anything else separates them) must appear; a q without a word matches nothing. At "
        f"most {Q_MAX_CHARS} characters. Every filing before as_of is searched with its text.",
        {"type": "string", "maxLength": Q_MAX_CHARS},
    ),
    _query(
        "since",
        "Filings accepted by EDGAR at or after this ISO-8601 time; without a zone it is UTC.",
        {"type": "string", "format": "date-time", "examples": ["2025-12-12T18:00:00Z"]},
    ),
    _query(
        "until",
        "Filings accepted by EDGAR before this ISO-8601 time (exclusive); without a zone, UTC.",
        {"type": "string", "format": "date-time"},
    ),
    _query(
        "limit",
        "At most this many filings.",
        {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
    ),
    _query(
        "before",
        "The `next` of the previous answer: the page after it (the same other parameters).",
        {"type": "string", "pattern": NEXT_PATTERN},
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
            "next": {
                "type": ["string", "null"],
                "description": "The `before` of the next page; null on the last one.",
            },
            "as_of": {
                "type": "string",
                "description": "The cursor of the analyzed topic this answer reflects "
                "(partition:next offset, ...): /stream?from=<as_of> with the same filters yields "
                "exactly the matching records after it, with no gap and no duplicate.",
            },
        },
        "required": ["filings", "count", "next", "as_of"],
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
            "description": "Analyzed SEC EDGAR filings, from the filings store: every record "
            "of the analyzed topic (each accession's newest), fed exactly once. Each answer "
            "says the topic position it reflects (as_of), from which /stream continues it. "
            + _SECURITY_NOTE,
        },
        "paths": {
            "/api/filings": {
                "get": {
                    "operationId": "listFilings",
                    "summary": "The filings matching the filters, newest first, a page at a time",
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
                        "503": {"$ref": _RESPONSES + "Unavailable"},
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
                        "503": {"$ref": _RESPONSES + "Unavailable"},
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
                    "Not among the filings the store holds (error: not_found)."
                ),
                "Unavailable": _error_response(
                    "The filings store cannot answer now (error: unavailable); retry."
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
