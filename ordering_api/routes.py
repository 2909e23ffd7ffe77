"""Thin HTTP handlers: parse, call a rule, shape the answer. Rules live in orders.py/feed.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordering_api.db import Sessions
from ordering_api.feed import number_with_the_write, serve_changes, wait_for_changes
from ordering_api.feed_wake import AssignerKick, FeedWaker
from ordering_api.metrics import OrderingMetrics
from ordering_api.models import (
    Order,
    OrderBatch,
    OrderCounts,
    OrderHistoryEntry,
    OrderHistoryPage,
    OrderInput,
    OrderPage,
    OrderPublic,
    OrderStatus,
    price_problems,
)
from ordering_api.orders import (
    ORDER_CURSOR,
    confirm_order,
    count_orders,
    create_order,
    delete_order,
    get_order,
    get_orders,
    list_orders,
    order_history,
    replace_order,
    sort_key,
)
from ordering_api.reconcile import digests, range_checksums
from service_db.health import database_problem
from service_http.actor import actor
from service_http.bodies import parse_body, refuse
from service_http.credentials import RouteScopes, Scope
from service_http.health import health_routes
from service_http.idempotency import Idempotency, Shape, Write
from service_http.listing import list_query, page_cursors, search_query
from service_http.params import (
    MAX_INT64,
    enum_param,
    int_list_param,
    int_param,
    path_int,
    seconds_param,
)

MAX_BATCH = 100
FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT = 500, 1000
PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT = 20, 100
CHECKSUM_DEFAULT_SIZE, CHECKSUM_MAX_SIZE = 1000, 100_000
CHECKSUM_DEFAULT_RANGES, CHECKSUM_MAX_RANGES = 100, 1000
DIGESTS_MAX = 10_000


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.sessions
    return sessions


def _read_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.read_sessions
    return sessions


def _order_json(order: OrderPublic, status_code: int = 200) -> JSONResponse:
    return JSONResponse(order.model_dump(mode="json"), status_code=status_code)


def _once(request: Request, write: Write) -> Awaitable[Response]:
    """Run a write exactly once per Idempotency-Key (service_http.idempotency)."""
    idempotency: Idempotency = request.state.idempotency
    return idempotency.run(request, _sessions(request), _read_sessions(request), write)


# A write of a published order's state (confirm, delete): the order as the wire has it.
PublishedWrite = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def _published_change(request: Request, write: PublishedWrite) -> Response:
    """A write that leaves a published order's change pending (confirm, delete), numbered in
    the write's own transaction (`number_with_the_write`; the answer carries the position) so
    long-polling readers (billing) hear of it at its commit. Should it number nothing (another
    writer holds the row's turn), the assigner is asked to run now."""
    numbered: dict[int, int] = {}

    async def write_and_number(session: AsyncSession) -> Shape:
        nonlocal numbered
        order = await write(session)
        numbered = await number_with_the_write(session)
        order["change_seq"] = numbered.get(order["number"], order["change_seq"])
        return lambda: JSONResponse(order)

    answered = False
    try:
        response = await _once(request, write_and_number)
        answered = True
        return response
    finally:
        if answered and numbered:
            waker: FeedWaker = request.state.waker
            waker.notify()  # committed with the write: waiting readers look again
            metrics: OrderingMetrics = request.state.metrics
            metrics.observe_numbered_with_write(len(numbered))
        else:
            kick: AssignerKick = request.state.assigner_kick
            kick.kick()


def _shaped(order: Order, status_code: int = 200) -> Shape:
    # Shaped when called: after the commit without a key (the write lock, all of SQLite, is not
    # held while JSON is built), inside the transaction with one (the answer is stored).
    return lambda: _order_json(OrderPublic.of(order), status_code)


async def create(request: Request) -> Response:
    data = await _checked_input(request)
    who = actor(request).who

    async def write(session: AsyncSession) -> Shape:
        created = await create_order(session, data, who=who)

        def shape() -> Response:
            location = {"Location": f"/orders/{created['number']}"}
            return JSONResponse(created, status_code=201, headers=location)

        return shape

    return await _once(request, write)


async def list_or_batch(request: Request) -> Response:
    numbers = int_list_param(request, "number", MAX_BATCH, between=(1, MAX_INT64))
    # Every parameter is checked whichever form is asked for: the published schema has no
    # "ignored in a batch" exception.
    status = enum_param(request, "status", OrderStatus)
    wanted = list_query(request, ORDER_CURSOR, PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT)
    async with _read_sessions(request)() as session:
        if numbers:
            found = await get_orders(session, numbers)
            return JSONResponse(
                OrderBatch(orders=[OrderPublic.of(o) for o in found]).model_dump(mode="json")
            )
        orders, more = await list_orders(session, status, wanted)
    cursors = page_cursors(ORDER_CURSOR, wanted, orders, more, lambda o: sort_key(o, wanted.sort))
    page = OrderPage(
        orders=[OrderPublic.of(o) for o in orders],
        cursors=cursors.cursors,
        next_cursor=cursors.next_cursor,
        prev_cursor=cursors.prev_cursor,
    )
    return JSONResponse(page.model_dump(mode="json"))


async def counts(request: Request) -> Response:
    wanted = search_query(request)
    async with _read_sessions(request)() as session:
        found = await count_orders(session, wanted)
    return JSONResponse(OrderCounts(counts=found).model_dump(mode="json"))


async def _checked_input(request: Request) -> OrderInput:
    """The order in the body, its prices checked against its currency's digits too."""
    data = await parse_body(request, OrderInput)
    refuse(price_problems(data))
    return data


async def read(request: Request) -> Response:
    async with _read_sessions(request)() as session:
        order = await get_order(session, path_int(request, "number"))
        return _order_json(OrderPublic.of(order))


async def replace(request: Request) -> Response:
    data = await _checked_input(request)
    number = path_int(request, "number")
    who = actor(request).who

    async def write(session: AsyncSession) -> Shape:
        return _shaped(await replace_order(session, number, data, who=who))

    return await _once(request, write)


async def confirm(request: Request) -> Response:
    number = path_int(request, "number")
    who = actor(request).who

    async def write(session: AsyncSession) -> dict[str, Any]:
        return await confirm_order(session, number, who=who)

    return await _published_change(request, write)


async def delete(request: Request) -> Response:
    number = path_int(request, "number")
    who = actor(request).who

    async def write(session: AsyncSession) -> dict[str, Any]:
        return await delete_order(session, number, who=who)

    return await _published_change(request, write)


async def history(request: Request) -> Response:
    number = path_int(request, "number")
    async with _read_sessions(request)() as session:
        rows = await order_history(session, number)
    page = OrderHistoryPage(order_number=number, entries=[OrderHistoryEntry.of(r) for r in rows])
    return JSONResponse(page.model_dump(mode="json"))


async def changes(request: Request) -> Response:
    since = int_param(request, "since", 0, 0, MAX_INT64)
    limit = int_param(request, "limit", FEED_DEFAULT_LIMIT, 1, FEED_MAX_LIMIT)
    max_wait: float = request.state.feed_max_wait
    wait = seconds_param(request, "wait", 0.0, max_wait)
    waker: FeedWaker = request.state.waker
    if wait > 0:
        page = await wait_for_changes(
            _sessions(request), _read_sessions(request), since, limit, wait, waker
        )
    else:
        page = await serve_changes(_sessions(request), _read_sessions(request), since, limit, waker)
    return JSONResponse(page)


async def checksums(request: Request) -> Response:
    """Reconciliation (billing): per range of order numbers, count and checksum."""
    start = int_param(request, "start", 1, 1, MAX_INT64)
    size = int_param(request, "size", CHECKSUM_DEFAULT_SIZE, 1, CHECKSUM_MAX_SIZE)
    ranges = int_param(request, "ranges", CHECKSUM_DEFAULT_RANGES, 1, CHECKSUM_MAX_RANGES)
    async with _read_sessions(request)() as session:
        page = await range_checksums(session, start, size, ranges)
    return JSONResponse(page.model_dump(mode="json"))


async def order_digests(request: Request) -> Response:
    """Reconciliation (billing): the digests of the published orders of one range."""
    first = int_param(request, "first", 1, 1, MAX_INT64)
    count = int_param(request, "count", CHECKSUM_DEFAULT_SIZE, 1, DIGESTS_MAX)
    async with _read_sessions(request)() as session:
        found = await digests(session, first, count)
    return JSONResponse(found.model_dump(mode="json"))


async def _database_ready(request: Request) -> str | None:
    return await database_problem(request.state.engine)


routes = [
    *health_routes([_database_ready]),
    Route("/orders", list_or_batch, methods=["GET"]),
    Route("/orders", create, methods=["POST"]),
    Route("/orders/changes", changes, methods=["GET"]),
    Route("/orders/counts", counts, methods=["GET"]),
    Route("/orders/checksums", checksums, methods=["GET"]),
    Route("/orders/digests", order_digests, methods=["GET"]),
    Route("/orders/{number:int}", read, methods=["GET"]),
    Route("/orders/{number:int}", replace, methods=["PUT"]),
    Route("/orders/{number:int}", delete, methods=["DELETE"]),
    Route("/orders/{number:int}/confirm", confirm, methods=["POST"]),
    Route("/orders/{number:int}/history", history, methods=["GET"]),
]

# The scope each route requires (service_http.credentials; health, /openapi.json and /metrics
# are in COMMON_ROUTE_SCOPES). A route missing here is refused to every caller.
ROUTE_SCOPES: RouteScopes = {
    ("GET", "/orders"): Scope.ORDERS_READ,
    ("POST", "/orders"): Scope.ORDERS_WRITE,
    ("GET", "/orders/changes"): Scope.FEED_READ,
    ("GET", "/orders/counts"): Scope.ORDERS_READ,
    # Reconciliation (billing): digests of published orders, read like the orders themselves.
    ("GET", "/orders/checksums"): Scope.ORDERS_READ,
    ("GET", "/orders/digests"): Scope.ORDERS_READ,
    ("GET", "/orders/{number:int}"): Scope.ORDERS_READ,
    ("PUT", "/orders/{number:int}"): Scope.ORDERS_WRITE,
    ("DELETE", "/orders/{number:int}"): Scope.ORDERS_WRITE,
    ("POST", "/orders/{number:int}/confirm"): Scope.ORDERS_WRITE,
    ("GET", "/orders/{number:int}/history"): Scope.ORDERS_READ,
}
