"""Thin HTTP handlers: parse, call a rule, shape the answer. Rules live in orders.py/feed.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordering_api.db import Sessions
from ordering_api.feed import serve_changes
from ordering_api.models import (
    OrderBatch,
    OrderInput,
    OrderPage,
    OrderPublic,
    OrderStatus,
)
from ordering_api.orders import (
    ORDER_CURSOR,
    confirm_order,
    create_order,
    delete_order,
    get_order,
    get_orders,
    list_orders,
    replace_order,
)
from service_db.health import database_problem
from service_http.bodies import parse_body
from service_http.health import health_routes
from service_http.params import MAX_INT64, enum_param, int_list_param, int_param, path_int

MAX_BATCH = 100
FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT = 500, 1000
PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT = 20, 100


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.sessions
    return sessions


def _read_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.read_sessions
    return sessions


def _order_json(order: OrderPublic, status_code: int = 200) -> JSONResponse:
    return JSONResponse(order.model_dump(mode="json"), status_code=status_code)


async def create(request: Request) -> Response:
    data = await parse_body(request, OrderInput)
    async with _sessions(request).begin() as session:
        created = await create_order(session, data)
    # Shaped after the commit: the write lock (all of SQLite) is not held while JSON is built.
    order = OrderPublic.of(created)
    response = _order_json(order, 201)
    response.headers["Location"] = f"/orders/{order.number}"
    return response


async def list_or_batch(request: Request) -> Response:
    numbers = int_list_param(request, "number", MAX_BATCH)
    async with _read_sessions(request)() as session:
        if numbers:
            found = await get_orders(session, numbers)
            return JSONResponse(
                OrderBatch(orders=[OrderPublic.of(o) for o in found]).model_dump(mode="json")
            )
        status = enum_param(request, "status", OrderStatus)
        limit = int_param(request, "limit", PAGE_DEFAULT_LIMIT, 1, PAGE_MAX_LIMIT)
        before = ORDER_CURSOR.after_param(request)
        orders, next_before = await list_orders(session, status, limit, before)
    page = OrderPage(
        orders=[OrderPublic.of(o) for o in orders],
        next_cursor=ORDER_CURSOR.next_cursor(next_before),
    )
    return JSONResponse(page.model_dump(mode="json"))


async def read(request: Request) -> Response:
    async with _read_sessions(request)() as session:
        order = await get_order(session, path_int(request, "number"))
        return _order_json(OrderPublic.of(order))


async def replace(request: Request) -> Response:
    data = await parse_body(request, OrderInput)
    async with _sessions(request).begin() as session:
        order = await replace_order(session, path_int(request, "number"), data)
    return _order_json(OrderPublic.of(order))


async def confirm(request: Request) -> Response:
    async with _sessions(request).begin() as session:
        order = await confirm_order(session, path_int(request, "number"))
    return _order_json(OrderPublic.of(order))


async def delete(request: Request) -> Response:
    async with _sessions(request).begin() as session:
        order = await delete_order(session, path_int(request, "number"))
    return _order_json(OrderPublic.of(order))


async def changes(request: Request) -> Response:
    since = int_param(request, "since", 0, 0, MAX_INT64)
    limit = int_param(request, "limit", FEED_DEFAULT_LIMIT, 1, FEED_MAX_LIMIT)
    page = await serve_changes(_sessions(request), _read_sessions(request), since, limit)
    return JSONResponse(page)


async def _database_ready(request: Request) -> str | None:
    return await database_problem(request.state.engine)


routes = [
    *health_routes([_database_ready]),
    Route("/orders", list_or_batch, methods=["GET"]),
    Route("/orders", create, methods=["POST"]),
    Route("/orders/changes", changes, methods=["GET"]),
    Route("/orders/{number:int}", read, methods=["GET"]),
    Route("/orders/{number:int}", replace, methods=["PUT"]),
    Route("/orders/{number:int}", delete, methods=["DELETE"]),
    Route("/orders/{number:int}/confirm", confirm, methods=["POST"]),
]
