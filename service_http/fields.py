"""Building blocks for request bodies whose published JSON Schema says exactly what is validated.

Input models set `model_config = INPUT_CONFIG`: Python's regular expressions then check the
patterns, the same engine schema-driven clients and test generators read them with.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator, ConfigDict

INPUT_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re")

# Text never holds NUL: PostgreSQL cannot store it (SQLite would), so it is refused at the edge,
# on every database alike.
NO_NUL_PATTERN = r"^[^\x00]*$"
# Text that must not be blank: no NUL and at least one character that is neither a control
# character nor an ASCII space.
NON_BLANK_PATTERN = r"^[^\x00]*[^\x00-\x20\x7f][^\x00]*$"
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"


def strip_ascii_whitespace(value: str) -> str:
    """Use as the last validator of a text field, so its length limits apply to what was sent
    (as the schema says) and what is stored has no surrounding whitespace."""
    return value.strip(ASCII_WHITESPACE)


def _json_integer(value: Any) -> Any:
    # JSON Schema's "integer" is any number without a fraction, so 1.0 is the integer 1;
    # booleans and strings are not numbers (pydantic's lax mode would take them).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


# Put after the bounds: `Annotated[int, Field(ge=1, le=9), JSON_INTEGER]` is an integer as JSON
# Schema counts them, within the bounds the schema publishes.
JSON_INTEGER = BeforeValidator(_json_integer)
