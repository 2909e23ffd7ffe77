"""The operator's GraphQL root fields: repair the integration between ordering and billing.

OPERATOR_FIELDS names every root field here: they are for the operator role (the identity
issue's permissions attach to exactly these names). Thin resolvers: billing does the work
(billing_api.operator_routes), bff.operator_client calls it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from bff.context import Info
from bff.errors import BadUserInput, FieldProblem
from bff.operator_client import BillingOperations
from bff.operator_types import (
    DeadLetter,
    DeadLetterPage,
    DeadLetterRetryPayload,
    DeadLetterStatus,
    PullReport,
    ReconciliationReport,
    RepairReport,
)
from bff.permissions import OPERATE
from bff.types import SyncStatus, wire

# Root fields for the operator role only (Query and Mutation), by their GraphQL names.
OPERATOR_FIELDS = frozenset(
    {
        "deadLetters",
        "reconciliationReport",
        "pullNow",
        "resync",
        "retryDeadLetter",
        "dismissDeadLetter",
    }
)
MAX_DEAD_LETTERS = 100


def _operations(info: Info) -> BillingOperations:
    return BillingOperations(info.context.billing)


@strawberry.type(description="What a repairing re-sync did, and the pull's state after it.")
class ResyncPayload:
    repair: RepairReport = strawberry.field(description="What the re-sync changed.")
    status: SyncStatus = strawberry.field(description="The pull's state after the re-sync.")


DeadLetterFilter = Annotated[
    DeadLetterStatus | None,
    strawberry.argument(description="Only dead letters in this status; null: all of them."),
]
First = Annotated[
    int, strawberry.argument(description=f"How many to return, 1 to {MAX_DEAD_LETTERS}.")
]
After = Annotated[
    str | None,
    strawberry.argument(description="A page's `nextCursor`: return the page after it."),
]
RangeSize = Annotated[
    int,
    strawberry.argument(
        description="Order numbers per range compared by digest, 1 to 100000 (smaller ranges: "
        "more requests, less read again where they differ)."
    ),
]
DeadLetterId = Annotated[int, strawberry.argument(description="The dead letter's `id`.")]
Reason = Annotated[
    str, strawberry.argument(description="Why it is left unapplied (kept with it, for the record).")
]


@strawberry.type
class OperatorQuery:
    @strawberry.field(
        description="Operator: records billing could not apply, newest first.",
        permission_classes=OPERATE,
    )
    async def dead_letters(
        self,
        info: Info,
        status: DeadLetterFilter = DeadLetterStatus.OPEN,
        first: First = 20,
        after: After = None,
    ) -> DeadLetterPage:
        if not 1 <= first <= MAX_DEAD_LETTERS:
            raise BadUserInput(
                f"first must be between 1 and {MAX_DEAD_LETTERS}.",
                [FieldProblem("first", f"must be between 1 and {MAX_DEAD_LETTERS}")],
            )
        page = await _operations(info).dead_letters(wire(status) if status else None, first, after)
        return DeadLetterPage(
            items=[DeadLetter.from_record(d) for d in page.dead_letters],
            next_cursor=page.next_cursor,
        )

    @strawberry.field(
        description="Operator: compare billing's copy with ordering (reads only; may take "
        "seconds on a large copy).",
        permission_classes=OPERATE,
    )
    async def reconciliation_report(
        self, info: Info, range_size: RangeSize = 1000
    ) -> ReconciliationReport:
        if not 1 <= range_size <= 100_000:
            raise BadUserInput(
                "rangeSize must be between 1 and 100000.",
                [FieldProblem("rangeSize", "must be between 1 and 100000")],
            )
        return ReconciliationReport.from_record(await _operations(info).reconciliation(range_size))


Position = Annotated[
    int | None, strawberry.argument(description="Feed position to re-sync from; 0: everything.")
]
Since = Annotated[
    datetime | None,
    strawberry.argument(description="Or: re-sync the changes made at or after this time."),
]


@strawberry.type
class OperatorMutation:
    @strawberry.mutation(
        description="Operator: pull from ordering now and report.", permission_classes=OPERATE
    )
    async def pull_now(self, info: Info) -> PullReport:
        return PullReport.from_record(await _operations(info).pull_now())

    @strawberry.mutation(
        description="Operator: repairing re-sync from a feed position or a time (exactly one). "
        "Lifts a halt; never makes a second invoice; reports what it changed.",
        permission_classes=OPERATE,
    )
    async def resync(
        self, info: Info, position: Position = None, since: Since = None
    ) -> ResyncPayload:
        if (position is None) == (since is None):
            raise BadUserInput("Give exactly one of position and since.")
        if since is not None and since.tzinfo is None:
            raise BadUserInput(
                "since needs a time zone (e.g. 2026-11-21T10:00:00Z).",
                [FieldProblem("since", "needs a time zone")],
            )
        repair, status = await _operations(info).resync(position, since)
        return ResyncPayload(
            repair=RepairReport.from_record(repair), status=SyncStatus.from_record(status)
        )

    @strawberry.mutation(
        description="Operator: apply a dead letter's record again (after its cause is fixed).",
        permission_classes=OPERATE,
    )
    async def retry_dead_letter(self, info: Info, id: DeadLetterId) -> DeadLetterRetryPayload:
        result = await _operations(info).retry_dead_letter(id)
        return DeadLetterRetryPayload(
            dead_letter=DeadLetter.from_record(result.dead_letter),
            outcome=result.outcome,
            invoice_number=result.invoice_number,
            source=result.source,
        )

    @strawberry.mutation(
        description="Operator: leave a dead letter unapplied, with a reason.",
        permission_classes=OPERATE,
    )
    async def dismiss_dead_letter(self, info: Info, id: DeadLetterId, reason: Reason) -> DeadLetter:
        return DeadLetter.from_record(await _operations(info).dismiss_dead_letter(id, reason))
