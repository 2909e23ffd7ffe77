"""Validation errors as sentences a clerk understands, naming the field in words.

Pydantic writes "String should have at most 254 characters"; a person reading it under a form
needs "The customer's e-mail address can be at most 254 characters long; this one has 300."
The machine-readable parts (`code`, the `field` path) stay as they are; only `message` is for
people. Messages are made from the error's type and context, never from pydantic's wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# What each field is called in a sentence (by the last name in its path).
_LABELS = {
    "name": "name",
    "email": "e-mail address",
    "sku": "SKU",
    "description": "description",
    "quantity": "quantity",
    "unit_price": "unit price",
    "currency": "currency",
    "lines": "lines",
    "customer": "customer",
    "token": "feed position",
}


def subject(loc: Sequence[int | str]) -> str:
    """The field as the subject of a sentence: "Line 2's unit price", "The customer's name"."""
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return "The request"
    label = _LABELS.get(names[-1], f"field '{names[-1]}'")
    indexes = [part for part in loc if isinstance(part, int)]
    if indexes and names[0] == "lines" and len(names) > 1:
        return f"Line {indexes[0] + 1}'s {label}"
    if indexes:
        return f"Item {indexes[-1] + 1} of the {label}"
    if len(names) > 1 and names[-2] == "customer":
        return f"The customer's {label}"
    return f"The {label}"


def _pattern_message(field: str, who: str) -> str:
    if field == "email":
        return f"{who} must look like name@example.com (no spaces)."
    if field == "unit_price":
        return (
            f'{who} must be an amount written like "12.50": digits, a point and at most the'
            " currency's decimal places, from 0 to 1000000000."
        )
    if field in ("name", "sku"):
        return f"{who} must contain a visible character (and no NUL characters)."
    return f"{who} must not contain NUL characters."


def human_message(error: dict[str, Any]) -> str:
    """One pydantic error (from `ValidationError.errors()`) as a sentence for people."""
    loc = error.get("loc", ())
    who = subject(loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if kind == "missing":
        return f"{who} is required."
    if kind == "extra_forbidden":
        return f"'{field}' is not a field of this request; leave it out."
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return f"{who} must not be empty."
        return f"{who} must be at least {ctx.get('min_length')} characters long."
    if kind == "string_too_long":
        has = f"; this one has {len(value)}" if isinstance(value, str) else ""
        return f"{who} can be at most {ctx.get('max_length')} characters long{has}."
    if kind == "string_pattern_mismatch":
        return _pattern_message(field, who)
    if kind == "string_type":
        if field == "unit_price":
            return (
                f'{who} must be written as text, like "12.50" (a JSON number is refused:'
                " binary numbers are not exact money)."
            )
        return f"{who} must be text."
    if kind in ("int_type", "int_parsing", "int_from_float") or (
        kind == "value_error" and "whole number" in str(error.get("msg", ""))
    ):
        return f"{who} must be a whole number."
    if kind == "greater_than_equal":
        return f"{who} must be at least {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"{who} can be at most {ctx.get('le')}."
    if kind == "too_long":
        has = f"; this one has {ctx['actual_length']}" if "actual_length" in ctx else ""
        if field == "lines":
            return f"An order can have at most {ctx.get('max_length')} lines{has}."
        return f"{who} can have at most {ctx.get('max_length')} items{has}."
    if kind == "list_type":
        return f"{who} must be a list."
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{who} must be an object with its own fields."
    if kind == "enum":
        return f"{who} must be one of {ctx.get('expected')}."
    if kind == "value_error":
        # Our validators' messages are sentences about the value: keep them, with the field.
        reason = str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        return f"{who} is not valid: {reason.rstrip('.')}."
    return f"{who} is not valid: {str(error.get('msg', '')).rstrip('.')}."
