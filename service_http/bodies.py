"""Turning request bodies and query strings into validated values, or clear 400/422 errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from service_http.errors import ApiError, BadRequest, FieldError, NotFound

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 1_000_000
# Every number and position is a signed 64-bit integer in every database.
MAX_INT64 = 2**63 - 1
# Our bodies are a few levels deep; far deeper is an attack on a recursive parser or validator.
MAX_JSON_DEPTH = 32
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,30}")


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
    data = parse_json_object(raw)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "The request has invalid fields.", details=field_errors(exc)) from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes (RFC 8259), nested at most MAX_JSON_DEPTH levels; else
    a 400 that says which of those it is not."""
    try:
        # Strictly UTF-8: json.loads would also guess UTF-16/32 from bytes.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not valid UTF-8.", code="malformed_json") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ApiError(400, "The body is not valid JSON.", code="malformed_json") from None
    except RecursionError:
        raise _too_deep() from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.", code="malformed_json")
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise _too_deep()
    return data


def _too_deep() -> ApiError:
    return ApiError(
        400, f"The body is nested more than {MAX_JSON_DEPTH} levels deep.", code="malformed_json"
    )


def _deeper_than(value: object, limit: int) -> bool:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[object]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def int_param(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    """A bounded integer query parameter; anything else is a 400 that names the parameter."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = _whole_number(raw)
    if value is None:
        raise BadRequest(f"'{name}' must be a whole number, got {raw[:40]!r}.")
    if not minimum <= value <= maximum:
        raise BadRequest(f"'{name}' must be between {minimum} and {maximum}, got {value}.")
    return value


def optional_param(request: Request, name: str) -> str | None:
    """A query parameter that may be left out, but not given empty (`?after=`)."""
    raw = request.query_params.get(name)
    if raw == "":
        raise BadRequest(f"'{name}' must not be empty; leave it out instead.")
    return raw


def int_list_param(
    request: Request, name: str, maximum_count: int, between: tuple[int, int] | None = None
) -> list[int]:
    """Repeated integer query parameters (`?number=1&number=2`), at most `maximum_count`,
    each within `between` (inclusive) when given."""
    raw_values = request.query_params.getlist(name)
    if len(raw_values) > maximum_count:
        raise BadRequest(f"At most {maximum_count} '{name}' values per request.")
    values = [_whole_number(raw) for raw in raw_values]
    if None in values:
        raise BadRequest(f"Every '{name}' must be a whole number.")
    numbers = [value for value in values if value is not None]
    if between is not None and any(not between[0] <= n <= between[1] for n in numbers):
        raise BadRequest(f"Every '{name}' must be between {between[0]} and {between[1]}.")
    return numbers


def _whole_number(raw: str) -> int | None:
    # Plain ASCII digits only: int() would also take " 7", "1_000" and other scripts' digits.
    if not _WHOLE_NUMBER.fullmatch(raw):
        return None
    return int(raw)


def path_int(request: Request, name: str) -> int:
    """A `{name:int}` path parameter; numbers no row can have (past 64 bits) are a 404."""
    value = request.path_params[name]
    assert isinstance(value, int)  # routes declare {name:int}
    if value > MAX_INT64:
        raise NotFound(f"No {name} {value}: numbers go up to {MAX_INT64}.")
    return value
