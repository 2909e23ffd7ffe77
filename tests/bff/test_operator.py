"""The operator's GraphQL fields over billing's repair routes, against the real apps: health in
words, dead letters retried and dismissed, pull now, repairing re-sync, reconciliation."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import strawberry
from graphql import build_schema

from bff.operator_schema import OPERATOR_FIELDS
from bff.schema import Mutation, Query
from tests.bff.conftest import CONFIRM, System, create_order

STATUS = """{ syncStatus { health healthReason healthSince halted repairing healthy
  deadLettersOpen deadLettersOldestAt totals { deadLettered } } }"""
LETTERS = """query($status: DeadLetterStatus) { deadLetters(status: $status) {
  items { id orderNumber kind error attempts status resolution payload } nextCursor } }"""
RETRY = """mutation($id: Int!) { retryDeadLetter(id: $id) {
  outcome invoiceNumber source deadLetter { status resolution } } }"""
DISMISS = """mutation($id: Int!, $reason: String!) { dismissDeadLetter(id: $id, reason: $reason) {
  status resolution } }"""
PULL = "mutation { pullNow { pages new tokenAfter deadLettered } }"
RECONCILE = """{ reconciliationReport(rangeSize: 10) { inSync orderingOrders billingOrders
  missing { number orderingStatus billingStatus } different { number }
  confirmedWithoutInvoice rangesDiffering } }"""
RESYNC = """mutation($position: Int, $since: DateTime) { resync(position: $position, since: $since)
  { repair { fromPosition finishedAt ordersSeen overwritten } status { health halted } } }"""


def _set_total(system: System, number: int, cents: int) -> None:
    database = Path(system.settings.web_dir).parent / "ordering.db"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("UPDATE orders SET total_cents = ? WHERE number = ?", (cents, number))
        db.commit()


def _code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def test_operator_fields_are_listed_for_the_operator_role() -> None:
    """The names the role permissions attach to are exactly the operator's root fields."""
    schema = build_schema(strawberry.Schema(query=Query, mutation=Mutation).as_str())
    assert schema.query_type is not None and schema.mutation_type is not None
    names = {*schema.query_type.fields, *schema.mutation_type.fields}
    assert names >= OPERATOR_FIELDS


async def test_an_operator_repairs_the_integration_through_graphql(system: System) -> None:
    numbers = []
    for _ in range(3):
        number = await create_order(system)
        await system.ok(CONFIRM, {"number": number})
        numbers.append(number)
    _, second, third = numbers
    _set_total(system, second, 1)
    _set_total(system, third, 2)

    pulled = (await system.ok(PULL))["pullNow"]
    assert (pulled["new"], pulled["tokenAfter"], pulled["deadLettered"]) == (1, 3, 2)
    status = (await system.ok(STATUS))["syncStatus"]
    assert (status["health"], status["healthy"], status["deadLettersOpen"]) == (
        "DEGRADED",
        False,
        2,
    )
    assert "dead letters" in status["healthReason"] and status["healthSince"]
    assert status["totals"]["deadLettered"] == 2

    letters = (await system.ok(LETTERS))["deadLetters"]["items"]
    by_order = {letter["orderNumber"]: letter for letter in letters}
    assert set(by_order) == {second, third}
    assert by_order[second]["kind"] == "RULE"
    assert by_order[second]["payload"]["total"] == "0.01", "the record as ordering sent it"
    assert "is not the sum of its lines" in by_order[second]["error"]

    # Retrying before the cause is fixed: CONFLICT, in billing's words.
    again = await system.gql(RETRY, {"id": by_order[second]["id"]})
    assert _code(again) == "CONFLICT"
    assert "still cannot be applied" in again["errors"][0]["message"]

    _set_total(system, second, 320)  # the lines' sum again: 4 x 0.25 + 2 x 1.10
    retried = (await system.ok(RETRY, {"id": by_order[second]["id"]}))["retryDeadLetter"]
    assert (retried["outcome"], retried["source"]) == ("new", "ordering")
    assert retried["deadLetter"]["status"] == "RESOLVED"
    invoice = (await system.ok(f"{{ invoice(orderNumber: {second}) {{ number }} }}"))["invoice"]
    assert invoice["number"] == retried["invoiceNumber"]

    dismissed = await system.ok(
        DISMISS, {"id": by_order[third]["id"], "reason": "a test order, never billed"}
    )
    assert dismissed["dismissDeadLetter"]["resolution"] == "dismissed: a test order, never billed"
    blank = await system.gql(DISMISS, {"id": by_order[third]["id"], "reason": "x"})
    assert _code(blank) == "CONFLICT"
    missing = await system.gql(RETRY, {"id": 9999})
    assert _code(missing) == "NOT_FOUND"
    assert (await system.ok(LETTERS, {"status": "OPEN"}))["deadLetters"]["items"] == []

    report = (await system.ok(RECONCILE))["reconciliationReport"]
    assert report["inSync"] is False
    assert (report["orderingOrders"], report["billingOrders"]) == (3, 2)
    assert report["missing"] == [
        {"number": third, "orderingStatus": "confirmed", "billingStatus": None}
    ]
    assert report["confirmedWithoutInvoice"] == [third]

    both = await system.gql(RESYNC, {"position": 0, "since": "2026-01-01T00:00:00Z"})
    assert _code(both) == "BAD_USER_INPUT"
    resync = (await system.ok(RESYNC, {"position": 0}))["resync"]
    assert resync["repair"]["fromPosition"] == 0 and resync["repair"]["finishedAt"]
    assert resync["repair"]["ordersSeen"] == 3
    assert resync["status"]["halted"] is False
