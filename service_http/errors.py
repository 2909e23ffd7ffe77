"""The one JSON error shape of every REST service, and the handlers that produce it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from service_db.faults import describe, is_unavailable

logger = logging.getLogger("service_http")

# Seconds a client should wait before retrying after a 503: a PostgreSQL restart takes a few.
RETRY_AFTER_SECONDS = 2

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[FieldError] | None = None


class ErrorBody(BaseModel):
    """`{"error": {"code": ..., "message": ..., "details": [...]}}` (details only for 422)."""

    error: ErrorDetail


class ApiError(Exception):
    """An expected failure a client can act on; rendered as the JSON error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES_BY_STATUS.get(status, "error")
        self.message = message
        self.details = details


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class BadRequest(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def error_response(
    status: int, code: str, message: str, details: list[FieldError] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = [d.model_dump() for d in details]
    return JSONResponse({"error": body}, status_code=status)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {404: f"No route for {request.url.path}.", 405: "Method not allowed here."}
    code = _CODES_BY_STATUS.get(exc.status_code, "error")
    message = messages.get(exc.status_code, str(exc.detail))
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        # Starlette names only the first route matching the path; several routes share one.
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this request's path."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in getattr(request.scope.get("router"), "routes", []):
        if isinstance(route, Route) and route.matches(scope)[0] is not Match.NONE:
            methods.update(route.methods or ())
    return sorted(methods)


def unavailable_response(message: str) -> JSONResponse:
    """503 with `Retry-After`: the service cannot answer now but will again soon."""
    response = error_response(503, "unavailable", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _database_error(request: Request, exc: Exception) -> Response:
    if not is_unavailable(exc):
        # A database error that is not an outage is a bug: the 500 handler logs its traceback.
        raise exc
    # The database being down or restarting is the service being unavailable, not a bug: one
    # log line (no traceback, no SQL) and a 503 the client may retry.
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, describe(exc)
    )
    return unavailable_response("The service's database is unavailable; try again shortly.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Never leak a trace to a peer; the log has it.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "An unexpected error occurred.")


exception_handlers: dict[Any, Any] = {
    ApiError: _api_error,
    HTTPException: _http_error,
    # DBAPIError covers OperationalError/InterfaceError and the generic DBAPIError asyncpg's
    # dialect raises for "shutting down" and dropped connections; OSError a socket error from a
    # database connect that arrived unwrapped. Anything else of those types re-raises into 500.
    DBAPIError: _database_error,
    OSError: _database_error,
    Exception: _unexpected,
}


def domain_error_handlers(statuses: Mapping[type[Exception], int]) -> dict[Any, Any]:
    """Handlers answering each domain exception with its status and its own sentence.

    A service declares `{OrderNotFound: 404, OrderConflict: 409}`; the exception's message is
    what the client reads, so rules say why in one place and handlers never build sentences.
    """

    def handler(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def answer(request: Request, exc: Exception) -> Response:
            if status == 503:
                return unavailable_response(str(exc))
            return error_response(status, _CODES_BY_STATUS.get(status, "error"), str(exc))

        return answer

    return {exc_type: handler(status) for exc_type, status in statuses.items()}
