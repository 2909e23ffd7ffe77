"""Billing's metrics: the pull (runs, duration, pages, apply outcomes) and the sync state (lag,
failures, feed behind, dead letters).

The pull's counters are this replica's own (each replica counts the pulls it ran: sum them);
the state gauges are read from the shared sync-state row at scrape time, so every replica
reports the same value (take the max). Alert rules: ops/prometheus/alerts.yml.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from billing_api.models import SyncStatusPublic, as_utc
from billing_api.sync import PullReport, Syncer

# Seconds: an idle pull is a few milliseconds, the initial sync of 100k orders tens of seconds.
PULL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
OUTCOMES = ("new", "changed", "removed", "stale", "dead_lettered")

# How many dead letters wait for an operator; wired in by the dead-letter store when it exists.
DeadLetterCount = Callable[[], Awaitable[int]]


def feed_behind(status: SyncStatusPublic) -> bool:
    """Ordering's feed is behind what billing has seen (its high water below billing's token),
    or the pull halted on it (billing_api/feed_guard.py): ordering's database was restored from
    a backup, and changes made since would never be pulled."""
    return status.halted or status.high_water < status.token


class BillingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pulls = Counter(
            "billing_pulls",
            "Pulls of ordering's feed this replica ran, by result (ok, failed)",
            ["result"],
            registry=registry,
        )
        self.pull_duration = Histogram(
            "billing_pull_duration_seconds",
            "Duration of a pull, by result",
            ["result"],
            buckets=PULL_BUCKETS,
            registry=registry,
        )
        self.pages = Counter(
            "billing_pull_pages", "Feed pages applied (each with its token)", registry=registry
        )
        self.outcomes = Counter(
            "billing_apply_outcomes",
            "Feed records applied to the local copy, by outcome (new, changed, removed, stale)",
            ["outcome"],
            registry=registry,
        )
        self.invoices_created = Counter(
            "billing_invoices_created", "Invoices the pull created", registry=registry
        )
        self.lag_records = Gauge(
            "billing_lag_records",
            "Feed positions ordering has that billing has not applied",
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "billing_lag_seconds",
            "While billing lags: seconds since its last successful pull (0 when caught up)",
            registry=registry,
        )
        self.consecutive_failures = Gauge(
            "billing_consecutive_failures",
            "Pulls failed in a row since the last success",
            registry=registry,
        )
        self.last_success = Gauge(
            "billing_last_success_timestamp_seconds",
            "Unix time of the last successful pull (0: never)",
            registry=registry,
        )
        self.healthy = Gauge(
            "billing_sync_healthy", "1 while the sync status says healthy", registry=registry
        )
        self.feed_behind = Gauge(
            "billing_feed_behind",
            "1 while ordering's feed is behind billing's token (was ordering restored?)",
            registry=registry,
        )
        self.token = Gauge("billing_sync_token", "Billing's continuation token", registry=registry)
        self.high_water = Gauge(
            "billing_feed_high_water", "Ordering's newest feed position", registry=registry
        )
        self._registry = registry
        self._dead_letters: Gauge | None = None
        self._dead_letter_count: DeadLetterCount | None = None
        self._by_result = {r: self.pulls.labels(r) for r in ("ok", "failed")}
        self._durations = {r: self.pull_duration.labels(r) for r in ("ok", "failed")}
        self._outcomes = {o: self.outcomes.labels(o) for o in OUTCOMES}

    def count_dead_letters(self, count: DeadLetterCount) -> None:
        """Expose `billing_dead_letters`, read from `count` at each scrape. Only registered once
        a store is wired: a gauge stuck at 0 without one would claim there are none."""
        if self._dead_letters is None:
            self._dead_letters = Gauge(
                "billing_dead_letters",
                "Feed records that could not be applied and wait for an operator",
                registry=self._registry,
            )
        self._dead_letter_count = count

    def observe_pull(self, report: PullReport, failed: bool) -> None:
        result = "failed" if failed else "ok"
        self._by_result[result].inc()
        self._durations[result].observe(report.duration_ms / 1000)
        self.pages.inc(report.pages)
        for outcome, child in self._outcomes.items():
            if report.counts[outcome]:
                child.inc(report.counts[outcome])
        if report.invoices_created:
            self.invoices_created.inc(report.invoices_created)

    def set_status(self, status: SyncStatusPublic) -> None:
        self.lag_records.set(status.lag_records)
        self.lag_seconds.set(status.lag_seconds)
        self.consecutive_failures.set(status.consecutive_failures)
        last = status.last_success_at
        self.last_success.set(as_utc(last).timestamp() if last is not None else 0)
        self.healthy.set(1 if status.healthy else 0)
        self.feed_behind.set(1 if feed_behind(status) else 0)
        self.token.set(status.token)
        self.high_water.set(status.high_water)

    async def refresh(self, syncer: Syncer) -> None:
        self.set_status(await syncer.status())
        await self.refresh_dead_letters()

    async def refresh_dead_letters(self) -> None:
        if self._dead_letters is not None and self._dead_letter_count is not None:
            self._dead_letters.set(await self._dead_letter_count())
