"""Issue 12's migrations bring stored data along: amounts from whole cents to the currency's
own minor units (and republished when they changed), search texts filled in, invoice amounts
rewritten with the currency's digits; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api import db as billing_db
from ordering_api import db as ordering_db
from service_db.engine import create_engine
from service_db.schema import migration_config

BEFORE = "0010a_idempotency_keys"
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(request.getfixturevalue(request.param))
    yield engine
    await engine.dispose()


def _migrate(connection: Connection, migrations: str, revision: str) -> None:
    command.upgrade(migration_config(migrations, connection), revision)


async def _rows(engine: AsyncEngine, sql: str) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql))).all())


async def test_ordering_amounts_become_the_currencys_minor_units(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_migrate, ordering_db.MIGRATIONS, BEFORE)
        orders = [
            # number, currency, status, published, total cents, change_seq
            (1, "EUR", "CONFIRMED", True, 375, 1),
            (2, "JPY", "CONFIRMED", True, 375000, 2),  # 1250.00 yen x 3: exact
            (3, "JPY", "DRAFT", False, 3750, None),  # 12.50 yen x 3: rounded
            (4, "KWD", "DRAFT", False, 375, None),  # 1.25 KWD x 3: exact
        ]
        for number, currency, status, published, total, seq in orders:
            await connection.execute(
                text(
                    "INSERT INTO orders (number, status, customer_name, customer_email, currency,"
                    " total_cents, row_version, published, change_seq, created_at, updated_at)"
                    " VALUES (:n, :s, :name, :email, :c, :t, 1, :p, :seq, :now, :now)"
                ),
                {"n": number, "s": status, "name": "Øle Ünicode", "email": "OLE@Example.com",
                 "c": currency, "t": total, "p": published, "seq": seq, "now": NOW},
            )  # fmt: skip
            await connection.execute(
                text(
                    "INSERT INTO order_lines (order_number, position, sku, description, quantity,"
                    " unit_price_cents) VALUES (:n, 0, 'A', '', 3, :price)"
                ),
                {"n": number, "price": total // 3},
            )
        await connection.run_sync(_migrate, ordering_db.MIGRATIONS, "heads")

    rows = await _rows(
        engine,
        "SELECT o.number, o.total_cents, l.unit_price_cents, o.row_version, o.change_seq,"
        " o.search_text FROM orders o JOIN order_lines l ON l.order_number = o.number"
        " ORDER BY o.number",
    )
    assert [tuple(row[:5]) for row in rows] == [
        (1, 375, 125, 1, 1),  # EUR: unchanged, not republished
        (2, 3750, 1250, 2, None),  # whole yen; republished so billing mirrors it
        (3, 36, 12, 1, None),  # 12.50 rounded half to even: 12 yen
        (4, 3750, 1250, 1, None),  # thousandths of a dinar
    ]
    assert rows[0][5] == "øle ünicode\nole@example.com"


async def test_billing_amounts_are_rewritten_with_the_currencys_digits(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_migrate, billing_db.MIGRATIONS, BEFORE)
        for number, currency, amount in [
            (1, "EUR", "3.75"),
            (2, "JPY", "3750.00"),
            (3, "KWD", "3.75"),
        ]:
            await connection.execute(
                text(
                    "INSERT INTO local_orders (number, status, customer_name, customer_email,"
                    " currency, lines, total, row_version, created_at, updated_at, stored_at)"
                    " VALUES (:n, 'confirmed', 'Ada', 'ada@example.com', :c, '[]', :a, 1, :now,"
                    " :now, :now)"
                ),
                {"n": number, "c": currency, "a": amount, "now": NOW},
            )
            await connection.execute(
                text(
                    "INSERT INTO invoices (number, order_number, amount, currency, status,"
                    " order_deleted, customer_name, customer_email, created_at)"
                    " VALUES (:n, :n, :a, :c, 'pending_approval', false, 'Ada LOVELACE',"
                    " 'ada@example.com', :now)"
                ),
                {"n": number, "c": currency, "a": amount, "now": NOW},
            )
        await connection.run_sync(_migrate, billing_db.MIGRATIONS, "heads")

    rows = await _rows(
        engine, "SELECT number, amount, amount_minor, search_text FROM invoices ORDER BY number"
    )
    assert [tuple(row) for row in rows] == [
        (1, "3.75", 375, "ada lovelace\nada@example.com"),
        (2, "3750", 3750, "ada lovelace\nada@example.com"),
        (3, "3.750", 3750, "ada lovelace\nada@example.com"),
    ]
