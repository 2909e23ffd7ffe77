"""Dead letters: feed records the pull could not apply, set aside so that it moves on.

A record lands here when it breaks one of billing's rules (order_rules.py; not retried: the
same record breaks it again) or when billing's database refuses it a few times in a row (a
constraint, a trigger). Its payload, the error, the times and the attempts are kept. At most one
letter per order is open: a later record of the same order that fails too replaces the payload,
and one that applies resolves the letter ("superseded"), since billing then holds a newer
version of that order.

An operator retries a letter once the cause is fixed (the order is read afresh from ordering
when it answers, else the stored payload is used) or dismisses it with a reason. Exactly one
invoice per order still holds: a retry goes through `apply_order`, whose invoice insert relies
on `UNIQUE(order_number)`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.db import Sessions
from billing_api.invoices import ApplyOutcome, apply_order, find_invoice_for_order
from billing_api.models import (
    DeadLetter,
    DeadLetterKind,
    DeadLetterStatus,
    OrderWire,
)
from billing_api.order_rules import rule_broken
from billing_api.ordering_client import OrderingClient, OrderingError
from billing_api.page_apply import PageApplied
from service_db.faults import describe, is_unavailable
from service_db.paging import newest_first
from service_db.types import as_utc, utcnow
from service_http.cursor import CursorCodec

logger = logging.getLogger("billing_api.dead_letters")

DEAD_LETTER_CURSOR = CursorCodec("dl")
# How often billing's database may refuse one record within a pull before it is set aside.
APPLY_ATTEMPTS = 3


class DeadLetterNotFound(LookupError):
    def __init__(self, letter_id: int) -> None:
        super().__init__(f"No dead letter {letter_id}.")


class DeadLetterClosed(Exception):
    """Retry or dismiss of a letter that is no longer open (409)."""

    def __init__(self, letter: DeadLetter) -> None:
        super().__init__(
            f"Dead letter {letter.id} is {letter.status.value} already"
            + (f" ({letter.resolution})." if letter.resolution else ".")
        )


class DeadLetterStillFailing(Exception):
    """A retry failed again (409); the letter stays open with the new error and attempt."""

    def __init__(self, letter_id: int, error: str) -> None:
        super().__init__(f"Dead letter {letter_id} still cannot be applied: {error}")


@dataclass(frozen=True)
class Rejected:
    """A record the pull sets aside: what the letter will hold."""

    payload: dict[str, Any]
    kind: DeadLetterKind
    error: str
    attempts: int = 1
    order_number: int | None = None
    row_version: int | None = None
    change_seq: int | None = None

    @classmethod
    def of(cls, order: OrderWire, kind: DeadLetterKind, error: str, attempts: int) -> Rejected:
        return cls(
            payload=order.model_dump(mode="json"),
            kind=kind,
            error=error[:1000],
            attempts=attempts,
            order_number=order.number,
            row_version=order.row_version,
            change_seq=order.change_seq,
        )


def numbers_in(payload: Any) -> tuple[int | None, int | None, int | None]:
    """(number, row_version, change_seq) of a raw record, where it carries usable ones."""

    def number(key: str) -> int | None:
        value = payload.get(key) if isinstance(payload, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return number("number"), number("row_version"), number("change_seq")


def split_by_rules(orders: list[OrderWire]) -> tuple[list[OrderWire], list[Rejected]]:
    """The orders billing's rules accept, and the others as rejected records."""
    good: list[OrderWire] = []
    rejected: list[Rejected] = []
    for order in orders:
        broken = rule_broken(order)
        if broken is None:
            good.append(order)
        else:
            rejected.append(Rejected.of(order, DeadLetterKind.RULE, broken, attempts=1))
    return good, rejected


async def apply_isolating(
    session: AsyncSession, orders: list[OrderWire], now: datetime
) -> tuple[PageApplied, list[Rejected]]:
    """Apply `orders` one by one, each in a savepoint of the caller's transaction, so that the
    records billing's database refuses (APPLY_ATTEMPTS times) are found and returned as
    rejected while the others apply. A database that is down is no record's fault: raised."""
    applied = PageApplied()
    refused: list[Rejected] = []
    for order in orders:
        error = ""
        result = None
        for _ in range(APPLY_ATTEMPTS):
            try:
                async with session.begin_nested():
                    result = await apply_order(session, order, now)
                break
            except SQLAlchemyError as exc:
                if is_unavailable(exc):
                    raise
                error = describe(exc)
                result = None
        if result is None:
            refused.append(
                Rejected.of(
                    order,
                    DeadLetterKind.DATABASE,
                    f"billing's database refused it {APPLY_ATTEMPTS} times: {error}",
                    APPLY_ATTEMPTS,
                )
            )
        elif result.outcome is ApplyOutcome.IGNORED:
            applied.ignored.append(order.number)
        else:
            applied.counts[result.outcome.value] += 1
            applied.counts["invoices_created"] += int(result.invoice_created)
    return applied, refused


async def set_aside(session: AsyncSession, records: list[Rejected], now: datetime) -> None:
    """Store `records` as open letters in the caller's transaction (one open letter per order:
    a later failure of the same order updates it)."""
    for record in records:
        values = {
            "payload": record.payload,
            "kind": record.kind,
            "error": record.error,
            "row_version": record.row_version,
            "change_seq": record.change_seq,
            "last_failed_at": now,
        }
        if record.order_number is not None:
            result = await session.exec(
                update(DeadLetter)
                .where(
                    col(DeadLetter.order_number) == record.order_number,
                    col(DeadLetter.status) == DeadLetterStatus.OPEN,
                )
                .values(attempts=col(DeadLetter.attempts) + record.attempts, **values)
            )
            if result.rowcount:
                continue
        await session.exec(
            insert(DeadLetter).values(
                order_number=record.order_number,
                attempts=record.attempts,
                status=DeadLetterStatus.OPEN,
                first_failed_at=now,
                **values,
            )
        )
        logger.warning(
            "record of order %s set aside as a dead letter: %s", record.order_number, record.error
        )


async def resolve_superseded(session: AsyncSession, numbers: list[int], now: datetime) -> None:
    """Open letters of orders the pull has just applied a newer record of are resolved."""
    if not numbers:
        return
    await session.exec(
        update(DeadLetter)
        .where(
            col(DeadLetter.status) == DeadLetterStatus.OPEN,
            col(DeadLetter.order_number).in_(numbers),
        )
        .values(
            status=DeadLetterStatus.RESOLVED,
            resolved_at=now,
            resolution="superseded: a later record of the order was applied by the pull",
        )
    )


@dataclass(frozen=True)
class OpenLetters:
    count: int
    oldest_at: datetime | None


async def open_letters(session: AsyncSession) -> OpenLetters:
    row = (
        await session.exec(
            select(func.count(), func.min(col(DeadLetter.first_failed_at))).where(
                col(DeadLetter.status) == DeadLetterStatus.OPEN
            )
        )
    ).one()
    count, oldest = row
    return OpenLetters(int(count), as_utc(oldest) if oldest is not None else None)


async def list_letters(
    session: AsyncSession, status: DeadLetterStatus | None, limit: int, before: int | None
) -> tuple[list[DeadLetter], int | None]:
    query = select(DeadLetter)
    if status is not None:
        query = query.where(col(DeadLetter.status) == status)
    return await newest_first(session, query, col(DeadLetter.id), limit, before)


async def get_letter(session: AsyncSession, letter_id: int, *, lock: bool = False) -> DeadLetter:
    query = select(DeadLetter).where(col(DeadLetter.id) == letter_id)
    if lock:
        query = query.with_for_update()
    letter = (await session.exec(query.execution_options(populate_existing=True))).first()
    if letter is None:
        raise DeadLetterNotFound(letter_id)
    return letter


async def dismiss(sessions: Sessions, letter_id: int, reason: str) -> DeadLetter:
    """An operator leaves the record unapplied, saying why; the letter is closed."""
    async with sessions.begin() as session:
        letter = await get_letter(session, letter_id, lock=True)
        if letter.status is not DeadLetterStatus.OPEN:
            raise DeadLetterClosed(letter)
        letter.status = DeadLetterStatus.DISMISSED
        letter.resolved_at = utcnow()
        letter.resolution = f"dismissed: {reason}"[:500]
        session.add(letter)
    logger.warning("dead letter %d dismissed: %s", letter_id, reason)
    return letter


@dataclass(frozen=True)
class RetryResult:
    letter: DeadLetter
    outcome: ApplyOutcome
    invoice_number: int | None
    source: str  # "ordering" (read afresh) or "payload" (ordering could not be asked)


async def _current_record(
    client: OrderingClient, letter: DeadLetter
) -> tuple[OrderWire | None, str, str | None]:
    """The record to apply: ordering's current order when it answers, else the stored payload.
    Returns (order or None, source, why it cannot be read)."""
    if letter.order_number is not None:
        try:
            fresh = await client.fetch_order(letter.order_number)
        except OrderingError as exc:
            logger.info("retry of dead letter %s uses its payload: %s", letter.id, exc)
        else:
            if fresh is not None:
                return fresh, "ordering", None
    try:
        return OrderWire.model_validate(letter.payload), "payload", None
    except ValidationError as exc:
        return None, "payload", f"the stored record is not an order ({exc.error_count()} problems)"


async def _record_attempt(sessions: Sessions, letter_id: int, error: str) -> None:
    async with sessions.begin() as session:
        await session.exec(
            update(DeadLetter)
            .where(col(DeadLetter.id) == letter_id)
            .values(
                attempts=col(DeadLetter.attempts) + 1,
                error=error[:1000],
                last_failed_at=utcnow(),
            )
        )


async def retry(sessions: Sessions, client: OrderingClient, letter_id: int) -> RetryResult:
    """Apply the letter's order again; resolved when it applies, else it stays open with the
    new error (DeadLetterStillFailing). Billing's database being down is no new attempt: the
    database error is raised as it is (503)."""
    async with sessions() as session:
        letter = await get_letter(session, letter_id)
    if letter.status is not DeadLetterStatus.OPEN:
        raise DeadLetterClosed(letter)
    order, source, unreadable = await _current_record(client, letter)
    error = unreadable or (rule_broken(order) if order is not None else None)
    if error is not None or order is None:
        await _record_attempt(sessions, letter_id, error or "no order to apply")
        raise DeadLetterStillFailing(letter_id, error or "no order to apply")
    try:
        async with sessions.begin() as session:
            locked = await get_letter(session, letter_id, lock=True)
            if locked.status is not DeadLetterStatus.OPEN:
                raise DeadLetterClosed(locked)
            now = utcnow()
            applied = await apply_order(session, order, now)
            invoice = await find_invoice_for_order(session, order.number)
            locked.status = DeadLetterStatus.RESOLVED
            locked.resolved_at = now
            locked.resolution = (
                f"applied by a retry ({applied.outcome.value}, version {order.row_version} "
                f"from {source})"
            )
            session.add(locked)
    except SQLAlchemyError as exc:
        if is_unavailable(exc):
            raise
        await _record_attempt(
            sessions, letter_id, f"billing's database refused it: {describe(exc)}"
        )
        raise DeadLetterStillFailing(letter_id, describe(exc)) from exc
    logger.warning("dead letter %d applied by a retry: %s", letter_id, locked.resolution)
    return RetryResult(
        locked, applied.outcome, invoice.number if invoice is not None else None, source
    )
