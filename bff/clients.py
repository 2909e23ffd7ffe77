"""Typed REST clients for ordering and billing: one long-lived httpx client per upstream.

Every method returns typed records or raises a `bff.errors` error mapped from the upstream's
JSON error body (400/422 → BAD_USER_INPUT, 404 → NOT_FOUND, 409 → CONFLICT) or from a transport
failure (down, timeout, 5xx → UPSTREAM_UNAVAILABLE). Anything else (401 from a peer, a body that
breaks the contract) is a `UpstreamContractError`, which the schema masks as an internal error.

Reads go through the `UpstreamCache`; writes invalidate what they may have changed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ValidationError

from bff.acting_user import acting_user_header
from bff.cache import Codec, UpstreamCache, mark_uncacheable
from bff.errors import BadUserInput, Conflict, FieldProblem, NotFound, UpstreamUnavailable
from bff.metrics import BffMetrics
from bff.pagination import ListParams
from bff.records import (
    ErrorBodyRecord,
    InvoiceBatch,
    InvoiceHistoryRecord,
    InvoicePage,
    InvoiceRecord,
    OrderBatch,
    OrderHistoryRecord,
    OrderPage,
    OrderRecord,
    StatusCounts,
    SyncStatusRecord,
)
from bff.resilience import (
    BreakerPolicy,
    Bulkhead,
    CircuitBreaker,
    CircuitOpen,
    SingleFlight,
    UpstreamGuard,
)
from service_http.request_id import HEADER as REQUEST_ID_HEADER
from service_http.request_id import current_request_id

logger = logging.getLogger("bff.clients")
# Timeouts and every UPSTREAM_UNAVAILABLE, at WARNING: what an operator watches for.
upstream_logger = logging.getLogger("bff.upstream")

# How long a request may wait for a free pooled connection (BFF_UPSTREAM_POOL_TIMEOUT).
DEFAULT_POOL_TIMEOUT = 1.0

# The batch endpoints of both services take 1-100 keys per call.
MAX_BATCH = 100

ORDERING = "ordering"
BILLING = "billing"

RecordT = TypeVar("RecordT", bound=BaseModel)
PageT = TypeVar(
    "PageT", OrderPage, InvoicePage, StatusCounts, OrderHistoryRecord, InvoiceHistoryRecord
)

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

    def __init__(
        self,
        http: httpx.AsyncClient,
        cache: UpstreamCache,
        timeout: float,
        guard: UpstreamGuard | None = None,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
        metrics: BffMetrics | None = None,
    ) -> None:
        self._http = http
        self._metrics = metrics
        self._cache = cache
        # `timeout` bounds the call to the upstream; `pool_timeout` bounds waiting for one of
        # the bulkhead's slots, which is the BFF's own queueing, not the upstream's slowness:
        # the two are reported apart, and only the first counts against the breaker. httpx
        # enforces its own timeouts only on the network; the overall bound below holds for any
        # transport, so a hung peer can never hold a request longer than `timeout`.
        self._timeout = timeout
        self._pool_timeout = pool_timeout
        self.guard = guard or UpstreamGuard(
            Bulkhead(32), CircuitBreaker(BreakerPolicy()), SingleFlight()
        )
        self.acting_user: str | None = None

    def acting_as(self, user: str | None) -> Self:
        """This client for one request acting for `user`: its writes name the user
        (X-Acting-User). Shares the connection pool, cache and guard with the app's client."""
        if user is None:
            return self
        view = copy.copy(self)
        view.acting_user = user
        return view

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled client, for routes that pass an upstream's answer on (bff/deeplink.py)."""
        return self._http

    def _unavailable(
        self, method: str, path: str, message: str, reason: str
    ) -> UpstreamUnavailable:
        # Every UPSTREAM_UNAVAILABLE is logged where an operator looks, with what was asked,
        # and counted by reason (circuit_open, busy, timeout, unreachable, status_5xx).
        upstream_logger.warning("%s: %s %s: %s", self.name, method, path.split("?")[0], message)
        if self._metrics is not None:
            self._metrics.observe_upstream_error(self.name, reason)
        return UpstreamUnavailable(message, self.name)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: object = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        if params is not None:
            # Encoded here, once: httpx re-parses the whole URL character by character when it
            # merges params (py-spy: 5 % of a page whose batch has 50 keys).
            path = f"{path}?{urlencode(params)}"
        if method == "GET":
            # Identical reads in flight at the same time, from any requests, share one call.
            return await self.guard.reads.run(path, lambda: self._send(method, path, json))
        return await self._send(method, path, json, idempotency_key)

    async def _get(
        self,
        model: type[RecordT],
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> RecordT:
        """GET `path` as a `model`. Identical reads in flight at the same time, from any
        requests, share the call *and its parse*: records are never changed once parsed, and
        under 16 clients reading one page every waiter parsing the same 50 orders again was
        44 % of the BFF's CPU (py-spy, cache off)."""
        if params is not None:
            path = f"{path}?{urlencode(params)}"

        async def call() -> RecordT:
            return self._parse(model, await self._send("GET", path, None))

        return await self.guard.reads.run((model, path), call)

    async def _send(
        self, method: str, path: str, json: object, idempotency_key: str | None = None
    ) -> httpx.Response:
        breaker = self.guard.breaker
        try:
            breaker.before_call()
        except CircuitOpen as exc:
            raise self._unavailable(
                method,
                path,
                f"The {self.name} service is failing; it is not called for the next "
                f"{exc.retry_after:.1f} s.",
                "circuit_open",
            ) from exc
        bulkhead = self.guard.bulkhead
        try:
            async with asyncio.timeout(self._pool_timeout):
                await bulkhead.acquire()
        except TimeoutError as exc:
            # Our own queue was full, which says nothing about the upstream's health.
            breaker.cancelled()
            raise self._unavailable(
                method,
                path,
                f"The BFF is too busy to reach the {self.name} service right now "
                "(too many calls in flight).",
                "busy",
            ) from exc
        # The key makes a retried write (this request again, after a timeout) answer the first
        # result instead of writing twice (docs/contracts.md, Idempotency-Key).
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key is not None else {}
        if self.acting_user is not None and method != "GET":
            # Writes only: reads are shared between requests (single flight, cache) and
            # record nothing.
            headers.update((acting_user_header(self.acting_user),))
        request_id = current_request_id.get()
        if request_id is not None:
            headers[REQUEST_ID_HEADER] = request_id
        started = time.perf_counter()
        outcome = "error"
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.request(method, path, json=json, headers=headers)
            outcome = str(response.status_code)
        except httpx.PoolTimeout as exc:
            # The pool is larger than the bulkhead, so this means a misconfiguration, not a
            # failing upstream.
            breaker.cancelled()
            outcome = "busy"
            raise self._unavailable(
                method,
                path,
                f"The BFF is too busy to reach the {self.name} service right now "
                "(no free connection).",
                "busy",
            ) from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            breaker.after_call(failed=True)
            outcome = "timeout"
            raise self._unavailable(
                method,
                path,
                f"The {self.name} service did not answer within {self._timeout:g} s.",
                "timeout",
            ) from exc
        except httpx.TransportError as exc:
            breaker.after_call(failed=True)
            outcome = "unreachable"
            raise self._unavailable(
                method, path, f"The {self.name} service cannot be reached right now.", "unreachable"
            ) from exc
        except BaseException:
            breaker.cancelled()
            outcome = "cancelled"
            raise
        finally:
            bulkhead.release()
            if self._metrics is not None:
                elapsed = time.perf_counter() - started
                self._metrics.observe_upstream(self.name, method, outcome, elapsed)
        breaker.after_call(failed=response.status_code >= 500)
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
            return self._unavailable(
                response.request.method,
                response.request.url.path,
                f"The {self.name} service is unavailable right now"
                + (f": {message}" if message and status == 503 else "."),
                "status_5xx",
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

    def _codec(self, model: type[RecordT]) -> Codec[RecordT]:
        return Codec(dump=lambda r: r.model_dump(mode="json"), load=model.model_validate)

    async def _cached_batch(
        self,
        model: type[RecordT],
        kind: str,
        keys: Sequence[int],
        fetch: Callable[[Sequence[int]], Awaitable[Mapping[int, RecordT]]],
        brief_absence: bool = False,
    ) -> dict[int, RecordT | None]:
        """Look keys up in the cache, fetch the rest with one upstream call per 100 keys.

        Keys the upstream does not know are cached as absent too (for the short TTL, or a
        fraction of a second with `brief_absence`: see UpstreamCache.read_through).
        """
        unique = list(dict.fromkeys(keys))

        async def fetch_missing(cache_keys: list[str]) -> dict[str, RecordT]:
            numbers = [int(k.rpartition(":")[2]) for k in cache_keys]
            found: dict[int, RecordT] = {}
            for chunk in _chunks(numbers):
                found.update(await fetch(chunk))
            return {f"{kind}:{n}": record for n, record in found.items()}

        values = await self._cache.read_through(
            self.name,
            [f"{kind}:{k}" for k in unique],
            self._codec(model),
            fetch_missing,
            brief_absence,
        )
        return {k: values.get(f"{kind}:{k}") for k in unique}

    async def _counts(self, path: str, search: str | None) -> StatusCounts:
        """How many rows of each status match `search` (a list's filter chips)."""
        params = {"q": search} if search is not None else {}

        async def fetch() -> StatusCounts:
            return await self._get(StatusCounts, path, params)

        return await self._cached_page(StatusCounts, f"{path}?{urlencode(params)}", fetch)

    async def _cached_page(
        self, model: type[PageT], key: str, fetch: Callable[[], Awaitable[PageT]]
    ) -> PageT:
        """A list page, cached as a whole (its records are not cached one by one: writing 50
        entries per fill cost more than the rare single lookups they would have saved)."""

        async def fetch_page(cache_keys: list[str]) -> dict[str, PageT]:
            return {key: await fetch()}

        page = (await self._cache.read_through(self.name, [key], self._codec(model), fetch_page))[
            key
        ]
        if page is None:  # fetch_page always answers the key
            raise UpstreamContractError(f"{self.name} answered no page")
        return page


class OrderingClient(UpstreamClient):
    name = ORDERING

    async def orders_by_number(self, numbers: Sequence[int]) -> dict[int, OrderRecord | None]:
        async def fetch(chunk: Sequence[int]) -> dict[int, OrderRecord]:
            batch = await self._get(OrderBatch, "/orders", [("number", n) for n in chunk])
            return {o.number: o for o in batch.orders}

        return await self._cached_batch(OrderRecord, "order", numbers, fetch)

    async def list_orders(self, wanted: ListParams) -> OrderPage:
        params = wanted.query()

        async def fetch() -> OrderPage:
            return await self._get(OrderPage, "/orders", params)

        return await self._cached_page(OrderPage, f"orders?{urlencode(params)}", fetch)

    async def order_counts(self, search: str | None) -> StatusCounts:
        return await self._counts("/orders/counts", search)

    async def order_history(self, number: int) -> OrderHistoryRecord:
        async def fetch() -> OrderHistoryRecord:
            return await self._get(OrderHistoryRecord, f"/orders/{number}/history")

        # Cached like a page: every write to ordering invalidates its entries.
        return await self._cached_page(OrderHistoryRecord, f"order-history:{number}", fetch)

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
            batch = await self._get(InvoiceBatch, "/invoices", [("order_number", n) for n in chunk])
            return {i.order_number: i for i in batch.invoices}

        # A confirmed order's missing invoice appears without a write through the BFF (billing's
        # pull or deep link creates it), so that absence is cached only briefly: for a TTL,
        # a cached "no invoice" made the orders list say "Being created" right after Confirm;
        # not at all, every read of a page with such an order asked billing again. Drafts,
        # which can't have one, are not asked about (schema.prefetch_invoices, Order.invoice).
        return await self._cached_batch(
            InvoiceRecord, "invoice-by-order", order_numbers, fetch, brief_absence=True
        )

    async def invoices_by_number(self, numbers: Sequence[int]) -> dict[int, InvoiceRecord | None]:
        async def fetch(chunk: Sequence[int]) -> dict[int, InvoiceRecord]:
            params = [("number", n) for n in chunk]
            batch = await self._get(InvoiceBatch, "/invoices", params)
            return {i.number: i for i in batch.invoices}

        return await self._cached_batch(InvoiceRecord, "invoice", numbers, fetch)

    async def list_invoices(self, wanted: ListParams) -> InvoicePage:
        params = wanted.query()

        async def fetch() -> InvoicePage:
            return await self._get(InvoicePage, "/invoices", params)

        return await self._cached_page(InvoicePage, f"invoices?{urlencode(params)}", fetch)

    async def invoice_counts(self, search: str | None) -> StatusCounts:
        return await self._counts("/invoices/counts", search)

    async def approve_invoice(self, number: int, key: str | None = None) -> InvoiceRecord:
        try:
            response = await self._request(
                "POST", f"/invoices/{number}/approve", idempotency_key=key
            )
            return self._parse(InvoiceRecord, response)
        finally:
            await self._cache.invalidate(BILLING)

    async def invoice_history(self, number: int) -> InvoiceHistoryRecord:
        async def fetch() -> InvoiceHistoryRecord:
            return await self._get(InvoiceHistoryRecord, f"/invoices/{number}/history")

        return await self._cached_page(InvoiceHistoryRecord, f"invoice-history:{number}", fetch)

    async def sync_status(self) -> SyncStatusRecord:
        # Not cached: it is a monitoring view whose whole point is to be current.
        mark_uncacheable()
        return await self._get(SyncStatusRecord, "/sync/status")
