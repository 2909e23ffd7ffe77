"""The sync state row: the continuation token, the pull's health and its running totals.

The token only moves by compare-and-set on (token, feed_id), in the same transaction as the
page it follows: a failed local write never moves it, and a token moved meanwhile (another
replica, `POST /sync/reset`) makes the page roll back instead of overwriting the move.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Update, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.db import Sessions
from billing_api.models import (
    SYNC_STATE_ID,
    FeedPage,
    SyncState,
    SyncStatusPublic,
    SyncTotals,
    utc,
    utcnow,
)

logger = logging.getLogger("billing_api.sync")

# The apply outcomes and events the row keeps totals of (each is a column of SyncState).
COUNTED = frozenset({"new", "changed", "removed", "stale", "invoices_created"})


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
    session: AsyncSession, token: int, feed_id: str | None, page: FeedPage, counts: Counter[str]
) -> bool:
    """Move the token past `page` and add its counts, if it is still at (token, feed_id).

    The last page of a pull (no `has_more`) also records the pull's success, in this same
    transaction rather than one of its own (one fewer on every pull and deep link)."""
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
            **({} if page.has_more else _success()),
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


async def reset_token(sessions: Sessions, token: int) -> int:
    """Continue from `token` whatever the token is now; returns the token before."""
    async with sessions.begin() as session:
        state = await read_state(session)
        before = state.token
        state.token = token
        session.add(state)
    return before


def _success() -> dict[str, Any]:
    return {
        "last_success_at": utcnow(),
        "consecutive_failures": 0,
        "healthy": True,
        "pulls": col(SyncState.pulls) + 1,
    }


async def record_failure(sessions: Sessions, reason: str, unauthorized: bool) -> None:
    values: dict[str, object] = {
        "last_error": reason[:1000],
        "last_error_at": utcnow(),
        "consecutive_failures": col(SyncState.consecutive_failures) + 1,
    }
    if unauthorized:
        values["healthy"] = False
    await _record(sessions, **values)


async def _record(sessions: Sessions, **values: object) -> None:
    # Bookkeeping only: when billing's own database is down too, the log line must do.
    try:
        async with sessions.begin() as session:
            await session.exec(
                update(SyncState).where(col(SyncState.id) == SYNC_STATE_ID).values(**values)
            )
    except SQLAlchemyError as exc:
        logger.warning("could not record the pull's outcome: %s", short_error(exc))


def sync_status(state: SyncState, running: bool, now: datetime) -> SyncStatusPublic:
    """What `GET /sync/status` shows: the row, with the lag worked out."""
    lag_records = max(0, state.high_water - state.token)
    lag_seconds = 0.0
    if lag_records > 0 and state.last_success_at is not None:
        lag_seconds = max(0.0, (now - utc(state.last_success_at)).total_seconds())
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
        healthy=state.healthy,
        running=running,
        totals=SyncTotals.model_validate(state, from_attributes=True),
    )


def short_error(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters."""
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:300].rstrip(": ")
