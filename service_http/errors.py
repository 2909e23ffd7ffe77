"""The one JSON error shape of every REST service, and the handlers that produce it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger("service_http")

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
    return response


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    # The database being down is the service being unavailable, not a bug: say so with 503.
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "unavailable", "The service's database is unavailable; try again.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Never leak a trace to a peer; the log has it.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "An unexpected error occurred.")


exception_handlers: dict[Any, Any] = {
    ApiError: _api_error,
    HTTPException: _http_error,
    OperationalError: _database_unavailable,
    InterfaceError: _database_unavailable,
    Exception: _unexpected,
}


def domain_error_handlers(statuses: Mapping[type[Exception], int]) -> dict[Any, Any]:
    """Handlers answering each domain exception with its status and its own sentence.

    A service declares `{OrderNotFound: 404, OrderConflict: 409}`; the exception's message is
    what the client reads, so rules say why in one place and handlers never build sentences.
    """

    def handler(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def answer(request: Request, exc: Exception) -> Response:
            return error_response(status, _CODES_BY_STATUS.get(status, "error"), str(exc))

        return answer

    return {exc_type: handler(status) for exc_type, status in statuses.items()}
