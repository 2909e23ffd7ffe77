"""Turning request bodies into validated values, or clear 400/413/422 errors (query and path
parameters: params.py)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from service_http.errors import ApiError, FieldError

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
