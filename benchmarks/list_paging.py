"""The order list's keyset pages against OFFSET paging, and searches, on one SQLite database.

    .venv/bin/python -m benchmarks.list_paging            # 100 000 orders, ~1 min
    .venv/bin/python -m benchmarks.list_paging --quick    # smoke run, figures meaningless
    .venv/bin/python -m benchmarks.list_paging --output /tmp/x.json

Every contender runs the same list rule ordering's `GET /orders` runs (`list_orders`: a page of
20 with its lines), and the contenders are timed interleaved, round by round, so a busy machine
slows them alike. Reported: medians, and the ratios that matter: a deep keyset page against the
first page (keyset should cost the same at any depth), OFFSET at the same depth against keyset
(the baseline keyset replaces), each for the sort by number and the sort by total; and a search
for a rare name and a common one against the plain first page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import selectinload
from sqlmodel import col, select

from ordering_api.db import create_engine, create_schema
from ordering_api.models import Order, OrderLine, OrderStatus
from ordering_api.orders import list_orders, sort_key
from service_db.paging import search_text
from service_http.cursor import Boundary
from service_http.listing import Direction, ListQuery, Sort

PAGE = 20


def _rows(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    orders, lines = [], []
    for number in range(1, count + 1):
        name, email = f"Customer {number % 997}", f"customer{number % 997}@example.com"
        if number == count // 3:
            name, email = "Rare Zebediah", "zeb@example.org"
        price = 100 + (number * 7) % 9900
        created = base + timedelta(seconds=number)
        orders.append(
            {"number": number, "status": "DRAFT", "customer_name": name, "customer_email": email,
             "search_text": search_text(name, email), "currency": "EUR", "total_cents": price,
             "row_version": 1, "published": False, "created_at": created, "updated_at": created}
        )  # fmt: skip
        lines.append(
            {"order_number": number, "position": 0, "sku": "SKU", "description": "",
             "quantity": 1, "unit_price_cents": price}
        )  # fmt: skip
    return orders, lines


async def _run(count: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(directory) / 'ordering.db'}")
        try:
            await create_schema(engine)
            orders, lines = _rows(count)
            async with engine.begin() as connection:
                for start in range(0, count, 5000):
                    await connection.execute(insert(Order.__table__), orders[start : start + 5000])  # type: ignore[attr-defined]
                    await connection.execute(
                        insert(OrderLine.__table__),  # type: ignore[attr-defined]
                        lines[start : start + 5000],
                    )
            return await _measure(engine, count, rounds)
        finally:
            await engine.dispose()


def _descending(sort: Sort) -> list[Any]:
    """The sort's columns, descending: the ORDER BY of the OFFSET baseline."""
    if sort is Sort.TOTAL:
        return [
            col(Order.currency).desc(),
            col(Order.total_cents).desc(),
            col(Order.number).desc(),
        ]
    return [col(Order.number).desc()]


async def _measure(engine: Any, count: int, rounds: int) -> dict[str, Any]:
    from sqlmodel.ext.asyncio.session import AsyncSession

    depth = count * 9 // 10  # a page 90 % of the way down the list

    def wanted(
        sort: Sort, boundary: Boundary | None = None, search: str | None = None
    ) -> ListQuery:
        return ListQuery(search, sort, Direction.DESC, PAGE, boundary)

    async def deep_boundary(sort: Sort) -> Boundary:
        # The row at `depth` in the sort's order, found once (what a cursor would hold).
        async with AsyncSession(engine) as session:
            query = select(Order).order_by(*_descending(sort)).offset(depth)
            row = (await session.exec(query)).first()
            assert row is not None
            return Boundary(sort_key(row, sort), before=False)

    boundaries = {sort: await deep_boundary(sort) for sort in (Sort.CREATED, Sort.TOTAL)}

    def keyset(query: ListQuery) -> Callable[[], Awaitable[list[int]]]:
        async def run() -> list[int]:
            async with AsyncSession(engine) as session:
                rows, _ = await list_orders(session, None, query)
                return [row.number for row in rows if row.number is not None]

        return run

    def offset(sort: Sort) -> Callable[[], Awaitable[list[int]]]:
        order = _descending(sort)

        async def run() -> list[int]:
            async with AsyncSession(engine) as session:
                query = (
                    select(Order)
                    .where(Order.status != OrderStatus.DELETED)
                    .options(selectinload(Order.lines))  # type: ignore[arg-type]
                    .order_by(*order)
                    .offset(depth + 1)
                    .limit(PAGE)
                )
                return [row.number for row in (await session.exec(query)).all() if row.number]

        return run

    contenders = {
        "created_first": keyset(wanted(Sort.CREATED)),
        "created_deep_keyset": keyset(wanted(Sort.CREATED, boundaries[Sort.CREATED])),
        "created_deep_offset": offset(Sort.CREATED),
        "total_first": keyset(wanted(Sort.TOTAL)),
        "total_deep_keyset": keyset(wanted(Sort.TOTAL, boundaries[Sort.TOTAL])),
        "total_deep_offset": offset(Sort.TOTAL),
        "search_common": keyset(wanted(Sort.CREATED, search="customer 5")),
        "search_rare": keyset(wanted(Sort.CREATED, search="zebediah")),
    }
    # Correctness first: keyset and OFFSET agree on the deep pages, the searches find rows.
    for sort in ("created", "total"):
        same = await contenders[f"{sort}_deep_keyset"]()
        assert same == await contenders[f"{sort}_deep_offset"](), f"{sort}: pages differ"
        assert len(same) == PAGE
    assert await contenders["search_rare"]() == [count // 3]
    assert len(await contenders["search_common"]()) == PAGE

    for run in contenders.values():  # warm: every statement prepared, every page cached alike
        await run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(rounds):
        # Each round starts with another contender, so none is always first after a pause.
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            run = contenders[name]
            started = time.perf_counter()
            await run()
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}

    def ratio(a: str, b: str) -> float:
        return round(medians[a] / medians[b], 2)

    return {
        "orders": count,
        "rounds": rounds,
        "depth": depth,
        "median_ms": {name: round(value, 3) for name, value in medians.items()},
        "ratios": {
            "created_deep_keyset_vs_first": ratio("created_deep_keyset", "created_first"),
            "created_deep_offset_vs_keyset": ratio("created_deep_offset", "created_deep_keyset"),
            "total_deep_keyset_vs_first": ratio("total_deep_keyset", "total_first"),
            "total_deep_offset_vs_keyset": ratio("total_deep_offset", "total_deep_keyset"),
            "search_common_vs_first": ratio("search_common", "created_first"),
            "search_rare_vs_first": ratio("search_rare", "created_first"),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument("--output", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    count, rounds = (2000, 3) if args.quick else (100_000, 15)
    results = asyncio.run(_run(count, rounds))
    report = {
        "benchmark": "list_paging",
        "profile": "quick" if args.quick else "full",
        "results": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
