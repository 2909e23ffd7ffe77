"""The audit trail end to end: who created, confirmed and deleted an order (ordering), who
approved an invoice and what the sync did (billing), with the row version, on SQLite and on
PostgreSQL; an idempotent retry adds no second row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service_db.engine import create_engine
from tests.billing_api.conftest import run_billing, run_ordering


def as_user(name: str, key: str | None = None) -> dict[str, str]:
    headers = {"X-Acting-User": name}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def trail(page: dict[str, Any], version_field: str) -> list[tuple[str, str, int]]:
    return [(e["action"], e["actor"], e[version_field]) for e in page["entries"]]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    if request.param == "sqlite":
        return lambda name: f"sqlite+aiosqlite:///{tmp_path / name}.db"
    make_pg_url = request.getfixturevalue("make_pg_url")
    return lambda name: str(make_pg_url())


async def test_history_records_who_did_what_with_the_version(
    database_urls: Callable[[str], str],
) -> None:
    async with (
        run_ordering(database_urls("ordering")) as ordering,
        run_billing(database_urls("billing"), ordering.transport) as billing,
    ):
        orders = ordering.clerk.client
        body = {
            "customer": {"name": "Ada", "email": "ada@example.com"},
            "lines": [{"sku": "A", "quantity": 2, "unit_price": "1.50"}],
        }
        # Each write twice with the same key: the retry answers the first result, no new row.
        for _ in range(2):
            created = await orders.post("/orders", json=body, headers=as_user("ada", "k-create"))
            assert created.status_code == 201, created.text
        number = created.json()["number"]
        for _ in range(2):
            confirmed = await orders.post(
                f"/orders/{number}/confirm", headers=as_user("bob%20b.", "k-confirm")
            )
            assert confirmed.status_code == 200, confirmed.text
        assert (confirmed.json()["created_by"], confirmed.json()["confirmed_by"]) == (
            "ada",
            "bob b.",
        )
        gone = (await orders.post("/orders", json=body, headers=as_user("ada"))).json()["number"]
        await orders.post(f"/orders/{gone}/confirm", headers=as_user("ada"))
        await billing.syncer.pull()
        deleted = await orders.delete(f"/orders/{gone}", headers=as_user("dave"))
        assert deleted.json()["deleted_by"] == "dave"

        history = (await orders.get(f"/orders/{number}/history")).json()
        assert history["order_number"] == number
        assert trail(history, "row_version") == [("created", "ada", 1), ("confirmed", "bob b.", 2)]
        assert history["entries"][0]["at"] == created.json()["created_at"]
        assert history["entries"][1]["at"] == confirmed.json()["confirmed_at"]
        assert trail((await orders.get(f"/orders/{gone}/history")).json(), "row_version") == [
            ("created", "ada", 1),
            ("confirmed", "ada", 2),
            ("deleted", "dave", 3),
        ]
        assert (await orders.get("/orders/999999/history")).status_code == 404

        await billing.syncer.pull()
        invoices = (
            await billing.http.get(
                "/invoices", params=[("order_number", number), ("order_number", gone)]
            )
        ).json()["invoices"]
        by_order = {i["order_number"]: i["number"] for i in invoices}
        invoice = by_order[number]
        for _ in range(2):
            approved = await billing.http.post(
                f"/invoices/{invoice}/approve", headers=as_user("carol", "k-approve")
            )
            assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == "carol"
        again = await billing.http.post(f"/invoices/{invoice}/approve", headers=as_user("eve"))
        assert again.json()["approved_by"] == "carol", "approving again changes nothing"

        invoice_history = (await billing.http.get(f"/invoices/{invoice}/history")).json()
        assert trail(invoice_history, "order_version") == [
            ("created", "billing sync", 2),
            ("approved", "carol", 2),
        ]
        voided = (await billing.http.get(f"/invoices/{by_order[gone]}/history")).json()
        assert trail(voided, "order_version") == [
            ("created", "billing sync", 2),
            ("voided", "billing sync", 3),
        ]
        assert (await billing.http.get("/invoices/999999/history")).status_code == 404


async def test_the_history_tables_refuse_updates_and_deletes(
    database_urls: Callable[[str], str],
) -> None:
    """Append-only in the database itself (triggers made by the migration), on both kinds."""
    async with (
        run_ordering(database_urls("ordering")) as ordering,
        run_billing(database_urls("billing"), ordering.transport) as billing,
    ):
        await ordering.clerk.confirmed()
        await billing.syncer.pull()
        engines = [(billing.engine, "invoice_history")]
        ordering_engine = create_engine(ordering.database_url)
        engines.append((ordering_engine, "order_history"))
        try:
            for engine, table in engines:
                for statement in (f"UPDATE {table} SET actor = 'mallory'", f"DELETE FROM {table}"):
                    with pytest.raises(DBAPIError, match="append-only"):
                        async with engine.begin() as connection:
                            await connection.execute(text(statement))
                async with engine.connect() as connection:
                    actors = (await connection.execute(text(f"SELECT actor FROM {table}"))).all()
                assert actors and "mallory" not in {row[0] for row in actors}
        finally:
            await ordering_engine.dispose()
