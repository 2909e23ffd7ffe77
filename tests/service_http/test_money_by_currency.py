"""Amounts in the currency's own ISO 4217 minor units: the digits per currency, the wire form
with exactly those digits, and refusals (never rounding) of amounts with more."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from service_http.currencies import ISO_4217, codes_with_digits, currency_digits
from service_http.money import (
    TooManyPlaces,
    minor_units_to_wire,
    parse_amount,
    places_message,
    to_minor_units,
    to_wire,
    wire_amount,
)


def test_digits_follow_iso_4217() -> None:
    assert [currency_digits(c) for c in ("EUR", "USD", "JPY", "KRW", "KWD", "BHD", "CLF")] == [
        2, 2, 0, 0, 3, 3, 4,
    ]  # fmt: skip
    assert {currency_digits(code) for code in ISO_4217} == {0, 2, 3, 4}
    assert "JPY" in codes_with_digits(0) and "EUR" not in codes_with_digits(0)
    # Every accepted code is in exactly one group.
    groups = [set(codes_with_digits(d)) for d in (0, 2, 3, 4)]
    assert sum(len(g) for g in groups) == len(ISO_4217)


@pytest.mark.parametrize(
    ("units", "digits", "wire"),
    [(3750, 0, "3750"), (-5, 0, "-5"), (0, 0, "0"), (375, 3, "0.375"), (1250, 2, "12.50"),
     (-1, 4, "-0.0001"), (10**18, 3, "1000000000000000.000")],
)  # fmt: skip
def test_minor_units_are_written_with_the_currencys_digits(
    units: int, digits: int, wire: str
) -> None:
    assert minor_units_to_wire(units, digits) == wire
    assert to_minor_units(Decimal(wire), digits) == units


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [("13", 0, "13"), ("13.00", 0, "13"), (13, 0, "13"), ("1.25", 3, "1.250"),
     ("1.250", 3, "1.250"), ("0.5", 4, "0.5000"), ("12.50", 2, "12.50"), ("1.5", 2, "1.50")],
)  # fmt: skip
def test_peer_amounts_come_out_in_the_wire_form_of_their_currency(
    value: Any, digits: int, expected: str
) -> None:
    assert wire_amount(value, digits) == expected
    assert wire_amount(value, digits) == to_wire(parse_amount(value, digits), digits)


@pytest.mark.parametrize(
    ("value", "digits"), [("12.50", 0), ("0.1", 0), ("1.2345", 3), ("0.00001", 4), ("1.005", 2)]
)
def test_more_places_than_the_currency_has_are_refused_not_rounded(value: str, digits: int) -> None:
    with pytest.raises(TooManyPlaces):
        wire_amount(value, digits)


def test_the_refusal_is_written_for_the_person_who_typed_the_price() -> None:
    assert places_message("JPY", "12.50") == (
        "Yen (JPY) amounts have no decimal places (ISO 4217), so 12.50 cannot be charged;"
        " use a whole number such as 12 or 13."
    )
    assert places_message("KWD", "1.2345") == (
        "Kuwaiti Dinar (KWD) amounts have at most 3 decimal places (ISO 4217), so 1.2345"
        " cannot be charged; use 1.234 or 1.235."
    )
