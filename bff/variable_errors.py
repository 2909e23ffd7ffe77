"""Variables that do not fit the schema (an unknown currency, text for a quantity) answered like
the services' field errors: `BAD_USER_INPUT` with `extensions.details: [{field, message}]`, the
message in words, so a form puts it under its field.

graphql-core refuses such variables before any resolver runs, with a message for developers
("Variable '$input' has invalid value at .currency: Value 'XXX' does not exist in 'Currency'
enum. Did you mean ...?") and no code; this rewrites those errors only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from service_http.messages import subject

# Both wordings graphql-core has used: 3.3 ("has invalid value at .a.b: reason") and 3.2
# ("got invalid value X at 'input.a.b'; reason").
_VARIABLE_ERROR = re.compile(
    r"^Variable '\$(?P<variable>\w+)' (?:has invalid value(?: at (?P<path>\S+?))?"
    r"|got invalid value .*? at '(?P<old_path>[^']+)')[:;] (?P<reason>.*)$",
    re.DOTALL,
)
_UNKNOWN_ENUM = re.compile(r"Value '(?P<value>[^']*)' does not exist in '(?P<enum>\w+)' enum")
_MISSING_FIELD = re.compile(r"to include required field '(?P<field>\w+)'")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _field_path(variable: str, path: str | None, old_path: str | None) -> list[str | int]:
    """`.lines[0].unitPrice` as ["lines", 0, "unitPrice"] (the variable itself when empty)."""
    if old_path is not None:
        parts = old_path.split(".")[1:]
    else:
        parts = [part for part in re.split(r"[.\[\]]", path or "") if part]
    if not parts:
        return [f"${variable}"]
    return [int(part) if part.isdigit() else part for part in parts]


def _who(field: list[str | int]) -> str:
    if len(field) == 1 and isinstance(field[0], str) and field[0].startswith("$"):
        return f"The value of {field[0]}"
    return subject([_CAMEL.sub("_", p).lower() if isinstance(p, str) else p for p in field])


def _in_words(field: list[str | int], reason: str) -> str:
    # graphql-core's suggestions stay at the end, where HideSuggestions removes them when
    # introspection is off.
    suggestion = reason.partition(" Did you mean")
    hint = f" Did you mean{suggestion[2]}" if suggestion[1] else ""
    if "'Currency' enum" in reason:
        hint = ""  # codes that merely look alike (XXX: MXN, XAF) would mislead a clerk
    return _sentence(field, suggestion[0]) + hint


def _sentence(field: list[str | int], reason: str) -> str:
    who = _who(field)
    unknown = _UNKNOWN_ENUM.search(reason)
    if unknown is not None:
        value = unknown["value"][:20]
        if unknown["enum"] == "Currency":
            return (
                f"{who} '{value}' is not one we know; choose an ISO 4217 code such as EUR,"
                " USD or JPY."
            )
        return f"{who} '{value}' is not one of the allowed values."
    if "non-integer" in reason or "Int cannot represent" in reason:
        return f"{who} must be a whole number."
    if "was not provided" in reason or "non-null" in reason.lower():
        return f"{who} is required."
    return f"{who} is not valid: {reason.rstrip('.')}."


def in_words(error: GraphQLError) -> GraphQLError:
    """`error` with a field detail in words, if it is a variable that does not fit."""
    found = _VARIABLE_ERROR.match(error.message)
    if found is None or error.path is not None:
        return error
    field = _field_path(found["variable"], found["path"], found["old_path"])
    missing = _MISSING_FIELD.search(found["reason"])
    if missing is not None:
        field = (
            [*field, missing["field"]] if field != [f"${found['variable']}"] else [missing["field"]]
        )
        message = f"{_who(field)} is required."
    else:
        message = _in_words(field, found["reason"])
    error.message = message
    error.extensions = {
        **(error.extensions or {}),
        "code": "BAD_USER_INPUT",
        "details": [{"field": ".".join(str(part) for part in field), "message": message}],
    }
    return error


class VariableErrorsInWords(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            for error in errors:
                in_words(error)
