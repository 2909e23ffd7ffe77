"""Typed REST clients for ordering and billing: one long-lived httpx client per upstream.

Every method returns typed records or raises a `bff.errors` error mapped from the upstream's
JSON error body (400/422 → BAD_USER_INPUT, 404 → NOT_FOUND, 409 → CONFLICT) or from a transport
failure (down, timeout, 5xx → UPSTREAM_UNAVAILABLE). Anything else (401 from a peer, a body that
breaks the contract) is a `UpstreamContractError`, which the schema masks as an internal error.

Reads go through the `UpstreamCache`; writes invalidate what they may have changed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bff.cache import UpstreamCache
from bff.errors import BadUserInput, Conflict, FieldProblem, NotFound, UpstreamUnavailable
from bff.records import (
    ErrorBodyRecord,
    InvoiceBatch,
    InvoicePage,
    InvoiceRecord,
    OrderBatch,
    OrderPage,
    OrderRecord,
    SyncStatusRecord,
)

logger = logging.getLogger("bff.clients")

# The batch endpoints of both services take 1-100 keys per call.
MAX_BATCH = 100

ORDERING = "ordering"
BILLING = "billing"

RecordT = TypeVar("RecordT", bound=BaseModel)
PageT = TypeVar("PageT", OrderPage, InvoicePage)

IDEMPOTENCY_HEADER = "Idempotency-Key"


class UpstreamContractError(Exception):
    """An upstream answered something the contract does not allow; not the user's fault."""


def camel_case_path(path: str) -> str:
    """`lines.0.unit_price` → `lines.0.unitPrice` (GraphQL field names in error details)."""
    return ".".join(
        re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), part) for part in path.split(".")
    )


def _chunks(keys: Sequence[int], size: int = MAX_BATCH) -> Iterable[Sequence[int]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


class UpstreamClient:
    name: ClassVar[str]

    def __init__(self, http: httpx.AsyncClient, cache: UpstreamCache, timeout: float) -> None:
        self._http = http
        self._cache = cache
        # httpx enforces its own timeouts only on real network transports; this bound holds for
        # any transport, so a hung peer can never hold a request longer than configured.
        self._timeout = timeout

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: object = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        # The key makes a retried write (this request again, after a timeout) answer the first
        # result instead of writing twice (docs/contracts.md, Idempotency-Key).
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key is not None else None
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise UpstreamUnavailable(
                f"The {self.name} service did not answer within {self._timeout:g} s.", self.name
            ) from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"The {self.name} service cannot be reached right now.", self.name
            ) from exc
        if response.is_success:
            return response
        raise self._error_from(response)

    def _error_from(self, response: httpx.Response) -> Exception:
        status = response.status_code
        try:
            error = ErrorBodyRecord.model_validate_json(response.content).error
            message = error.message
        except ValidationError:
            error, message = None, ""
        if status >= 500:
            return UpstreamUnavailable(
                f"The {self.name} service is unavailable right now"
                + (f": {message}" if message and status == 503 else "."),
                self.name,
            )
        if error is None:
            return UpstreamContractError(
                f"{self.name} answered {status} without the contract's error body"
            )
        if status in (400, 422):
            details = [
                FieldProblem(camel_case_path(d.field), d.message) for d in error.details or ()
            ]
            return BadUserInput(message, details)
        if status == 404:
            return NotFound(message)
        if status == 409:
            return Conflict(message)
        # 401/403 mean this BFF is misconfigured (service token): an operator's problem.
        logger.error("%s refused the BFF: %s %s", self.name, status, message)
        return UpstreamContractError(f"{self.name} answered {status}: {message}")

    def _parse(self, model: type[RecordT], response: httpx.Response) -> RecordT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamContractError(
                f"{self.name} answered a {model.__name__} that breaks the contract: {exc}"
            ) from exc

    async def _cached_batch(
        self,
        model: type[RecordT],
        kind: str,
        keys: Sequence[int],
        fetch: Callable[[Sequence[int]], Awaitable[Mapping[int, RecordT]]],
    ) -> dict[int, RecordT | None]:
        """Look keys up in the cache, fetch the rest with one upstream call per 100 keys.

        Keys the upstream does not know are cached as absent too (for the short TTL).
        """
        unique = list(dict.fromkeys(keys))
        generation = await self._cache.generation(self.name)
        cached = await self._cache.get_many(self.name, generation, (f"{kind}:{k}" for k in unique))
        found: dict[int, RecordT | None] = {}
        for k in unique:
            if (key := f"{kind}:{k}") in cached:
                found[k] = None if cached[key] is None else model.model_validate(cached[key])
        missing = [k for k in unique if k not in found]
        fetched: dict[int, RecordT | None] = dict.fromkeys(missing)
        for chunk in _chunks(missing):
            fetched.update(await fetch(chunk))
        await self._cache.set_many(
            self.name,
            generation,
            {
                f"{kind}:{k}": None if v is None else v.model_dump(mode="json")
                for k, v in fetched.items()
            },
        )
        return found | fetched

    async def _cached_page(
        self,
        model: type[PageT],
        key: str,
        fetch: Callable[[], Awaitable[PageT]],
        by_key: Callable[[PageT], Mapping[str, BaseModel]],
    ) -> PageT:
        """A list page, cached; the records it holds are cached by key as well."""
        generation = await self._cache.generation(self.name)
        cached = await self._cache.get_many(self.name, generation, [key])
        if key in cached:
            return model.model_validate(cached[key])
        page = await fetch()
        # Stored under the generation read *before* the fetch: if a write happened meanwhile,
        # these entries are already unreachable, as they should be.
        entries = {k: v.model_dump(mode="json") for k, v in by_key(page).items()}
        entries[key] = page.model_dump(mode="json")
        await self._cache.set_many(self.name, generation, entries)
        return page


class OrderingClient(UpstreamClient):
    name = ORDERING

    async def orders_by_number(self, numbers: Sequence[int]) -> dict[int, OrderRecord | None]:
        async def fetch(chunk: Sequence[int]) -> dict[int, OrderRecord]:
            response = await self._request("GET", "/orders", params=[("number", n) for n in chunk])
            return {o.number: o for o in self._parse(OrderBatch, response).orders}

        return await self._cached_batch(OrderRecord, "order", numbers, fetch)

    async def list_orders(self, status: str | None, limit: int, after: str | None) -> OrderPage:
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if after is not None:
            params["after"] = after

        async def fetch() -> OrderPage:
            return self._parse(OrderPage, await self._request("GET", "/orders", params=params))

        return await self._cached_page(
            OrderPage,
            f"orders:{status}:{limit}:{after}",
            fetch,
            lambda page: {f"order:{o.number}": o for o in page.orders},
        )

    async def _write(
        self, method: str, path: str, key: str | None, body: object = None
    ) -> OrderRecord:
        try:
            response = await self._request(method, path, json=body, idempotency_key=key)
            return self._parse(OrderRecord, response)
        finally:
            # Also on failure: a write that timed out may still have happened. Billing derives
            # invoices from confirmed and deleted orders, so its cached views go too.
            await self._cache.invalidate(ORDERING, BILLING)

    async def create_order(self, body: Mapping[str, Any], key: str | None = None) -> OrderRecord:
        return await self._write("POST", "/orders", key, body)

    async def update_order(
        self, number: int, body: Mapping[str, Any], key: str | None = None
    ) -> OrderRecord:
        return await self._write("PUT", f"/orders/{number}", key, body)

    async def confirm_order(self, number: int, key: str | None = None) -> OrderRecord:
        return await self._write("POST", f"/orders/{number}/confirm", key)

    async def delete_order(self, number: int, key: str | None = None) -> OrderRecord:
        return await self._write("DELETE", f"/orders/{number}", key)


class BillingClient(UpstreamClient):
    name = BILLING

    async def invoices_by_order_number(
        self, order_numbers: Sequence[int]
    ) -> dict[int, InvoiceRecord | None]:
        async def fetch(chunk: Sequence[int]) -> dict[int, InvoiceRecord]:
            response = await self._request(
                "GET", "/invoices", params=[("order_number", n) for n in chunk]
            )
            return {i.order_number: i for i in self._parse(InvoiceBatch, response).invoices}

        return await self._cached_batch(InvoiceRecord, "invoice-by-order", order_numbers, fetch)

    async def invoice(self, number: int) -> InvoiceRecord | None:
        async def fetch(chunk: Sequence[int]) -> dict[int, InvoiceRecord]:
            # There is no batch endpoint by invoice number; this is only used for top-level
            # lookups, whose count the alias limit bounds.
            found: dict[int, InvoiceRecord] = {}
            for n in chunk:
                try:
                    response = await self._request("GET", f"/invoices/{n}")
                except NotFound:
                    continue
                found[n] = self._parse(InvoiceRecord, response)
            return found

        return (await self._cached_batch(InvoiceRecord, "invoice", [number], fetch))[number]

    async def list_invoices(self, status: str | None, limit: int, after: str | None) -> InvoicePage:
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if after is not None:
            params["after"] = after

        async def fetch() -> InvoicePage:
            return self._parse(InvoicePage, await self._request("GET", "/invoices", params=params))

        return await self._cached_page(
            InvoicePage,
            f"invoices:{status}:{limit}:{after}",
            fetch,
            lambda page: {
                **{f"invoice-by-order:{i.order_number}": i for i in page.invoices},
                **{f"invoice:{i.number}": i for i in page.invoices},
            },
        )

    async def approve_invoice(self, number: int, key: str | None = None) -> InvoiceRecord:
        try:
            response = await self._request(
                "POST", f"/invoices/{number}/approve", idempotency_key=key
            )
            return self._parse(InvoiceRecord, response)
        finally:
            await self._cache.invalidate(BILLING)

    async def sync_status(self) -> SyncStatusRecord:
        # Not cached: it is a monitoring view whose whole point is to be current.
        return self._parse(SyncStatusRecord, await self._request("GET", "/sync/status"))
