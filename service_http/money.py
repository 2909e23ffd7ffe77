"""Amounts of money: a `Decimal` in code, a decimal string with exactly 2 places on the wire
(`"10.00"`, docs/contracts.md), whole cents where ordering stores them.

Every currency is written with 2 places today; amounts in a currency's own ISO 4217 minor units
are a planned contract change, and this module is the one place that knows the number of places.
An amount with more places than that is an error everywhere, never silently rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

PLACES = 2
_QUANTUM = Decimal(1).scaleb(-PLACES)
_SCALE = 10**PLACES


def exact_amount(value: Decimal) -> Decimal:
    """`value` if it is a finite amount with at most PLACES decimal places."""
    if not value.is_finite():
        raise ValueError("must be a number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
        raise ValueError(f"must have at most {PLACES} decimal places")
    return value


def parse_amount(value: Any) -> Decimal:
    """An exact amount from a decimal string or a JSON number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal number or a string like '12.50'")
    try:
        return exact_amount(Decimal(str(value)))
    except InvalidOperation:
        raise ValueError("not a decimal amount") from None


def to_wire(amount: Decimal) -> str:
    """The wire form: exactly PLACES decimal places."""
    return f"{amount.quantize(_QUANTUM)}"


def to_minor_units(amount: Decimal) -> int:
    """Whole cents of an exact amount (exact: `exact_amount` allows no more places)."""
    return int(exact_amount(amount).scaleb(PLACES))


def from_minor_units(units: int) -> Decimal:
    return Decimal(units).scaleb(-PLACES)


def minor_units_to_wire(units: int) -> str:
    """Whole minor units in the wire form, with integer arithmetic only: the feed writes three
    amounts per order, and going through `Decimal` showed in its profile."""
    whole, part = divmod(abs(units), _SCALE)
    return f"{'-' if units < 0 else ''}{whole}.{part:0{PLACES}d}"


# What ordering sends: checked first, since every feed page brings several amounts per order
# and the Decimal round trip showed in the sync's profile.
_CANONICAL = re.compile(rf"-?(?:0|[1-9][0-9]*)\.[0-9]{{{PLACES}}}")


def wire_amount(value: Any) -> str:
    """An amount another service sent, in its wire form: "1.5" becomes "1.50", "1.505" is an
    error (a peer that breaks the contract), never rounded."""
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        return value
    return to_wire(parse_amount(value))


WireAmount = Annotated[str, BeforeValidator(wire_amount)]
