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
    get_invoice,
    invoices_by_number,
    invoices_for_orders,
    list_invoices,
)
from billing_api.models import (
    InvoiceBatch,
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
from service_http.bodies import parse_body
from service_http.errors import BadRequest
from service_http.health import health_routes
from service_http.idempotency import Idempotency, Shape
from service_http.params import MAX_INT64, enum_param, int_list_param, int_param, path_int

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
    limit = int_param(request, "limit", PAGE_DEFAULT_LIMIT, 1, PAGE_MAX_LIMIT)
    before = INVOICE_CURSOR.after_param(request)
    async with _read_sessions(request)() as session:
        if numbers:
            found = await invoices_by_number(session, numbers)
            return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
        if order_numbers:
            found = await invoices_for_orders(session, order_numbers)
            return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
        invoices, next_before = await list_invoices(session, status, limit, before)
    page = InvoicePage(
        invoices=[InvoicePublic.of(i) for i in invoices],
        next_cursor=INVOICE_CURSOR.next_cursor(next_before),
    )
    return _json(page)


async def read(request: Request) -> Response:
    async with _read_sessions(request)() as session:
        invoice = await get_invoice(session, _invoice_number(request))
        return _json(InvoicePublic.of(invoice))


async def approve(request: Request) -> Response:
    client: OrderingClient = request.state.client
    idempotency: Idempotency = request.state.idempotency
    number = _invoice_number(request)
    read_sessions = _read_sessions(request)

    async def prepare() -> None:
        await refresh_for_approval(_syncer(request), client, read_sessions, number)

    async def write(session: AsyncSession) -> Shape:
        invoice = await approve_invoice(session, number, utcnow())
        # Shaped after the commit without a key: the write lock (all of SQLite) is not held
        # while JSON is built.
        return lambda: _json(InvoicePublic.of(invoice))

    return await idempotency.run(request, _sessions(request), read_sessions, write, prepare)


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
    Route("/invoices/{number:int}", read, methods=["GET"]),
    Route("/invoices/{number:int}/approve", approve, methods=["POST"]),
    Route("/sync/status", sync_status, methods=["GET"]),
    Route("/sync/run", sync_run, methods=["POST"]),
    Route("/sync/reset", sync_reset, methods=["POST"]),
    Route("/link/new_order/{number:path}", deep_link, methods=["GET"]),
    *operator_routes,
]
