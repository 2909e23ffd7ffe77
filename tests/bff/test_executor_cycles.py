"""A GraphQL request's objects die with it, by reference counting (bff/executor_cycles.py).

graphql-core's executor referred to itself through its resolve-info helpers, so everything a
request loaded waited for Python's cyclic collector; under load those collections stalled the
BFF for up to a second. Checked against the bug: with strawberry's own execution context the
first test finds the executor, the context and the 50 orders of the page among the garbage.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.bff.conftest import System, create_order

PAGE = """{ orders(first: 20) { edges { node { number status total
  customer { name } lines { sku quantity }
  invoice { number status amount } } } } }"""


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the cyclic collector finds unreachable during the test (kept, not freed)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_a_query_leaves_its_executor_and_records_to_reference_counting(
    system: System, saved_garbage: list[object]
) -> None:
    for _ in range(3):
        number = await create_order(system)
        await system.ok(
            "mutation($n: Int!) { confirmOrder(number: $n) { invoiceLink } }", {"n": number}
        )
    await system.ok(PAGE)  # warm: documents parsed, loaders built
    gc.collect()
    saved_garbage.clear()

    for _ in range(3):
        await system.ok(PAGE)
    gc.collect()

    kinds = Counter(type(o).__name__ for o in saved_garbage)
    # The request's own objects; per-request validation contexts are small and hold nothing
    # the request loaded.
    leaked = {
        k: n for k, n in kinds.items() if k.endswith(("Executor", "Record")) or k == "Context"
    }
    assert leaked == {}, leaked
