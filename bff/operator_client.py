"""The operator's calls to billing's repair routes, over the BFF's billing client (its guard,
timeouts and error mapping: 404 NOT_FOUND, 409 CONFLICT with billing's sentence, 422
BAD_USER_INPUT, 5xx UPSTREAM_UNAVAILABLE). Never cached: an operator acts on what is now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bff.cache import mark_uncacheable
from bff.clients import BILLING, BillingClient
from bff.operator_records import (
    DeadLetterPageRecord,
    DeadLetterRecord,
    DeadLetterRetryRecord,
    PullReportRecord,
    ReconciliationRecord,
    RepairRecord,
    _Record,
)
from bff.records import SyncStatusRecord


class _ResyncRecord(_Record):
    repair: RepairRecord
    status: SyncStatusRecord


class BillingOperations:
    def __init__(self, billing: BillingClient) -> None:
        self._billing = billing

    async def dead_letters(
        self, status: str | None, limit: int, after: str | None
    ) -> DeadLetterPageRecord:
        mark_uncacheable()
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if after is not None:
            params["after"] = after
        response = await self._billing._request("GET", "/sync/dead-letters", params=params)
        return self._billing._parse(DeadLetterPageRecord, response)

    async def retry_dead_letter(self, letter_id: int) -> DeadLetterRetryRecord:
        try:
            response = await self._billing._request("POST", f"/sync/dead-letters/{letter_id}/retry")
            return self._billing._parse(DeadLetterRetryRecord, response)
        finally:
            await self._billing._cache.invalidate(BILLING)  # an invoice may have appeared

    async def dismiss_dead_letter(self, letter_id: int, reason: str) -> DeadLetterRecord:
        response = await self._billing._request(
            "POST", f"/sync/dead-letters/{letter_id}/dismiss", json={"reason": reason}
        )
        return self._billing._parse(DeadLetterRecord, response)

    async def pull_now(self) -> PullReportRecord:
        try:
            response = await self._billing._request("POST", "/sync/run")
            return self._billing._parse(PullReportRecord, response)
        finally:
            await self._billing._cache.invalidate(BILLING)

    async def resync(
        self, position: int | None, since: datetime | None
    ) -> tuple[RepairRecord, SyncStatusRecord]:
        body: dict[str, Any] = {}
        if position is not None:
            body["position"] = position
        if since is not None:
            body["since"] = since.isoformat()
        try:
            response = await self._billing._request("POST", "/sync/resync", json=body)
            answer = self._billing._parse(_ResyncRecord, response)
        finally:
            await self._billing._cache.invalidate(BILLING)
        return answer.repair, answer.status

    async def reconciliation(self, range_size: int) -> ReconciliationRecord:
        mark_uncacheable()
        response = await self._billing._request(
            "GET", "/sync/reconciliation", params={"range_size": range_size}
        )
        return self._billing._parse(ReconciliationRecord, response)
