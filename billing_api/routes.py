"""Thin HTTP handlers: parse, call a rule, shape the answer. Rules live in invoices.py/sync.py."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from billing_api.db import new_session
from billing_api.deeplink import Miss, miss_page, parse_order_number, resolve_new_order
from billing_api.invoices import (
    MAX_BATCH,
    MAX_PAGE,
    approve_invoice,
    get_invoice,
    invoices_by_number,
    invoices_for_orders,
    list_invoices,
    now_utc,
)
from billing_api.models import (
    InvoiceBatch,
    InvoicePage,
    InvoicePublic,
    InvoiceStatus,
    SyncResetInput,
)
from billing_api.ordering_client import OrderingClient
from billing_api.sync import Syncer
from service_http.bodies import int_list_param, int_param, parse_body, path_int
from service_http.errors import BadRequest, NotFound

MAX_NUMBER = 2**63 - 1
PAGE_DEFAULT_LIMIT = 20
# Browsers must not reuse a deep link's answer: the invoice may exist a second later.
NO_STORE = {"Cache-Control": "no-store"}


class BillingState(TypedDict):
    engine: AsyncEngine
    syncer: Syncer
    client: OrderingClient
    web_url: str


def _state(request: Request) -> BillingState:
    return BillingState(
        engine=request.state.engine,
        syncer=request.state.syncer,
        client=request.state.client,
        web_url=request.state.web_url,
    )


def _invoice_number(request: Request) -> int:
    number = path_int(request, "number")
    if number > MAX_NUMBER:
        raise NotFound(f"No invoice {number}.")
    return number


def _status_param(request: Request) -> InvoiceStatus | None:
    raw = request.query_params.get("status")
    if not raw:
        return None
    try:
        return InvoiceStatus(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in InvoiceStatus)
        raise BadRequest(f"'status' must be one of {allowed}, got {raw!r}.") from None


def _json(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


async def list_or_batch(request: Request) -> Response:
    engine = _state(request)["engine"]
    numbers = int_list_param(request, "number", MAX_BATCH)
    if numbers:
        if "order_number" in request.query_params:
            raise BadRequest("Ask by 'number' or by 'order_number', not both.")
        if any(not 1 <= n <= MAX_NUMBER for n in numbers):
            raise BadRequest(f"Every 'number' must be between 1 and {MAX_NUMBER}.")
        async with new_session(engine, read_only=True) as session:
            found = await invoices_by_number(session, numbers)
        return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
    if "number" in request.query_params:
        raise BadRequest("'number' must not be empty.")
    order_numbers = int_list_param(request, "order_number", MAX_BATCH)
    if order_numbers:
        if any(not 1 <= n <= MAX_NUMBER for n in order_numbers):
            raise BadRequest(f"Every 'order_number' must be between 1 and {MAX_NUMBER}.")
        async with new_session(engine, read_only=True) as session:
            found = await invoices_for_orders(session, order_numbers)
        return _json(InvoiceBatch(invoices=[InvoicePublic.of(i) for i in found]))
    if "order_number" in request.query_params:
        raise BadRequest("'order_number' must not be empty.")
    status = _status_param(request)
    limit = int_param(request, "limit", PAGE_DEFAULT_LIMIT, 1, MAX_PAGE)
    after = request.query_params.get("after") or None
    async with new_session(engine, read_only=True) as session:
        invoices, next_cursor = await list_invoices(session, status, limit, after)
    return _json(
        InvoicePage(invoices=[InvoicePublic.of(i) for i in invoices], next_cursor=next_cursor)
    )


async def read(request: Request) -> Response:
    number = _invoice_number(request)
    async with new_session(_state(request)["engine"], read_only=True) as session:
        invoice = await get_invoice(session, number)
    return _json(InvoicePublic.of(invoice))


async def approve(request: Request) -> Response:
    number = _invoice_number(request)
    async with new_session(_state(request)["engine"]) as session, session.begin():
        invoice = await approve_invoice(session, number, now_utc())
    return _json(InvoicePublic.of(invoice))


async def sync_status(request: Request) -> Response:
    return _json(await _state(request)["syncer"].status())


async def sync_run(request: Request) -> Response:
    report = await _state(request)["syncer"].pull(wait_for_lock=True)
    assert report is not None, "a waiting pull either runs or raises"
    return _json(report.public())


async def sync_reset(request: Request) -> Response:
    data = await parse_body(request, SyncResetInput)
    syncer = _state(request)["syncer"]
    await syncer.reset(data.token)
    return _json(await syncer.status())


async def deep_link(request: Request) -> Response:
    state = _state(request)
    raw = request.path_params["number"]
    number = parse_order_number(raw)
    if number is not None:
        result = await resolve_new_order(state["engine"], state["syncer"], state["client"], number)
        if result.invoice_number is not None:
            return RedirectResponse(
                f"{state['web_url']}/invoices/{result.invoice_number}",
                status_code=303,
                headers=NO_STORE,
            )
        assert result.miss is not None
        status, page = miss_page(result.miss, raw, state["web_url"])
    else:
        status, page = miss_page(Miss.UNKNOWN, raw, state["web_url"])
    headers = dict(NO_STORE)
    if status == 503:
        headers["Retry-After"] = "30"
    return HTMLResponse(page, status_code=status, headers=headers)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/invoices", list_or_batch, methods=["GET"]),
    Route("/invoices/{number:int}", read, methods=["GET"]),
    Route("/invoices/{number:int}/approve", approve, methods=["POST"]),
    Route("/sync/status", sync_status, methods=["GET"]),
    Route("/sync/run", sync_run, methods=["POST"]),
    Route("/sync/reset", sync_reset, methods=["POST"]),
    Route("/link/new_order/{number:path}", deep_link, methods=["GET"]),
]
