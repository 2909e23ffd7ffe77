"""Turning request bodies into validated values, or clear 400/413/422 errors (query and path
parameters: params.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from service_http.errors import ApiError, FieldError
from service_http.messages import human_message

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_BODY_BYTES = 1_000_000
# Our bodies are a few levels deep; far deeper is an attack on a recursive parser or validator.
MAX_JSON_DEPTH = 32


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic errors as `{field: "lines.0.quantity", message: "..."}` for a person to read."""
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append(FieldError(field=field, message=human_message(dict(error))))
    return errors


def refuse(problems: list[FieldError]) -> None:
    """A 422 for field problems found after the schema's own checks (none: nothing to do)."""
    if problems:
        raise ApiError(422, "The request has invalid fields.", details=problems)


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
