"""Query-string and path parameters as validated values, or a 400 that names the parameter."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from starlette.requests import Request

from service_http.errors import BadRequest

EnumT = TypeVar("EnumT", bound=StrEnum)

# Every number and position is a signed 64-bit integer in every database.
MAX_INT64 = 2**63 - 1


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


def int_list_param(
    request: Request, name: str, maximum_count: int, between: tuple[int, int] | None = None
) -> list[int]:
    """Repeated integer query parameters (`?number=1&number=2`), at most `maximum_count`,
    each within `between` (inclusive) when given."""
    raw_values = request.query_params.getlist(name)
    if len(raw_values) > maximum_count:
        raise BadRequest(f"At most {maximum_count} '{name}' values per request.")
    try:
        values = [int(value) for value in raw_values]
    except ValueError:
        raise BadRequest(f"Every '{name}' must be a whole number.") from None
    if between is not None and any(not between[0] <= v <= between[1] for v in values):
        raise BadRequest(f"Every '{name}' must be between {between[0]} and {between[1]}.")
    return values


def enum_param(request: Request, name: str, enum: type[EnumT]) -> EnumT | None:
    """An optional query parameter that must be one of `enum`'s values (empty: not given)."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise BadRequest(f"'{name}' must be one of {allowed}, got {raw!r}.") from None


def path_int(request: Request, name: str) -> int:
    value = request.path_params[name]
    assert isinstance(value, int)  # routes declare {name:int}
    return value


def seconds_param(request: Request, name: str, default: float, maximum: float) -> float:
    """A duration in seconds (decimals allowed), 0 or more; above `maximum` it is `maximum`
    (a bound the service sets, not the client's mistake); anything else is a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a number of seconds, got {raw!r}.") from None
    if not value >= 0 or value == float("inf"):  # also refuses NaN
        raise BadRequest(f"'{name}' must be 0 or more seconds, got {raw!r}.")
    return min(value, maximum)
