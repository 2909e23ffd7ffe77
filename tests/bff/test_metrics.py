"""`/metrics` of the three apps: parses as Prometheus text, carries the families operators and
the alert rules (ops/prometheus/alerts.yml) rely on, and is protected."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bff.metrics import MAX_OPERATION_NAMES, OTHER, BffMetrics
from billing_api.app import create_app as create_billing_app
from billing_api.metrics import BillingMetrics
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from tests.bff.conftest import (
    CONFIRM,
    CREATE,
    ORDER_INPUT,
    TOKEN,
    System,
    SystemFactory,
    confirmed_orders_with_invoices,
)
from tests.bff.transports import Fault, UpstreamLink
from tests.support.asgi import serving

SCRAPE_TOKEN = "scrape-token"
ORDERS = "query Orders { orders(first: 10) { edges { node { number invoice { number } } } } }"


class Scrape:
    """One scrape, parsed with prometheus_client's own text parser."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def samples(self, name: str, **labels: str) -> list[Sample]:
        family = name.removesuffix("_total").removesuffix("_count").removesuffix("_bucket")
        return [
            s
            for s in self.families[family].samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.samples(name, **labels))


async def scrape(client: httpx.AsyncClient, token: str | None = None) -> Scrape:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(response.text)


async def gql_named(system: System, name: str, query: str, variables: Any = None) -> Any:
    response = await system.bff.post(
        "/graphql", json={"query": query, "variables": variables, "operationName": name}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_app_serves_the_families_of_its_work(make_system: SystemFactory) -> None:
    system: System = await make_system(metrics_token=SCRAPE_TOKEN)
    created = await gql_named(system, "Create", CREATE, {"input": ORDER_INPUT})
    number = created["data"]["createOrder"]["number"]
    await gql_named(system, "Confirm", CONFIRM, {"number": number})
    await system.pull()
    for _ in range(2):  # the second is answered from the caches
        await gql_named(system, "Orders", ORDERS)

    bff = await scrape(system.bff, SCRAPE_TOKEN)
    assert bff.value("http_requests_total", route="/graphql", method="POST", status="200") == 4
    assert bff.value("http_request_duration_seconds_count", route="/graphql") == 4
    assert bff.value("bff_graphql_operations_total", operation="Create") == 1
    assert bff.value("bff_graphql_operations_total", operation="Confirm") == 1
    # The second Orders came from the whole-response cache, not executed again.
    assert bff.value("bff_graphql_operations_total", operation="Orders") == 1
    assert bff.value("bff_response_cache_lookups_total", result="hit") == 1
    assert bff.value("bff_cache_lookups_total", upstream="ordering", result="miss") >= 1
    assert bff.value("bff_upstream_requests_total", upstream="ordering", status="201") == 1
    assert bff.value("bff_upstream_requests_total", upstream="billing", status="200") >= 1
    assert bff.value("bff_upstream_request_duration_seconds_count", upstream="ordering") >= 3
    assert "bff_graphql_errors" in bff.families and "bff_upstream_errors" in bff.families

    billing = await scrape(system.billing)
    assert billing.value("billing_pulls_total", result="ok") == 1
    assert billing.value("billing_pull_pages_total") == 1
    assert billing.value("billing_apply_outcomes_total", outcome="new") == 1
    assert billing.value("billing_invoices_created_total") == 1
    assert billing.value("billing_pull_duration_seconds_count", result="ok") == 1
    assert billing.value("billing_lag_records") == 0
    assert billing.value("billing_lag_seconds") == 0
    assert billing.value("billing_feed_behind") == 0
    assert billing.value("billing_sync_healthy") == 1
    assert billing.value("billing_last_success_timestamp_seconds") > 0
    assert billing.value("http_requests_total", route="/sync/run", status="200") == 1

    ordering = await scrape(system.ordering)
    assert ordering.value("ordering_assigner_pending") == 0
    assert "ordering_assigner_runs" in ordering.families
    assert "ordering_assigner_assigned_changes" in ordering.families
    confirm_route = "/orders/{number:int}/confirm"
    assert ordering.value("http_requests_total", route=confirm_route, status="200") == 1


async def test_routes_are_templates_so_series_stay_bounded(system: System) -> None:
    numbers = await confirmed_orders_with_invoices(system, 2)
    for number in numbers:
        assert (await system.ordering.get(f"/orders/{number}")).status_code == 200
    assert (await system.ordering.get("/no/such/path/123")).status_code == 404
    # Answered before routing (no token), still labelled by the route it was meant for.
    no_token = httpx.AsyncClient(transport=system.ordering_link.inner, base_url="http://o.test")
    assert (await no_token.get("/orders/1")).status_code == 401

    ordering = await scrape(system.ordering)
    routes = {s.labels["route"] for s in ordering.samples("http_requests_total")}
    assert "/orders/{number:int}" in routes
    assert not any(str(n) in route for route in routes for n in numbers)
    assert ordering.value("http_requests_total", route="/orders/{number:int}", status="200") == 2
    assert ordering.value("http_requests_total", route="/orders/{number:int}", status="401") == 1
    assert ordering.value("http_requests_total", route="unmatched", status="404") == 1


async def test_metrics_need_the_monitoring_credential(make_system: SystemFactory) -> None:
    system: System = await make_system(metrics_token=SCRAPE_TOKEN)
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic eDp5"}):
        response = await system.bff.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "bff_" not in response.text
    for link in (system.billing_link, system.ordering_link):
        no_token = httpx.AsyncClient(transport=link.inner, base_url="http://service.test")
        response = await no_token.get("/metrics")
        assert response.status_code == 401
        assert "http_requests" not in response.text


async def test_bff_serves_no_metrics_without_a_token_setting(system: System) -> None:
    assert system.settings.metrics_token is None
    assert (await system.bff.get("/metrics")).status_code == 404


async def test_errors_are_counted_by_code_and_upstream_failures_by_reason(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(metrics_token=SCRAPE_TOKEN)
    await confirmed_orders_with_invoices(system, 1)
    system.billing_link.fault = Fault.DOWN
    body = await gql_named(system, "Orders", ORDERS)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    await gql_named(system, "Broken", "query Broken { nope }")

    bff = await scrape(system.bff, SCRAPE_TOKEN)
    assert bff.value(
        "bff_graphql_errors_total", operation="Orders", code="UPSTREAM_UNAVAILABLE"
    ) == len(body["errors"])
    assert bff.value("bff_graphql_errors_total", code="GRAPHQL_REQUEST_ERROR") == 1
    assert bff.value("bff_upstream_errors_total", upstream="billing", reason="unreachable") >= 1
    assert bff.value("bff_upstream_requests_total", upstream="billing", status="unreachable") >= 1


async def test_billing_reports_failing_pulls(system: System, tmp_path: Path) -> None:
    await confirmed_orders_with_invoices(system, 1)
    link = UpstreamLink(system.ordering_link.inner)
    billing_settings = BillingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'billing-down.db'}",
        service_token=TOKEN,
        pull_enabled=False,
        ordering_url="http://ordering.internal",
    )
    async with (
        serving(create_billing_app(billing_settings, ordering_transport=link)) as billing_asgi,
        peer(billing_asgi) as billing,
    ):
        assert (await billing.post("/sync/run")).status_code == 200
        link.fault = Fault.DOWN
        for _ in range(2):
            assert (await billing.post("/sync/run")).status_code == 503

        scraped = await scrape(billing)
    assert scraped.value("billing_pulls_total", result="ok") == 1
    assert scraped.value("billing_pulls_total", result="failed") == 2
    assert scraped.value("billing_consecutive_failures") == 2
    assert scraped.value("billing_pull_duration_seconds_count", result="failed") == 2


def peer(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://service.internal",
        headers={"authorization": f"Bearer {TOKEN}"},
    )


async def test_gauges_read_the_database_at_scrape_time(system: System, tmp_path: Path) -> None:
    """Lag and feed-behind come from billing's sync-state row, planted here."""
    await confirmed_orders_with_invoices(system, 2)
    run = tmp_path / "system0"  # make_system's first run

    with sqlite3.connect(run / "billing.db") as billing_db:
        billing_db.execute("UPDATE sync_state SET high_water = token + 5")
    billing = await scrape(system.billing)
    assert billing.value("billing_lag_records") == 5
    assert billing.value("billing_lag_seconds") > 0
    assert billing.value("billing_feed_behind") == 0

    with sqlite3.connect(run / "billing.db") as billing_db:
        billing_db.execute("UPDATE sync_state SET high_water = token - 1")
    billing = await scrape(system.billing)
    assert billing.value("billing_feed_behind") == 1
    assert billing.value("billing_lag_records") == 0


async def test_assigner_backlog_is_counted_at_scrape_time(tmp_path: Path) -> None:
    database = tmp_path / "ordering.db"
    settings = OrderingSettings(
        database_url=f"sqlite+aiosqlite:///{database}",
        service_token=TOKEN,
        assign_interval=3600,  # no tick during the test: only a confirm runs the assigner
    )
    async with (
        serving(create_ordering_app(settings)) as ordering_asgi,
        peer(ordering_asgi) as client,
    ):
        for _ in range(3):
            number = (await client.post("/orders", json=ORDER_BODY)).json()["number"]
            assert (await client.post(f"/orders/{number}/confirm")).status_code == 200
        # On SQLite each confirm numbered its own change, in its transaction.
        numbered = await scrape_until(client, lambda s: s.value(ASSIGNED) == 3)
        assert numbered.value(ASSIGNED) == 3
        assert numbered.value("ordering_assigner_pending") == 0
        assert numbered.value("ordering_assigner_runs_total", result="ok") >= 1
        # As if two confirms had committed and not been numbered yet.
        with sqlite3.connect(database) as ordering_db:
            ordering_db.execute(
                "UPDATE orders SET change_seq = NULL WHERE number IN"
                " (SELECT number FROM orders ORDER BY number LIMIT 2)"
            )
        assert (await scrape(client)).value("ordering_assigner_pending") == 2


ASSIGNED = "ordering_assigner_assigned_changes_total"
ORDER_BODY = {
    "customer": ORDER_INPUT["customer"],
    "currency": "EUR",
    "lines": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}],
}


async def scrape_until(client: httpx.AsyncClient, condition: Callable[[Scrape], bool]) -> Scrape:
    """Scrape until `condition` holds (a background task's work shows), for up to 10 s."""
    deadline = time.monotonic() + 10
    while True:
        scraped = await scrape(client)
        if condition(scraped) or time.monotonic() > deadline:
            return scraped
        await asyncio.sleep(0.02)


async def test_dead_letters_are_exposed_once_a_store_is_wired() -> None:
    registry = CollectorRegistry()
    metrics = BillingMetrics(registry)
    await metrics.refresh_dead_letters()
    assert registry.get_sample_value("billing_dead_letters") is None

    async def three() -> int:
        return 3

    metrics.count_dead_letters(three)
    await metrics.refresh_dead_letters()
    assert registry.get_sample_value("billing_dead_letters") == 3


def test_operation_names_from_clients_are_bounded() -> None:
    metrics = BffMetrics(CollectorRegistry())
    for i in range(MAX_OPERATION_NAMES + 50):
        metrics.observe_operation(f"Op{i}", [])
    names = {s.labels["operation"] for m in metrics.operations.collect() for s in m.samples}
    assert len(names) == MAX_OPERATION_NAMES + 1
    assert OTHER in names
    assert metrics.operation_label("Op0") == "Op0"
