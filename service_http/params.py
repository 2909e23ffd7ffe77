"""Query-string and path parameters as validated values, or a 400 that names the parameter."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TypeVar

from starlette.requests import Request

from service_http.errors import BadRequest, NotFound

EnumT = TypeVar("EnumT", bound=StrEnum)

# Every number and position is a signed 64-bit integer in every database.
MAX_INT64 = 2**63 - 1
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,30}")


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


def int_list_param(
    request: Request, name: str, maximum_count: int, between: tuple[int, int] | None = None
) -> list[int]:
    """Repeated integer query parameters (`?number=1&number=2`), at most `maximum_count`,
    each within `between` (inclusive) when given."""
    raw_values = request.query_params.getlist(name)
    if len(raw_values) > maximum_count:
        raise BadRequest(f"At most {maximum_count} '{name}' values per request.")
    parsed = [_whole_number(raw) for raw in raw_values]
    values = [value for value in parsed if value is not None]
    if len(values) != len(parsed):
        raise BadRequest(f"Every '{name}' must be a whole number.")
    if between is not None and any(not between[0] <= v <= between[1] for v in values):
        raise BadRequest(f"Every '{name}' must be between {between[0]} and {between[1]}.")
    return values


def _whole_number(raw: str) -> int | None:
    # Plain ASCII digits only: int() would also take " 7", "1_000" and other scripts' digits.
    if not _WHOLE_NUMBER.fullmatch(raw):
        return None
    return int(raw)


def optional_param(request: Request, name: str) -> str | None:
    """A query parameter that may be left out, but not given empty (`?after=`)."""
    raw = request.query_params.get(name)
    if raw == "":
        raise BadRequest(f"'{name}' must not be empty; leave it out instead.")
    return raw


def enum_param(request: Request, name: str, enum: type[EnumT]) -> EnumT | None:
    """An optional query parameter that must be one of `enum`'s values (empty: a 400)."""
    raw = optional_param(request, name)
    if raw is None:
        return None
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise BadRequest(f"'{name}' must be one of {allowed}, got {raw!r}.") from None


def path_int(request: Request, name: str) -> int:
    """A `{name:int}` path parameter; numbers no row can have (past 64 bits) are a 404."""
    value = request.path_params[name]
    assert isinstance(value, int)  # routes declare {name:int}
    if value > MAX_INT64:
        raise NotFound(f"No {name} {value}: numbers go up to {MAX_INT64}.")
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


MAX_SEARCH_LENGTH = 200


def search_param(request: Request, name: str = "q") -> str | None:
    """A search text: 1 to 200 characters, surrounding spaces dropped (none left: no search)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if len(raw) > MAX_SEARCH_LENGTH:
        raise BadRequest(
            f"'{name}' (the search) can be at most {MAX_SEARCH_LENGTH} characters long;"
            f" it has {len(raw)}."
        )
    if "\x00" in raw:
        raise BadRequest(f"'{name}' (the search) must not contain a NUL character.")
    text = raw.strip()
    return text or None


def choice_param(request: Request, name: str, enum: type[EnumT], default: EnumT) -> EnumT:
    """An optional query parameter that must be one of `enum`'s values."""
    value = enum_param(request, name, enum)
    return default if value is None else value
