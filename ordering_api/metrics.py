"""Ordering's own metrics: the sequence assigner's runs and the backlog it has yet to number.

`ordering_assigner_pending` is counted at scrape time from the partial backlog index (it holds
only the pending changes, so the count is as cheap as the backlog is short); a backlog that
grows while runs succeed means the assigner cannot keep up, one that grows while runs fail
means it is down.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import text

from ordering_api.db import Sessions

_PENDING = {
    # INDEXED BY: SQLite would otherwise scan the table for a count.
    "sqlite": text(
        "SELECT count(*) FROM orders INDEXED BY ix_orders_backlog"
        " WHERE published IS 1 AND change_seq IS NULL"
    ),
    "postgresql": text(
        "SELECT count(*) FROM orders WHERE published IS true AND change_seq IS NULL"
    ),
}


class OrderingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.assigner_runs = Counter(
            "ordering_assigner_runs",
            "Scheduled runs of the sequence assigner, by result (ok, failed)",
            ["result"],
            registry=registry,
        )
        self.assigned = Counter(
            "ordering_assigner_assigned_changes",
            "Changes given a feed position, by the assigner or with their confirm or delete",
            registry=registry,
        )
        self.pending = Gauge(
            "ordering_assigner_pending",
            "Published changes waiting for a feed position (read at scrape time)",
            registry=registry,
        )
        self._ok = self.assigner_runs.labels("ok")
        self._failed = self.assigner_runs.labels("failed")

    def observe_run(self, assigned: int | None) -> None:
        """One scheduled run: how many changes it numbered, or None when it failed."""
        if assigned is None:
            self._failed.inc()
        else:
            self._ok.inc()
            self.assigned.inc(assigned)

    def observe_numbered_with_write(self, assigned: int) -> None:
        """Changes a confirm or delete numbered in its own transaction."""
        self.assigned.inc(assigned)

    async def refresh(self, read_sessions: Sessions) -> None:
        async with read_sessions() as session:
            connection = await session.connection()
            query = _PENDING.get(connection.dialect.name, _PENDING["postgresql"])
            self.pending.set((await connection.execute(query)).scalar_one())
