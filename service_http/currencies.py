"""Currencies: the accepted ISO 4217 codes, their names and their minor units ("digits").

The code list is pydantic-extra-types' (ISO 4217 from pycountry, without precious metals, bond
units and test codes). Neither pycountry nor any other installed package carries the minor
units, so they come from ISO 4217's List One ("Minor unit" column, amendment 179, 2025): every
accepted code has 2 digits except those below. CLDR's "digits" (babel) differ from ISO for a few
codes (IQD, LAK, ...): ISO is the contract here, as accounting systems use it.
"""

from __future__ import annotations

from functools import cache

import pycountry
from pydantic_extra_types.currency_code import Currency as _IsoCurrency

ISO_4217: frozenset[str] = frozenset(_IsoCurrency.allowed_currencies)

DEFAULT_DIGITS = 2
# ISO 4217 List One, minor unit other than 2. XSU and XUA have none ("N.A."): they keep 2,
# as every amount had before digits were per currency.
_WHOLE_UNITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THOUSANDTHS = "BHD IQD JOD KWD LYD OMR TND"
_TEN_THOUSANDTHS = "CLF UYW"
_DIGITS: dict[str, int] = {
    **dict.fromkeys(_WHOLE_UNITS.split(" "), 0),
    **dict.fromkeys(_THOUSANDTHS.split(" "), 3),
    **dict.fromkeys(_TEN_THOUSANDTHS.split(" "), 4),
}
MAX_DIGITS = max(_DIGITS.values())


def currency_digits(code: str) -> int:
    """How many decimal places an amount in `code` has (ISO 4217 minor unit)."""
    return _DIGITS.get(code, DEFAULT_DIGITS)


@cache
def currency_name(code: str) -> str:
    """The currency's English name ("Yen"), or the code when pycountry has none."""
    found = pycountry.currencies.get(alpha_3=code)
    return str(found.name) if found is not None else code


def codes_with_digits(digits: int) -> list[str]:
    """The accepted codes whose amounts have `digits` decimal places, sorted."""
    return sorted(code for code in ISO_4217 if currency_digits(code) == digits)
