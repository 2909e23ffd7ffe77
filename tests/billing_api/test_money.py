"""Amounts from ordering keep their wire form with exactly 2 places; the canonical strings
ordering sends take a fast path that must give exactly what the general path gives."""

from __future__ import annotations

from typing import Any

import pytest

from service_http.money import parse_amount, to_wire, wire_amount


@pytest.mark.parametrize(
    "value",
    ["0.00", "0.05", "-0.00", "-1.50", "10.00", "1000000000000000.00",  # canonical: fast path
     "01.00", "1.5", "1e2", "\u0663.\u0660\u0660", 1.5, 3],  # the general path
)  # fmt: skip
def test_every_amount_comes_out_as_the_decimal_path_makes_it(value: Any) -> None:
    assert wire_amount(value) == to_wire(parse_amount(value))


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", None, True, "1.005", 1.005])
def test_what_is_not_an_exact_amount_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        wire_amount(value)
