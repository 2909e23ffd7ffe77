"""The direct floor: the least any gateway can do for the benchmark's page.

A tiny Starlette + httpx app that answers every `POST /graphql` with the benchmark's page in the
BFF's answer shape, by making the same two REST calls as the BFF (the page of orders, then one
batch of invoices by order number) and joining them by `order_number`. No GraphQL at all: its
latency is what the two upstream calls and the join cost, which the BFF is measured against.

Run with `uvicorn --factory benchmarks.floor:create_app`; settings from `FLOOR_*` variables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE_SIZE = 50


class FloorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOOR_", extra="ignore")

    ordering_url: str
    billing_url: str
    service_token: str


def create_app(settings: FloorSettings | None = None) -> Starlette:
    settings = settings or FloorSettings()  # from the environment
    clients: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        headers = {"authorization": f"Bearer {settings.service_token}"}
        # Pooled like the BFF's clients, idle connections dropped before the servers' 30 s.
        limits = httpx.Limits(max_keepalive_connections=20, keepalive_expiry=15.0)
        async with (
            httpx.AsyncClient(base_url=settings.ordering_url, headers=headers, limits=limits) as o,
            httpx.AsyncClient(base_url=settings.billing_url, headers=headers, limits=limits) as b,
        ):
            clients.update(ordering=o, billing=b)
            yield

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def page(request: Request) -> Response:
        orders = await clients["ordering"].get(
            "/orders", params={"limit": PAGE_SIZE, "status": "confirmed"}
        )
        orders.raise_for_status()
        rows = orders.json()["orders"]
        invoices = await clients["billing"].get(
            "/invoices", params=[("order_number", o["number"]) for o in rows]
        )
        invoices.raise_for_status()
        by_order = {i["order_number"]: i for i in invoices.json()["invoices"]}
        edges: list[dict[str, Any]] = []
        for order in rows:
            invoice = by_order.get(order["number"])
            edges.append(
                {
                    "node": {
                        "number": order["number"],
                        "status": order["status"].upper(),
                        "total": order["total"],
                        "customer": {"name": order["customer"]["name"]},
                        "invoice": None
                        if invoice is None
                        else {
                            "number": invoice["number"],
                            "status": invoice["status"].upper(),
                            "amount": invoice["amount"],
                        },
                    }
                }
            )
        return JSONResponse({"data": {"orders": {"edges": edges}}})

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/graphql", page, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
