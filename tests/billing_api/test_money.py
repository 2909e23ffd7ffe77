"""Amounts from ordering become decimal strings with exactly 2 places; the canonical strings
ordering sends take a fast path that must give exactly what the general path gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing_api.models import money


def by_decimal(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):.2f}"


@pytest.mark.parametrize(
    "value",
    ["0.00", "0.05", "-0.00", "-1.50", "10.00", "1000000000000000.00",  # canonical: fast path
     "01.00", "1.5", "1e2", "1.005", "\u0663.\u0660\u0660", 1.5, 3],  # the general path
)  # fmt: skip
def test_every_amount_comes_out_as_the_decimal_path_makes_it(value: Any) -> None:
    assert money(value) == by_decimal(value)


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", None, "1.00 "])
def test_what_is_not_an_amount_is_refused(value: Any) -> None:
    if value == "1.00 ":  # Decimal tolerates surrounding blanks; so does the general path
        assert money(value) == "1.00"
        return
    with pytest.raises(ValueError):
        money(value)
