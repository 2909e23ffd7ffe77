"""Amounts of money in the currency's own ISO 4217 minor units (docs/contracts.md, "Money by
currency"): a `Decimal` in code, whole minor units where a service stores them, and on the wire
a decimal string with exactly the currency's digits (`"12.50"` EUR, `"13"` JPY, `"1.250"` KWD).

An amount with more places than its currency has is an error everywhere, never silently rounded.
`digits` defaults to 2 for callers that have no currency at hand.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from service_http.currencies import DEFAULT_DIGITS, currency_digits, currency_name


class TooManyPlaces(ValueError):
    """An amount with more decimal places than its currency has."""


def exact_amount(value: Decimal, digits: int = DEFAULT_DIGITS) -> Decimal:
    """`value` if it is a finite amount with at most `digits` decimal places (trailing zeros
    beyond them are fine: "13.00" yen is 13 yen)."""
    if not value.is_finite():
        raise ValueError("must be a number")
    if value != value.quantize(Decimal(1).scaleb(-digits), rounding="ROUND_DOWN"):
        raise TooManyPlaces(f"must have at most {digits} decimal places")
    return value


def parse_amount(value: Any, digits: int = DEFAULT_DIGITS) -> Decimal:
    """An exact amount from a decimal string or a JSON number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal number or a string like '12.50'")
    try:
        return exact_amount(Decimal(str(value)), digits)
    except InvalidOperation:
        raise ValueError("not a decimal amount") from None


def to_wire(amount: Decimal, digits: int = DEFAULT_DIGITS) -> str:
    """The wire form: exactly `digits` decimal places (no point when 0)."""
    return f"{amount.quantize(Decimal(1).scaleb(-digits))}"


def to_minor_units(amount: Decimal, digits: int = DEFAULT_DIGITS) -> int:
    """Whole minor units of an exact amount (exact: `exact_amount` allows no more places)."""
    return int(exact_amount(amount, digits).scaleb(digits))


def from_minor_units(units: int, digits: int = DEFAULT_DIGITS) -> Decimal:
    return Decimal(units).scaleb(-digits)


def minor_units_to_wire(units: int, digits: int = DEFAULT_DIGITS) -> str:
    """Whole minor units in the wire form, with integer arithmetic only: the feed writes three
    amounts per order, and going through `Decimal` showed in its profile."""
    if digits == 0:
        return str(units)
    whole, part = divmod(abs(units), 10**digits)
    return f"{'-' if units < 0 else ''}{whole}.{part:0{digits}d}"


@cache
def _canonical(digits: int) -> re.Pattern[str]:
    fraction = rf"\.[0-9]{{{digits}}}" if digits else ""
    return re.compile(rf"-?(?:0|[1-9][0-9]*){fraction}")


def wire_amount(value: Any, digits: int = DEFAULT_DIGITS) -> str:
    """An amount another service sent, in its wire form for `digits`: "1.5" becomes "1.50",
    "13.00" yen "13"; "1.505" euros is an error (a peer that breaks the contract), never
    rounded."""
    # What ordering sends is checked first: every feed page brings several amounts per order
    # and the Decimal round trip showed in the sync's profile.
    if isinstance(value, str) and _canonical(digits).fullmatch(value):
        return value
    return to_wire(parse_amount(value, digits), digits)


def currency_wire_amount(value: Any, currency: str) -> str:
    return wire_amount(value, currency_digits(currency))


def places_message(currency: str, amount: str) -> str:
    """Why `amount` is refused in `currency`, for the person who typed it."""
    digits = currency_digits(currency)
    name = currency_name(currency)
    value = Decimal(amount)
    down = to_wire(value.quantize(Decimal(1).scaleb(-digits), rounding="ROUND_FLOOR"), digits)
    up = to_wire(value.quantize(Decimal(1).scaleb(-digits), rounding="ROUND_CEILING"), digits)
    if digits == 0:
        return (
            f"{name} ({currency}) amounts have no decimal places (ISO 4217), so {amount} cannot"
            f" be charged; use a whole number such as {down} or {up}."
        )
    return (
        f"{name} ({currency}) amounts have at most {digits} decimal places (ISO 4217), so"
        f" {amount} cannot be charged; use {down} or {up}."
    )
