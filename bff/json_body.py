"""Decoding a GraphQL request's JSON safely: strict UTF-8 and bounded nesting.

`json.loads` raises `UnicodeDecodeError` for invalid UTF-8 and `RecursionError` for arrays or
objects nested about a thousand deep; both would surface as a 500. The nesting is measured
before parsing, in C-speed passes over the text, so the parser never gets near the recursion
limit.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

# GraphQL requests nest a handful of levels (an order input with lines is five deep).
MAX_JSON_DEPTH = 32

# A JSON string literal (escapes included; an unterminated one runs to the end, which keeps the
# scan linear): brackets inside strings do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyError(ValueError):
    """The body cannot be a GraphQL request; the message says why, for the client."""


def nesting_depth(text: str) -> int:
    brackets = _BRACKETS.findall(_STRING.sub("", text))
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)


def loads(data: str | bytes) -> object:
    """Parse JSON text or UTF-8 bytes; `BodyError` for anything that is not sound JSON."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError(f"The request body is not valid UTF-8 (byte {exc.start}).") from exc
    else:
        text = data
    if nesting_depth(text) > MAX_JSON_DEPTH:
        raise BodyError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(f"The request body is not valid JSON: {exc.msg} at {exc.pos}.") from exc
    except RecursionError as exc:  # unreachable after the depth check; never a 500 anyway
        raise BodyError("The JSON is nested too deeply.") from exc
