"""The pull: page through ordering's change feed into the local copy.

`Syncer.pull()` is one run (what `POST /sync/run` and the deep link call);
`Syncer.run_forever()` is the scheduled loop around `Syncer.pull_if_free()`.

Guarantees, and how:
- Each page and its continuation token commit in one local transaction; the token update is a
  compare-and-set (sync_state.py), so a failed local write never moves the token and a token
  moved meanwhile rolls the page back.
- Single flight in a process: one shared task that later callers join.
- Single flight across replicas: the pull lock (pull_lock.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from asyncio import FIRST_COMPLETED as FIRST
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, overload

import anyio
from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskStatus
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api.db import Sessions
from billing_api.dead_letters import (
    Rejected,
    apply_isolating,
    numbers_in,
    open_letters,
    resolve_superseded,
    set_aside,
    split_by_rules,
)
from billing_api.feed_guard import feed_problem
from billing_api.invoices import ApplyOutcome
from billing_api.models import (
    DeadLetterKind,
    FeedPage,
    OrderWire,
    PullReportPublic,
    SyncState,
    SyncStatusPublic,
)
from billing_api.ordering_client import OrderingClient, OrderingError, OrderingUnauthorized
from billing_api.page_apply import PageApplied, apply_page
from billing_api.pull_lock import PULL_LOCK_KEY, pull_lock, pull_lock_held_elsewhere
from billing_api.repair import RepairReport, overwrite_differing
from billing_api.sync_state import (
    Failures,
    advance,
    halt,
    position_before,
    read_state,
    record_failures,
    reset_token,
    short_error,
    sync_status,
)
from service_db.faults import is_unavailable
from service_db.types import utcnow

__all__ = [
    "PULL_LOCK_KEY",
    "PullBusy",
    "PullFailed",
    "PullHalted",
    "PullReport",
    "Syncer",
    "backoff_delay",
]

logger = logging.getLogger("billing_api.sync")

MAX_BACKOFF_EXPONENT = 30


class PullFailed(Exception):
    """A pull stopped early; the token stays at the last committed page. `reason` is for people."""

    def __init__(self, reason: str, *, unauthorized: bool = False) -> None:
        super().__init__(f"The pull did not complete: {reason}")
        self.reason = reason
        self.unauthorized = unauthorized


class PullBusy(PullFailed):
    """Another replica kept the pull lock longer than we were willing to wait."""


class PullHalted(PullFailed):
    """Ordering's feed went backwards or changed identity: the pull waits for an operator's
    re-sync (409, the reason in words)."""


class _TokenMoved(Exception):
    """The compare-and-set on the token matched no row: someone else moved it first."""


@dataclass
class PullReport:
    token_before: int
    token_after: int
    feed_id: str | None
    pages: int = 0
    # Apply outcomes by name (new, changed, removed, stale), plus invoices_created.
    counts: Counter[str] = field(default_factory=Counter)
    duration_ms: float = 0.0

    @property
    def new(self) -> int:
        return self.counts[ApplyOutcome.NEW.value]

    @property
    def changed(self) -> int:
        return self.counts[ApplyOutcome.CHANGED.value]

    @property
    def removed(self) -> int:
        return self.counts[ApplyOutcome.REMOVED.value]

    @property
    def stale(self) -> int:
        return self.counts[ApplyOutcome.STALE.value]

    @property
    def invoices_created(self) -> int:
        return self.counts["invoices_created"]

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
            dead_lettered=self.counts["dead_lettered"],
        )

    def summary(self) -> str:
        return (
            f"pages={self.pages} new={self.new} changed={self.changed} removed={self.removed} "
            f"stale={self.stale} token={self.token_before}->{self.token_after} "
            f"duration_ms={self.duration_ms:.1f}"
        )


# The longest the apply waits for the next page's request to be on the socket (a slow connect
# to ordering must not hold up the page in hand).
_SEND_WAIT_S = 0.1


def _discard(task: asyncio.Future[FeedPage] | None) -> None:
    if task is not None:
        task.cancel()
        # Fetched ahead for nothing: its failure, if any, is not news.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())


@dataclass(frozen=True)
class _Seed:
    """A feed page the long poll brought: the page after `since`, as the feed stood at some
    moment after `asked` (time.monotonic() when the long poll was sent)."""

    since: int
    page: FeedPage
    asked: float

    def applied_elsewhere(self, token: int, feed_id: str | None) -> bool:
        """Whether the token already stands where this page (the whole feed then) leads:
        another replica applied it while this one waited for the pull lock."""
        page = self.page
        return (
            token != self.since
            and token == page.next_since
            and feed_id == page.feed_id
            and not page.has_more
        )


class _PageAhead:
    """Pipelining: the next feed page is fetched while the current one is applied.

    At most one page ahead, and only ever used for the position it was asked for: pages are
    applied, and the token moved, strictly in order, one transaction per page as before. When
    the token went elsewhere (a reset, another writer) the page fetched ahead is dropped.
    """

    def __init__(
        self, fetch: Callable[[int, asyncio.Event], Awaitable[FeedPage]], seed: _Seed | None
    ) -> None:
        self._fetch = fetch
        self._task: asyncio.Future[FeedPage] | None = None
        self._since = -1
        if seed is not None:
            # The long poll's answer: the page after `since`, already here.
            self._since = seed.since
            self._task = asyncio.get_running_loop().create_future()
            self._task.set_result(seed.page)

    async def start_after(self, page: FeedPage) -> None:
        """Start fetching the page after `page`, if there is one, and let its request go out.

        SQLite runs on the event loop's thread (service_db.sqlite_inline), so applying a page
        does not yield to the loop: a fetch task that has not sent its request before the apply
        starts sends it only after, and nothing overlaps (measured: the 100,000-order sync
        took the sum of ordering's and billing's time). So this returns once the request is
        on the socket (the fetch sets `sent`), the fetch ended, or _SEND_WAIT_S passed.
        """
        if page.has_more:
            self.drop()
            self._since = page.next_since
            sent = asyncio.Event()
            task = self._task = asyncio.ensure_future(self._fetch(page.next_since, sent))
            waiting = asyncio.ensure_future(sent.wait())
            try:
                await asyncio.wait([waiting, task], timeout=_SEND_WAIT_S, return_when=FIRST)
            finally:
                waiting.cancel()

    async def take(self, since: int) -> FeedPage:
        """The page after `since`: the one fetched ahead if it is that one, else fetched now."""
        task, self._task = self._task, None
        if task is not None and self._since == since:
            return await task
        _discard(task)
        return await self._fetch(since, asyncio.Event())

    def drop(self) -> None:
        task, self._task = self._task, None
        _discard(task)


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
        sessions: Sessions,
        read_sessions: Sessions,
        client: OrderingClient,
        *,
        interval: float,
        backoff_cap: float,
        page_size: int,
        lock_wait: float,
        scheduled: bool = True,
        wait: float = 0.0,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.client = client
        self.interval = interval
        self.backoff_cap = backoff_cap
        self.page_size = page_size
        self.lock_wait = lock_wait
        self.wait = wait
        # Whether run_forever is meant to run, and whether it does (GET /readyz compares).
        self.scheduled = scheduled
        self.looping = False
        self._inflight: asyncio.Task[PullReport | None] | None = None
        # Failures the state row does not show yet (billing's database was down too).
        self._unrecorded: Failures | None = None
        # time.monotonic() from which the pull in flight sees every change: when it began, or
        # when the long poll that brought its first page was sent.
        self._inflight_fresh_from = 0.0
        # A feed page the long poll brought: the next pull's first (given to it at its start).
        self._seed: _Seed | None = None
        # Open dead letters at the start of the pull (plus those it set aside): while there are
        # any, each page resolves the letters of the orders it applied.
        self._open_letters = 0
        # The repairing re-sync's report while one runs (loaded from the state row).
        self._repair: RepairReport | None = None
        # Hears of every pull this replica ran to its end: the report, and whether it failed.
        self.on_pull: Callable[[PullReport, bool], None] | None = None

    # ------------------------------------------------------------------ entry points

    @property
    def running(self) -> bool:
        return self._inflight is not None and not self._inflight.done()

    @overload
    async def pull(self) -> PullReport: ...
    @overload
    async def pull(self, *, wait_for_lock: Literal[True]) -> PullReport: ...
    @overload
    async def pull(self, *, wait_for_lock: Literal[False]) -> PullReport | None: ...

    async def pull(self, *, wait_for_lock: bool = True) -> PullReport | None:
        """Run a pull, or join the one already running in this process, and report.

        Waits up to `lock_wait` for a pull another replica is running; raises `PullBusy` when
        that is not enough, `PullFailed` when the pull stopped early. (`wait_for_lock=False`
        is `pull_if_free()`, kept for callers of the older signature.)
        """
        if not wait_for_lock:
            return await self.pull_if_free()
        return await self._report(None)

    async def pull_fresh(self) -> PullReport:
        """A pull that sees every change committed before this call: joins one in flight only
        if it began later (and so did the long poll that brought its first page, if one did).

        A pull that began earlier may have read its last page before a change the caller must
        see was committed; it is waited for (not joined) and a new one runs after it.
        """
        return await self._report(time.monotonic())

    async def pull_if_free(self) -> PullReport | None:
        """The scheduled turn: like `pull()`, but None at once when another replica pulls."""
        return await self._join(False, None)

    async def _report(self, fresh_from: float | None) -> PullReport:
        """A pull's report, from one that sees every change from `fresh_from` on (any if None)."""
        while True:
            task = self._inflight
            in_flight = task is not None and not task.done()
            if in_flight and fresh_from is not None and self._inflight_fresh_from < fresh_from:
                assert task is not None
                await asyncio.wait([task])  # it began too early for this caller
                continue
            report = await self._join(True, fresh_from)
            if report is not None:
                return report
            # We joined a scheduled pull that skipped its turn; this caller wants a real one.

    async def _join(self, wait_for_lock: bool, fresh_from: float | None) -> PullReport | None:
        task = self._inflight
        if task is None or task.done():
            seed, self._seed = self._seed, None
            if seed is not None and fresh_from is not None and seed.asked < fresh_from:
                seed = None  # the feed as it stood before what this caller must see
            task = asyncio.create_task(self._pull(wait_for_lock, seed), name="billing-pull")
            self._inflight_fresh_from = time.monotonic() if seed is None else seed.asked
            # A pull whose callers all went away must not log "exception never retrieved".
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._inflight = task
        # shield: a caller that gives up (a closed browser) does not cancel the shared pull.
        return await asyncio.shield(task)

    async def run_forever(
        self,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        *,
        task_status: TaskStatus[None] = TASK_STATUS_IGNORED,
    ) -> None:
        """The scheduled pull, backing off while ordering fails.

        With `wait` > 0 (the default), after each pull it long-polls ordering's feed from the
        token and pulls again as soon as a change is there: billing follows within
        milliseconds, still pulling (the token decides what is applied). Otherwise, and as the
        fallback pace while ordering fails, it pulls every `interval` seconds.

        Started with `TaskGroup.start`, it counts as running (readiness) before the app serves.
        The long poll is a plain request in this task: cancelling it at shutdown is prompt.
        """
        failures = 0
        self.looping = True
        task_status.started()
        try:
            while True:
                try:
                    if self.wait > 0:
                        # Waits for another replica's pull rather than skipping (skipping would
                        # long-poll from a token that replica is about to move: a busy loop).
                        report = await self.pull()
                        asked = time.monotonic()
                        page = await self.client.wait_for_changes(
                            report.token_after, self.wait, self.page_size
                        )
                        if page.orders:
                            # The next pull starts from this page instead of asking again: one
                            # feed request per change, not two (the token still decides).
                            self._seed = _Seed(report.token_after, page, asked)
                        failures, delay = 0, 0.0
                    else:
                        await self.pull_if_free()
                        failures, delay = 0, self.interval
                except OrderingError as exc:
                    failures += 1
                    logger.info("long poll failed: %s", exc)
                    delay = backoff_delay(failures, self.interval, self.backoff_cap)
                except PullFailed as exc:
                    failures += 1
                    # A wrong token, or a feed that went backwards, will not heal by itself:
                    # retry at the slowest pace only (an operator's re-sync pulls at once).
                    delay = (
                        self.backoff_cap
                        if exc.unauthorized or isinstance(exc, PullHalted)
                        else backoff_delay(failures, self.interval, self.backoff_cap)
                    )
                except Exception:
                    failures += 1
                    logger.exception("pull crashed")
                    delay = backoff_delay(failures, self.interval, self.backoff_cap)
                if delay > 0:
                    await sleep(delay)
        finally:
            self.looping = False

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
        async with self.read_sessions() as session:
            state = await read_state(session)
            letters = await open_letters(session)
            running = self.running or await pull_lock_held_elsewhere(self.engine)
        return sync_status(state, running, utcnow(), letters)

    async def reset(self, token: int) -> None:
        """Continue from `token` (0: full resync). A pull in flight notices at its next page.
        Lifts a halt, adopting ordering's feed as it is now."""
        before = await reset_token(self.sessions, token)
        logger.warning("sync token reset %d->%d", before, token)

    async def resync(self, position: int | None = None, since: datetime | None = None) -> int:
        """Arm a repairing re-sync from `position`, or from just before the first change billing
        holds made at or after `since`; returns the position. The next pull (the caller's, or
        the scheduled one) repairs until it has caught up with ordering (repair.py)."""
        if position is None:
            assert since is not None, "a position or a time"
            async with self.read_sessions() as session:
                position = await position_before(session, since)
        report = RepairReport.start(position, utcnow())
        before = await reset_token(self.sessions, position, repair=report.as_json())
        logger.warning("repairing re-sync armed: token %d->%d", before, position)
        return position

    # ------------------------------------------------------------------ the pull

    async def _pull(self, wait_for_lock: bool, seed: _Seed | None) -> PullReport | None:
        try:
            async with pull_lock(self.engine, self.lock_wait if wait_for_lock else 0.0) as locked:
                if locked:
                    return await self._pull_locked(seed)
        except SQLAlchemyError as exc:
            raise await self._database_failed("at the pull lock", exc) from exc
        if wait_for_lock:
            raise PullBusy("another billing replica is pulling; try again shortly")
        logger.debug("pull skipped: another replica holds the pull lock")
        return None

    async def _pull_locked(self, seed: _Seed | None) -> PullReport:
        started = time.perf_counter()
        try:
            async with self.read_sessions() as session:
                state = await read_state(session)
                self._open_letters = (await open_letters(session)).count
        except SQLAlchemyError as exc:
            raise await self._database_failed("before start", exc) from exc
        if state.halted_reason:
            raise PullHalted(state.halted_reason)
        self._follow_repair(state)
        report = PullReport(state.token, state.token, state.feed_id)
        try:
            await self._pull_pages(report, seed)
        except (OrderingError, SQLAlchemyError) as exc:
            report.duration_ms = (time.perf_counter() - started) * 1000
            unauthorized = isinstance(exc, OrderingUnauthorized)
            if isinstance(exc, SQLAlchemyError):
                reason = f"billing's database failed: {short_error(exc)}"
            else:
                reason = str(exc)
            logger.warning("pull failed %s: %s", report.summary(), reason)
            self._observe(report, failed=True)
            await self._record_failure(reason, unauthorized)
            raise PullFailed(reason, unauthorized=unauthorized) from exc
        # The success itself was recorded with the last page, in its transaction (advance).
        report.duration_ms = (time.perf_counter() - started) * 1000
        logger.info("pull ok %s", report.summary())
        self._observe(report, failed=False)
        return report

    def _observe(self, report: PullReport, failed: bool) -> None:
        if self.on_pull is not None:
            self.on_pull(report, failed)

    async def _database_failed(self, where: str, exc: SQLAlchemyError) -> PullFailed:
        """Billing's own database failed outside the pages (the lock, the state row): one log
        line, the failure recorded (now or once the database is back), the error to raise."""
        reason = f"billing's database failed: {short_error(exc)}"
        logger.warning("pull failed %s: %s", where, reason)
        await self._record_failure(reason, unauthorized=False)
        return PullFailed(reason)

    async def _record_failure(self, reason: str, unauthorized: bool) -> None:
        self._unrecorded = Failures.add(self._unrecorded, reason, unauthorized)
        if await record_failures(self.sessions, self._unrecorded):
            self._unrecorded = None

    async def _pull_pages(self, report: PullReport, seed: _Seed | None) -> None:
        elsewhere = seed is not None and seed.applied_elsewhere(report.token_after, report.feed_id)
        if elsewhere and self._repair is None:
            # Both replicas long-poll, both were woken by this page, and the other one applied
            # it while this one waited for the lock: asking the feed again would only bring
            # an empty page to commit. Changes after it wake the next long poll at once.
            return
        ahead = _PageAhead(
            lambda since, sent: self.client.fetch_changes(since, self.page_size, sent), seed
        )
        try:
            await self._follow_feed(report, ahead)
        finally:
            ahead.drop()

    def _follow_repair(self, state: SyncState) -> None:
        """Repair mode follows the state row (a re-sync may be armed while a pull runs)."""
        if state.repair_from is None:
            self._repair = None
        else:
            self._repair = RepairReport.of(state.last_repair, state.repair_from, utcnow())

    async def _follow_feed(self, report: PullReport, ahead: _PageAhead) -> None:
        token, feed_id = report.token_after, report.feed_id
        while True:
            page = await ahead.take(token)
            problem = feed_problem(token, feed_id, page)
            if problem is not None:
                if await halt(self.sessions, token, feed_id, page.high_water, problem):
                    logger.warning("pull halted at token %d: %s", token, problem)
                    raise PullHalted(problem)
            else:
                await ahead.start_after(page)  # overlaps the apply below
                if await self._apply_page(page, token, feed_id, report):
                    token, feed_id = page.next_since, page.feed_id
                    report.token_after, report.feed_id = token, feed_id
                    if not page.has_more:
                        return
                    continue
            # The compare-and-set missed: a reset or another writer moved the token. Follow it.
            async with self.read_sessions() as session:
                state = await read_state(session)
            if state.halted_reason:
                raise PullHalted(state.halted_reason)
            self._follow_repair(state)
            logger.info("token moved %d->%d by another writer: following", token, state.token)
            token, feed_id = state.token, state.feed_id
            report.token_after, report.feed_id = token, feed_id

    async def _apply_page(
        self, page: FeedPage, token: int, feed_id: str | None, report: PullReport
    ) -> bool:
        """Apply one page and advance the token in one transaction; False if the token moved.

        Records billing's rules refuse, and records that are not orders at all, are set aside
        as dead letters. When billing's database refuses the page (and is not simply down), the
        page is applied again record by record to find the ones it refuses, which are set aside
        too: one bad record never holds back the others."""
        good, rejected = split_by_rules(page.orders)
        rejected += [
            Rejected(raw, DeadLetterKind.RULE, why, 1, *numbers_in(raw))
            for raw, why in page.unreadable
        ]
        try:
            return await self._commit_page(page, good, rejected, token, feed_id, report, False)
        except SQLAlchemyError as exc:
            if is_unavailable(exc) or not good:
                raise
            logger.warning(
                "billing's database refused the page after position %d (%s): applying its "
                "records one by one",
                token,
                short_error(exc),
            )
        return await self._commit_page(page, good, rejected, token, feed_id, report, True)

    async def _commit_page(
        self,
        page: FeedPage,
        good: list[OrderWire],
        rejected: list[Rejected],
        token: int,
        feed_id: str | None,
        report: PullReport,
        isolate: bool,
    ) -> bool:
        now = utcnow()
        # The repair report of this page is a copy, kept only if the page commits.
        repair = None
        if self._repair is not None:
            repair = RepairReport.of(self._repair.as_json(), self._repair.from_position, now)
        try:
            async with self.sessions.begin() as session:
                applied: PageApplied
                if isolate:
                    applied, refused = await apply_isolating(session, good, now)
                    rejected = rejected + refused
                else:
                    # Set-wise: a few multi-row statements for the whole page (page_apply.py).
                    applied = await apply_page(session, good, now)
                for number in applied.ignored:
                    logger.warning("feed carried order %d, never confirmed: ignored", number)
                counts = Counter(applied.counts)
                set_apart = {r.order_number for r in rejected}
                done = [
                    o for o in good if o.number not in set_apart and o.number not in applied.ignored
                ]
                extra: dict[str, object] = {}
                if repair is not None:
                    await overwrite_differing(await session.connection(), done, now, repair)
                    _repair_counts(repair, page, counts)
                    if not page.has_more:
                        repair.finished_at = now.isoformat()
                        extra["repair_from"] = None
                    extra["last_repair"] = repair.as_json()
                if rejected:
                    await set_aside(session, rejected, now)
                    counts["dead_lettered"] += len(rejected)
                if self._open_letters:
                    await resolve_superseded(session, [o.number for o in done], now)
                unrecorded = None if page.has_more else self._unrecorded
                if not await advance(session, token, feed_id, page, counts, unrecorded, extra):
                    raise _TokenMoved
        except _TokenMoved:
            return False
        if not page.has_more:
            self._unrecorded = None  # written with the success, in the page's transaction
        self._repair = repair
        if repair is not None and repair.finished_at is not None:
            logger.warning("repairing re-sync done: %s", repair.as_json())
            self._repair = None
        self._open_letters += len(rejected)
        report.pages += 1
        report.counts.update(counts)
        return True


def _repair_counts(repair: RepairReport, page: FeedPage, counts: Counter[str]) -> None:
    repair.pages += 1
    repair.orders_seen += len(page.orders)
    repair.new += counts[ApplyOutcome.NEW.value]
    repair.changed += counts[ApplyOutcome.CHANGED.value] + counts[ApplyOutcome.REMOVED.value]
    repair.invoices_created += counts["invoices_created"]
