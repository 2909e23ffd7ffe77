"""Thin HTTP handlers: parse, call a rule, shape the answer. Rules live in invoices.py (with
lifecycle.py), sync.py and deeplink.py."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from billing_api.db import Sessions
from billing_api.deeplink import Miss, miss_page, parse_order_number, resolve_new_order
from billing_api.freshness import refresh_for_approval
from billing_api.invoices import (
    INVOICE_CURSOR,
    InvoiceNotFound,
    approve_invoice,
    count_invoices,
    get_invoice,
    get_invoice_history,
    invoices_by_number,
    invoices_for_orders,
    list_invoices,
    sort_key,
)
from billing_api.models import (
    InvoiceBatch,
    InvoiceCounts,
    InvoiceHistoryEntry,
    InvoiceHistoryPage,
    InvoicePage,
    InvoicePublic,
    InvoiceStatus,
    SyncResetInput,
)
from billing_api.operator_routes import operator_routes
from billing_api.ordering_client import OrderingClient
from billing_api.sync import Syncer
from service_db.health import database_problem
from service_db.types import utcnow
from service_http.actor import actor
from service_http.bodies import parse_body
from service_http.credentials import PUBLIC, RouteScopes, Scope
from service_http.errors import BadRequest
from service_http.health import health_routes
from service_http.idempotency import Idempotency, Shape
from service_http.listing import list_query, page_cursors, search_query
from service_http.params import MAX_INT64, enum_param, int_list_param, path_int

MAX_BATCH = 100
PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT = 20, 100
# Browsers must not reuse a deep link's answer: the invoice may exist a second later.
NO_STORE = {"Cache-Control": "no-store"}


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.sessions
    return sessions


def _read_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.read_sessions
    return sessions


def _syncer(request: Request) -> Syncer:
    syncer: Syncer = request.state.syncer
    return syncer


def _json(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


def _invoice_number(request: Request) -> int:
    number = path_int(request, "number")
    if number > MAX_INT64:
        raise InvoiceNotFound(number)
    return number


async def list_or_batch(request: Request) -> Response:
    numbers = int_list_param(request, "number", MAX_BATCH, between=(1, MAX_INT64))
    order_numbers = int_list_param(request, "order_number", MAX_BATCH, between=(1, MAX_INT64))
    if numbers and order_numbers:
        raise BadRequest("Ask by 'number' or by 'order_number', not both.")
    # Every parameter is checked whichever form is asked for: the published schema has no
    # "ignored in a batch" exception.
    status = enum_param(request, "status", InvoiceStatus)
    wanted = list_query(request, INVOICE_CURSOR, PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT)
    async with _read_sessions(request)() as session:
        if numbers:
            found = await invoices_by_number(session, numbers)
            return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
        if order_numbers:
            found = await invoices_for_orders(session, order_numbers)
            return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
        invoices, more = await list_invoices(session, status, wanted)
    cursors = page_cursors(
        INVOICE_CURSOR, wanted, invoices, more, lambda i: sort_key(i, wanted.sort)
    )
    page = InvoicePage(
        invoices=[InvoicePublic.of(i) for i in invoices],
        cursors=cursors.cursors,
        next_cursor=cursors.next_cursor,
        prev_cursor=cursors.prev_cursor,
    )
    return _json(page)


async def counts(request: Request) -> Response:
    async with _read_sessions(request)() as session:
        found = await count_invoices(session, search_query(request))
    return _json(InvoiceCounts(counts=found))


async def read(request: Request) -> Response:
    async with _read_sessions(request)() as session:
        invoice = await get_invoice(session, _invoice_number(request))
        return _json(InvoicePublic.of(invoice))


async def approve(request: Request) -> Response:
    client: OrderingClient = request.state.client
    idempotency: Idempotency = request.state.idempotency
    number = _invoice_number(request)
    read_sessions = _read_sessions(request)
    who = actor(request).who

    async def prepare() -> None:
        await refresh_for_approval(_syncer(request), client, read_sessions, number)

    async def write(session: AsyncSession) -> Shape:
        invoice = await approve_invoice(session, number, utcnow(), who=who)
        # Shaped after the commit without a key: the write lock (all of SQLite) is not held
        # while JSON is built.
        return lambda: _json(InvoicePublic.of(invoice))

    return await idempotency.run(request, _sessions(request), read_sessions, write, prepare)


async def history(request: Request) -> Response:
    number = _invoice_number(request)
    async with _read_sessions(request)() as session:
        rows = await get_invoice_history(session, number)
    entries = [InvoiceHistoryEntry.of(row) for row in rows]
    return _json(InvoiceHistoryPage(invoice_number=number, entries=entries))


async def sync_status(request: Request) -> Response:
    return _json(await _syncer(request).status())


async def sync_run(request: Request) -> Response:
    report = await _syncer(request).pull()
    return _json(report.public())


async def sync_reset(request: Request) -> Response:
    data = await parse_body(request, SyncResetInput)
    syncer = _syncer(request)
    await syncer.reset(data.token)
    return _json(await syncer.status())


async def deep_link(request: Request) -> Response:
    raw = request.path_params["number"]
    web_url: str = request.state.web_url
    client: OrderingClient = request.state.client
    number = parse_order_number(raw)
    miss = Miss.UNKNOWN
    if number is not None:
        result = await resolve_new_order(_syncer(request), client, number)
        if result.invoice_number is not None:
            return RedirectResponse(
                f"{web_url}/invoices/{result.invoice_number}", status_code=303, headers=NO_STORE
            )
        assert result.miss is not None
        miss = result.miss
    status, page = miss_page(miss, raw, web_url)
    headers = dict(NO_STORE)
    if status == 503:
        headers["Retry-After"] = "30"
    return HTMLResponse(page, status_code=status, headers=headers)


async def _database_ready(request: Request) -> str | None:
    return await database_problem(request.state.engine)


async def _pull_ready(request: Request) -> str | None:
    syncer = _syncer(request)
    if syncer.scheduled and not syncer.looping:
        return "The background pull is not running."
    return None


routes = [
    *health_routes([_database_ready, _pull_ready]),
    Route("/invoices", list_or_batch, methods=["GET"]),
    Route("/invoices/counts", counts, methods=["GET"]),
    Route("/invoices/{number:int}", read, methods=["GET"]),
    Route("/invoices/{number:int}/approve", approve, methods=["POST"]),
    Route("/invoices/{number:int}/history", history, methods=["GET"]),
    Route("/sync/status", sync_status, methods=["GET"]),
    Route("/sync/run", sync_run, methods=["POST"]),
    Route("/sync/reset", sync_reset, methods=["POST"]),
    Route("/link/new_order/{number:path}", deep_link, methods=["GET"]),
    *operator_routes,
]

# The scope each route requires (service_http.credentials; health, /openapi.json and /metrics
# are in COMMON_ROUTE_SCOPES). A route missing here is refused to every caller.
ROUTE_SCOPES: RouteScopes = {
    ("GET", "/invoices"): Scope.INVOICES_READ,
    ("GET", "/invoices/counts"): Scope.INVOICES_READ,
    ("GET", "/invoices/{number:int}"): Scope.INVOICES_READ,
    ("POST", "/invoices/{number:int}/approve"): Scope.INVOICES_APPROVE,
    ("GET", "/invoices/{number:int}/history"): Scope.INVOICES_READ,
    ("GET", "/sync/status"): Scope.SYNC_READ,
    ("POST", "/sync/run"): Scope.SYNC_RUN,
    ("POST", "/sync/reset"): Scope.SYNC_RUN,
    # The operator's repairs (billing_api/operator_routes.py): reading them is sync:read,
    # anything that changes what billing holds is sync:run.
    ("GET", "/sync/reconciliation"): Scope.SYNC_READ,
    ("GET", "/sync/dead-letters"): Scope.SYNC_READ,
    ("GET", "/sync/dead-letters/{id:int}"): Scope.SYNC_READ,
    ("POST", "/sync/dead-letters/{id:int}/retry"): Scope.SYNC_RUN,
    ("POST", "/sync/dead-letters/{id:int}/dismiss"): Scope.SYNC_RUN,
    ("POST", "/sync/resync"): Scope.SYNC_RUN,
    # The BFF's session-guarded deep link calls this one and passes the redirect on
    # (bff/deeplink.py); it stays open to a browser, as before, for links already sent.
    ("GET", "/link/new_order/{number:path}"): PUBLIC,
}
