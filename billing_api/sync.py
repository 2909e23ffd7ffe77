"""The pull: page through ordering's change feed into the local copy.

`Syncer.pull()` is one run (what the scheduled loop, `POST /sync/run` and the deep link call);
`Syncer.run_forever()` is the thin loop around it.

Guarantees, and how:
- Each page and its continuation token commit in one local transaction; the token update is a
  compare-and-set on (token, feed_id), so a failed local write never moves the token and a
  token moved meanwhile (another replica, `POST /sync/reset`) rolls the page back.
- Single flight in a process: one shared task that later callers join.
- Single flight across replicas: on PostgreSQL an advisory lock held on a dedicated connection
  for the whole pull. On SQLite every write transaction is `BEGIN IMMEDIATE` (see db.py), so
  writers on one file are serialized anyway and the compare-and-set settles any overlap.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing_api.db import is_postgres, new_session
from billing_api.invoices import ApplyOutcome, apply_order, now_utc
from billing_api.models import (
    SYNC_STATE_ID,
    ChangesPage,
    PullReportPublic,
    SyncState,
    SyncStatusPublic,
    SyncTotals,
    utc,
)
from billing_api.ordering_client import OrderingClient, OrderingError, OrderingUnauthorized
from service_db.faults import describe

logger = logging.getLogger("billing_api.sync")

# pg_advisory_lock key shared by every billing replica on one database ("bilp").
PULL_LOCK_KEY = 0x62696C70
LOCK_POLL_SECONDS = 0.05
MAX_BACKOFF_EXPONENT = 30


class PullFailed(Exception):
    """A pull stopped early; the token stays at the last committed page. `reason` is for people."""

    def __init__(self, reason: str, *, unauthorized: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unauthorized = unauthorized


class PullBusy(PullFailed):
    """Another replica kept the pull lock longer than we were willing to wait."""


class _TokenMoved(Exception):
    """The compare-and-set on the token matched no row: someone else moved it first."""


@dataclass
class PullReport:
    token_before: int
    token_after: int
    feed_id: str | None
    pages: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    stale: int = 0
    invoices_created: int = 0
    duration_ms: float = 0.0

    def public(self) -> PullReportPublic:
        return PullReportPublic(
            pages=self.pages,
            new=self.new,
            changed=self.changed,
            removed=self.removed,
            stale=self.stale,
            token_before=self.token_before,
            token_after=self.token_after,
            duration_ms=round(self.duration_ms, 3),
            feed_id=self.feed_id,
        )

    def summary(self) -> str:
        return (
            f"pages={self.pages} new={self.new} changed={self.changed} removed={self.removed} "
            f"stale={self.stale} token={self.token_before}->{self.token_after} "
            f"duration_ms={self.duration_ms:.1f}"
        )


@dataclass(frozen=True)
class _Failures:
    count: int
    reason: str
    at: datetime
    unauthorized: bool


@dataclass
class _PageCounts:
    new: int = 0
    changed: int = 0
    removed: int = 0
    stale: int = 0
    invoices_created: int = 0


def backoff_delay(
    failures: int, interval: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """`min(cap, interval * 2**(failures-1))`, jittered into [half, full] so replicas spread."""
    exponent = min(max(failures, 1) - 1, MAX_BACKOFF_EXPONENT)
    full = min(cap, interval * 2**exponent)
    return full / 2 + rand() * full / 2


class Syncer:
    def __init__(
        self,
        engine: AsyncEngine,
        client: OrderingClient,
        *,
        interval: float,
        backoff_cap: float,
        page_size: int,
        lock_wait: float,
    ) -> None:
        self.engine = engine
        self.client = client
        self.interval = interval
        self.backoff_cap = backoff_cap
        self.page_size = page_size
        self.lock_wait = lock_wait
        self._inflight: asyncio.Task[PullReport | None] | None = None
        # Failures the state row does not show yet (billing's database was down too).
        self._unrecorded: _Failures | None = None

    # ------------------------------------------------------------------ entry points

    @property
    def running(self) -> bool:
        return self._inflight is not None and not self._inflight.done()

    async def pull(self, *, wait_for_lock: bool = True) -> PullReport | None:
        """Run a pull, or join the one already running in this process.

        Returns None when another replica is pulling and `wait_for_lock` is False (the
        scheduled loop just skips its turn). Raises `PullFailed` when the pull stopped early.
        """
        task = self._inflight
        if task is None or task.done():
            task = asyncio.create_task(self._pull(wait_for_lock), name="billing-pull")
            # A pull whose callers all went away must not log "exception never retrieved".
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._inflight = task
        # shield: a caller that gives up (a closed browser) does not cancel the shared pull.
        report = await asyncio.shield(task)
        if report is None and wait_for_lock:
            # We joined a scheduled pull that skipped its turn; this caller wants a real one.
            return await self.pull(wait_for_lock=True)
        return report

    async def run_forever(
        self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    ) -> None:
        """The scheduled pull: every `interval` seconds, backing off while ordering fails."""
        failures = 0
        while True:
            try:
                await self.pull(wait_for_lock=False)
                failures, delay = 0, self.interval
            except PullFailed as exc:
                failures += 1
                # A wrong token will not heal by itself: retry at the slowest pace only.
                delay = (
                    self.backoff_cap
                    if exc.unauthorized
                    else backoff_delay(failures, self.interval, self.backoff_cap)
                )
            except Exception:
                failures += 1
                logger.exception("pull crashed")
                delay = backoff_delay(failures, self.interval, self.backoff_cap)
            await sleep(delay)

    async def aclose(self) -> None:
        """Cancel a pull in flight and wait until it has cleaned up.

        Safe because the pull is a plain asyncio task cancelled exactly once: SQLAlchemy's
        cleanup of an aiosqlite call it interrupted then runs to the end. Running the pull
        directly under the lifespan's task group instead (whose cancel scope keeps cancelling)
        leaves that cleanup unfinished and the process hanging at exit, as ordering found;
        tests/billing_api/test_shutdown.py holds this.
        """
        task = self._inflight
        if task is not None and not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.wait([task])

    async def status(self) -> SyncStatusPublic:
        async with new_session(self.engine, read_only=True) as session:
            state = await _read_state(session)
            running = self.running or await self._lock_held_elsewhere()
        lag_records = max(0, state.high_water - state.token)
        lag_seconds = 0.0
        if lag_records > 0 and state.last_success_at is not None:
            lag_seconds = max(0.0, (now_utc() - utc(state.last_success_at)).total_seconds())
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

    async def reset(self, token: int) -> None:
        """Continue from `token` (0: full resync). A pull in flight notices at its next page."""
        async with new_session(self.engine) as session, session.begin():
            state = await _read_state(session)
            before = state.token
            state.token = token
            session.add(state)
        logger.warning("sync token reset %d->%d", before, token)

    # ------------------------------------------------------------------ the pull

    async def _pull(self, wait_for_lock: bool) -> PullReport | None:
        async with self._replica_lock(wait_for_lock) as locked:
            if not locked:
                if wait_for_lock:
                    raise PullBusy("another billing replica is pulling; try again shortly")
                logger.debug("pull skipped: another replica holds the pull lock")
                return None
            return await self._pull_locked()

    async def _pull_locked(self) -> PullReport:
        started = time.perf_counter()
        try:
            async with new_session(self.engine, read_only=True) as session:
                state = await _read_state(session)
        except SQLAlchemyError as exc:
            raise await self._database_failed("before start", exc) from exc
        report = PullReport(state.token, state.token, state.feed_id)
        try:
            await self._pull_pages(report)
        except (OrderingError, SQLAlchemyError) as exc:
            report.duration_ms = (time.perf_counter() - started) * 1000
            unauthorized = isinstance(exc, OrderingUnauthorized)
            if isinstance(exc, SQLAlchemyError):
                reason = f"billing's database failed: {_short(exc)}"
            else:
                reason = str(exc)
            logger.warning("pull failed %s: %s", report.summary(), reason)
            await self._record_failure(reason, unauthorized)
            raise PullFailed(reason, unauthorized=unauthorized) from exc
        report.duration_ms = (time.perf_counter() - started) * 1000
        await self._record_success()
        logger.info("pull ok %s", report.summary())
        return report

    async def _pull_pages(self, report: PullReport) -> None:
        token, feed_id = report.token_after, report.feed_id
        while True:
            page = await self.client.fetch_changes(token, self.page_size)
            if feed_id is not None and page.feed_id != feed_id:
                # Another owner database: its positions mean nothing against our token.
                logger.warning(
                    "ordering's feed_id changed %s->%s: starting over from token 0",
                    feed_id,
                    page.feed_id,
                )
                if await self._move_token(token, feed_id, 0, page.feed_id):
                    token, feed_id = 0, page.feed_id
                    report.token_after, report.feed_id = token, feed_id
                    continue
            elif await self._apply_page(page, token, feed_id, report):
                token, feed_id = page.next_since, page.feed_id
                report.token_after, report.feed_id = token, feed_id
                if not page.has_more:
                    return
                continue
            # The compare-and-set missed: a reset or another writer moved the token. Follow it.
            async with new_session(self.engine, read_only=True) as session:
                state = await _read_state(session)
            logger.info("token moved %d->%d by another writer: following", token, state.token)
            token, feed_id = state.token, state.feed_id
            report.token_after, report.feed_id = token, feed_id

    async def _apply_page(
        self, page: ChangesPage, token: int, feed_id: str | None, report: PullReport
    ) -> bool:
        """Apply one page and advance the token in one transaction; False if the token moved."""
        counts = _PageCounts()
        now = now_utc()
        try:
            async with new_session(self.engine) as session, session.begin():
                for order in page.orders:
                    result = await apply_order(session, order, now)
                    if result.outcome is ApplyOutcome.IGNORED:
                        logger.warning(
                            "feed carried order %d that was never confirmed: ignored",
                            order.number,
                        )
                    elif result.outcome is ApplyOutcome.NEW:
                        counts.new += 1
                    elif result.outcome is ApplyOutcome.CHANGED:
                        counts.changed += 1
                    elif result.outcome is ApplyOutcome.REMOVED:
                        counts.removed += 1
                    else:
                        counts.stale += 1
                    counts.invoices_created += int(result.invoice_created)
                moved = await session.exec(
                    update(SyncState)
                    .where(
                        col(SyncState.id) == SYNC_STATE_ID,
                        col(SyncState.token) == token,
                        col(SyncState.feed_id).is_not_distinct_from(feed_id),
                    )
                    .values(
                        token=page.next_since,
                        feed_id=page.feed_id,
                        high_water=page.high_water,
                        pages=col(SyncState.pages) + 1,
                        new=col(SyncState.new) + counts.new,
                        changed=col(SyncState.changed) + counts.changed,
                        removed=col(SyncState.removed) + counts.removed,
                        stale=col(SyncState.stale) + counts.stale,
                        invoices_created=col(SyncState.invoices_created) + counts.invoices_created,
                    )
                )
                if moved.rowcount != 1:
                    raise _TokenMoved
        except _TokenMoved:
            return False
        report.pages += 1
        report.new += counts.new
        report.changed += counts.changed
        report.removed += counts.removed
        report.stale += counts.stale
        report.invoices_created += counts.invoices_created
        return True

    async def _move_token(
        self, token: int, feed_id: str | None, new_token: int, new_feed_id: str
    ) -> bool:
        async with new_session(self.engine) as session, session.begin():
            moved = await session.exec(
                update(SyncState)
                .where(
                    col(SyncState.id) == SYNC_STATE_ID,
                    col(SyncState.token) == token,
                    col(SyncState.feed_id).is_not_distinct_from(feed_id),
                )
                .values(token=new_token, feed_id=new_feed_id)
            )
            return moved.rowcount == 1

    async def _record_success(self) -> None:
        await self._record(
            last_success_at=now_utc(),
            consecutive_failures=0,
            healthy=True,
            pulls=col(SyncState.pulls) + 1,
        )

    async def _record_failure(self, reason: str, unauthorized: bool) -> None:
        earlier = self._unrecorded
        self._unrecorded = _Failures(
            count=(earlier.count if earlier else 0) + 1,
            reason=reason[:1000],
            at=now_utc(),
            unauthorized=unauthorized,
        )
        await self._record()

    async def _database_failed(self, where: str, exc: SQLAlchemyError) -> PullFailed:
        """Billing's own database failed outside the pages (the lock, the state row): one log
        line, the failure recorded in the sync status (when the database takes it), and the
        `PullFailed` to raise."""
        reason = f"billing's database failed: {_short(exc)}"
        logger.warning("pull failed %s: %s", where, reason)
        await self._record_failure(reason, unauthorized=False)
        return PullFailed(reason)

    async def _record(self, **values: object) -> None:
        """Write the pull's outcome into the state row, with any failures not yet written.

        Failures are kept in memory until a write succeeds: when billing's own database is
        what failed, the failure is recorded once the database is back (by the next pull's
        bookkeeping), so the sync status still tells an operator what happened.
        """
        failures = self._unrecorded
        if failures is not None:
            values.setdefault("last_error", failures.reason)
            values.setdefault("last_error_at", failures.at)
            values.setdefault(
                "consecutive_failures", col(SyncState.consecutive_failures) + failures.count
            )
            if failures.unauthorized:
                values.setdefault("healthy", False)
        try:
            async with new_session(self.engine) as session, session.begin():
                await session.exec(
                    update(SyncState).where(col(SyncState.id) == SYNC_STATE_ID).values(**values)
                )
        except SQLAlchemyError as exc:
            logger.warning("could not record the pull's outcome yet: %s", _short(exc))
            return
        if self._unrecorded is failures:
            self._unrecorded = None

    # ------------------------------------------------------------------ replica lock

    @asynccontextmanager
    async def _replica_lock(self, wait: bool) -> AsyncIterator[bool]:
        if not is_postgres(self.engine):
            yield True
            return
        try:
            connection = await self.engine.connect()
        except SQLAlchemyError as exc:
            raise await self._database_failed("taking the pull lock", exc) from exc
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            deadline = time.monotonic() + (self.lock_wait if wait else 0.0)
            while True:
                got = await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": PULL_LOCK_KEY}
                )
                if got or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(LOCK_POLL_SECONDS)
            if not got:
                yield False
                return
            try:
                yield True
            finally:
                # Shielded: a cancelled pull must still give the lock back. If that fails,
                # dropping the connection ends the session, which releases it too.
                with anyio.CancelScope(shield=True):
                    try:
                        await connection.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": PULL_LOCK_KEY}
                        )
                    except SQLAlchemyError:
                        await connection.invalidate()
        except SQLAlchemyError as exc:
            raise await self._database_failed("holding the pull lock", exc) from exc
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await connection.close()
                except SQLAlchemyError as exc:
                    # A connection PostgreSQL dropped may fail to close; it is gone either way.
                    logger.info("pull lock connection did not close cleanly: %s", _short(exc))

    async def _lock_held_elsewhere(self) -> bool:
        if not is_postgres(self.engine):
            return False
        async with self.engine.connect() as connection:
            held = await connection.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND classid = 0 AND objid = :key AND objsubid = 1"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database()))"
                ),
                {"key": PULL_LOCK_KEY},
            )
        return bool(held)


async def _read_state(session: AsyncSession) -> SyncState:
    result = await session.exec(
        select(SyncState)
        .where(SyncState.id == SYNC_STATE_ID)
        .execution_options(populate_existing=True)
    )
    state = result.first()
    if state is None:
        raise SQLAlchemyError("billing's sync_state row is missing; was the schema created?")
    return state


def _short(exc: BaseException) -> str:
    """The first line of a database error, without SQL or parameters."""
    return describe(exc)
