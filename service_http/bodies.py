"""Turning request bodies and query strings into validated values, or clear 400/422 errors."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from service_http.errors import ApiError, BadRequest, FieldError

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 1_000_000


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic errors as `{field: "lines.0.quantity", message: "..."}` for a person to read."""
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "Unknown field."
        errors.append(FieldError(field=field, message=message))
    return errors


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.", code="malformed_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "The request has invalid fields.", details=field_errors(exc)) from None


def int_param(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter; anything else is a 400 that names the parameter."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a whole number, got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise BadRequest(f"'{name}' must be between {minimum} and {maximum}, got {value}.")
    return value


def int_list_param(request: Request, name: str, maximum_count: int) -> list[int]:
    """Repeated integer query parameters (`?number=1&number=2`), at most `maximum_count`."""
    raw_values = request.query_params.getlist(name)
    if len(raw_values) > maximum_count:
        raise BadRequest(f"At most {maximum_count} '{name}' values per request.")
    try:
        return [int(value) for value in raw_values]
    except ValueError:
        raise BadRequest(f"Every '{name}' must be a whole number.") from None


def path_int(request: Request, name: str) -> int:
    value = request.path_params[name]
    assert isinstance(value, int)  # routes declare {name:int}
    return value
