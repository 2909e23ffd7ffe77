"""The sync state row: the continuation token, the pull's health and its running totals.

The token only moves by compare-and-set on (token, feed_id), in the same transaction as the
page it follows: a failed local write never moves it, and a token moved meanwhile (another
replica, `POST /sync/reset`) makes the page roll back instead of overwriting the move.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, func, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.db import Sessions
from billing_api.dead_letters import OpenLetters
from billing_api.health_state import judge
from billing_api.models import (
    SYNC_STATE_ID,
    DeadLetterCounts,
    FeedPage,
    HealthState,
    LocalOrder,
    RepairPublic,
    SyncState,
    SyncStatusPublic,
    SyncTotals,
    as_utc,
)
from service_db.faults import describe
from service_db.types import utcnow

logger = logging.getLogger("billing_api.sync")

# The apply outcomes and events the row keeps totals of (each is a column of SyncState).
COUNTED = frozenset({"new", "changed", "removed", "stale", "invoices_created", "dead_lettered"})


async def read_state(session: AsyncSession) -> SyncState:
    result = await session.exec(
        select(SyncState)
        .where(SyncState.id == SYNC_STATE_ID)
        .execution_options(populate_existing=True)
    )
    state = result.first()
    if state is None:
        raise SQLAlchemyError("billing's sync_state row is missing; was the schema created?")
    return state


def _at_token(token: int, feed_id: str | None) -> Update:
    return update(SyncState).where(
        col(SyncState.id) == SYNC_STATE_ID,
        col(SyncState.token) == token,
        col(SyncState.feed_id).is_not_distinct_from(feed_id),
    )


async def advance(
    session: AsyncSession,
    token: int,
    feed_id: str | None,
    page: FeedPage,
    counts: Counter[str],
    unrecorded: Failures | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Move the token past `page` and add its counts, if it is still at (token, feed_id).

    The last page of a pull (no `has_more`) also records the pull's success, in this same
    transaction rather than one of its own (one fewer on every pull and deep link), after any
    failures the row does not show yet (`unrecorded`)."""
    outcome = {**(unrecorded.values() if unrecorded else {}), **_success()}
    totals = {
        name: col(getattr(SyncState, name)) + n for name, n in counts.items() if name in COUNTED
    }
    moved = await session.exec(
        _at_token(token, feed_id).values(
            token=page.next_since,
            feed_id=page.feed_id,
            high_water=page.high_water,
            pages=col(SyncState.pages) + 1,
            **totals,
            **({} if page.has_more else outcome),
            **(extra or {}),
        )
    )
    return bool(moved.rowcount == 1)


async def move_token(
    sessions: Sessions, token: int, feed_id: str | None, new_token: int, new_feed_id: str
) -> bool:
    """Compare-and-set the token alone (a new feed: start over)."""
    async with sessions.begin() as session:
        moved = await session.exec(
            _at_token(token, feed_id).values(token=new_token, feed_id=new_feed_id)
        )
        return bool(moved.rowcount == 1)


async def reset_token(sessions: Sessions, token: int, repair: dict[str, Any] | None = None) -> int:
    """Continue from `token` whatever the token is now; returns the token before.

    An operator's decision: it lifts a halt (feed_guard.py) and adopts whatever feed ordering
    serves now. With `repair` (a RepairReport's JSON) the pull re-syncs repairing from there."""
    async with sessions.begin() as session:
        state = await read_state(session)
        before = state.token
        state.token = token
        state.feed_id = None
        state.halted_reason = None
        state.halted_at = None
        if repair is not None:
            state.repair_from = token
            state.last_repair = repair
        session.add(state)
    return before


async def halt(
    sessions: Sessions, token: int, feed_id: str | None, high_water: int, reason: str
) -> bool:
    """Stop the pull at (token, feed_id), saying why; False if the token moved meanwhile."""
    now = utcnow()
    async with sessions.begin() as session:
        halted = await session.exec(
            _at_token(token, feed_id).values(
                halted_reason=reason[:1000],
                halted_at=func.coalesce(col(SyncState.halted_at), now),
                high_water=high_water,
            )
        )
        return bool(halted.rowcount == 1)


async def position_before(session: AsyncSession, at: datetime) -> int:
    """The feed position to re-sync from to see again every change made at or after `at`:
    just before the first such change billing holds (else where billing's copy ends)."""
    first = (
        await session.exec(
            select(func.min(col(LocalOrder.change_seq))).where(
                col(LocalOrder.updated_at) >= as_utc(at)
            )
        )
    ).one()
    if first is not None:
        return max(0, int(first) - 1)
    last = (await session.exec(select(func.max(col(LocalOrder.change_seq))))).one()
    return int(last or 0)


def _success() -> dict[str, Any]:
    return {
        "last_success_at": utcnow(),
        "consecutive_failures": 0,
        "failing_since": None,
        "healthy": True,
        "pulls": col(SyncState.pulls) + 1,
    }


@dataclass(frozen=True)
class Failures:
    """Failed pulls the state row does not show yet: kept in memory while billing's own
    database is what failed, and written with the next outcome that reaches it, so the sync
    status still tells an operator what happened during the outage."""

    count: int
    reason: str
    at: datetime
    unauthorized: bool

    @classmethod
    def add(cls, earlier: Failures | None, reason: str, unauthorized: bool) -> Failures:
        count = (earlier.count if earlier else 0) + 1
        return cls(count, reason[:1000], utcnow(), unauthorized)

    def values(self) -> dict[str, object]:
        values: dict[str, object] = {
            "last_error": self.reason,
            "last_error_at": self.at,
            "consecutive_failures": col(SyncState.consecutive_failures) + self.count,
            "failing_since": func.coalesce(col(SyncState.failing_since), self.at),
        }
        if self.unauthorized:
            values["healthy"] = False
        return values


async def record_success(sessions: Sessions, unrecorded: Failures | None = None) -> bool:
    """Record a successful pull (after any failures not yet written); False if the database
    did not take it."""
    values = unrecorded.values() if unrecorded else {}
    values.update(
        last_success_at=utcnow(),
        consecutive_failures=0,
        failing_since=None,
        healthy=True,
        pulls=col(SyncState.pulls) + 1,
    )
    return await _record(sessions, **values)


async def record_failures(sessions: Sessions, failures: Failures) -> bool:
    """Record failed pulls; False if the database did not take them (it may be what failed)."""
    return await _record(sessions, **failures.values())


async def _record(sessions: Sessions, **values: object) -> bool:
    # Bookkeeping only: when billing's own database is down too, the log line must do for now.
    try:
        async with sessions.begin() as session:
            await session.exec(
                update(SyncState).where(col(SyncState.id) == SYNC_STATE_ID).values(**values)
            )
    except SQLAlchemyError as exc:
        logger.warning("could not record the pull's outcome yet: %s", short_error(exc))
        return False
    return True


def sync_status(
    state: SyncState, running: bool, now: datetime, letters: OpenLetters
) -> SyncStatusPublic:
    """What `GET /sync/status` shows: the row, with the lag and the health worked out."""
    lag_records = max(0, state.high_water - state.token)
    lag_seconds = 0.0
    if lag_records > 0 and state.last_success_at is not None:
        lag_seconds = max(0.0, (now - as_utc(state.last_success_at)).total_seconds())
    verdict = judge(state, letters.count, letters.oldest_at)
    return SyncStatusPublic(
        feed_id=state.feed_id,
        token=state.token,
        high_water=state.high_water,
        lag_records=lag_records,
        lag_seconds=round(lag_seconds, 3),
        last_success_at=state.last_success_at,
        last_error=state.last_error,
        last_error_at=state.last_error_at,
        consecutive_failures=state.consecutive_failures,
        healthy=verdict.health is HealthState.HEALTHY,
        health=verdict.health,
        health_reason=verdict.reason,
        health_since=verdict.since,
        halted=state.halted_reason is not None,
        repairing=state.repair_from is not None,
        running=running,
        dead_letters=DeadLetterCounts(open=letters.count, oldest_open_at=letters.oldest_at),
        last_repair=RepairPublic.model_validate(state.last_repair) if state.last_repair else None,
        totals=SyncTotals.model_validate(state, from_attributes=True),
    )


def short_error(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters."""
    return describe(exc)
