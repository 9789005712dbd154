"""One error shape for every API failure::

    {"error": {"status": 422, "code": "invalid_input", "message": "...", "problems": [...]}}

``problems`` lists the importer's located problems (file/row/column/value/message/fix)
or the request fields that failed validation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from negah.errors import InputError, NegahError, StoreError

log = logging.getLogger("negah.api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "store_busy",
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "problems": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}


def error_body(status: int, message: str, problems: list | None = None, code: str | None = None) -> dict:
    return {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "problems": problems or [],
        }
    }


def error_response(
    status: int, message: str, problems: list | None = None, headers: dict | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, problems), status_code=status, headers=headers)


def _problems(e: InputError) -> list[dict[str, Any]]:
    out = []
    for p in e.problems:
        out.append(p.as_dict() if hasattr(p, "as_dict") else {"message": str(p)})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
        return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        probs = [
            {
                "location": ".".join(str(x) for x in e.get("loc", ())),
                "message": e.get("msg", ""),
                "value": None if e.get("input") is None else str(e.get("input"))[:200],
            }
            for e in exc.errors()
        ]
        first = probs[0] if probs else {"location": "", "message": "invalid request"}
        return error_response(422, f"invalid request: {first['location']}: {first['message']}", probs)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError):
        return error_response(422, str(exc), _problems(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError):
        msg = str(exc)
        status = 503 if "being written" in msg or "lock" in msg.lower() else 500
        return error_response(status, msg, headers={"Retry-After": "2"} if status == 503 else None)

    @app.exception_handler(NegahError)
    async def _negah(request: Request, exc: NegahError):
        return error_response(400, str(exc))

    @app.exception_handler(Exception)
    async def _other(request: Request, exc: Exception):  # pragma: no cover - a bug
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error: {type(exc).__name__}")
