"""`X-Request-ID`: made at the edge, passed on to the services, echoed, and in JSON logs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from service_http.logs import UVICORN_LOGGERS
from service_http.request_id import current_request_id
from tests.bff.conftest import (
    ORDER_INPUT,
    TOKEN,
    System,
    confirmed_orders_with_invoices,
)
from tests.bff.transports import UpstreamLink
from tests.support.asgi import serving

FRESH_ID = re.compile(r"[0-9a-f]{32}")


def ids_sent(link: UpstreamLink) -> set[str | None]:
    return {r.headers.get("x-request-id") for r in link.calls}


async def test_the_edge_makes_an_id_and_passes_it_on(system: System) -> None:
    # A confirmed order: the BFF asks billing for its invoice (a draft's it does not).
    await confirmed_orders_with_invoices(system, 1)
    system.reset_counts()
    response = await system.bff.post(
        "/graphql", json={"query": "{ orders(first: 5) { edges { node { invoice { number } } } } }"}
    )
    request_id = response.headers["x-request-id"]
    assert FRESH_ID.fullmatch(request_id)
    assert system.ordering_link.calls and system.billing_link.calls
    assert ids_sent(system.ordering_link) == {request_id}
    assert ids_sent(system.billing_link) == {request_id}

    again = await system.bff.post(
        "/graphql", json={"query": "{ orders(first: 1) { edges { cursor } } }"}
    )
    assert again.headers["x-request-id"] != request_id


async def test_a_callers_id_is_kept_passed_on_and_echoed(system: System) -> None:
    headers = {"x-request-id": "checkout-7f3a:2"}
    response = await system.bff.post(
        "/graphql",
        json={"query": "mutation($i: OrderInput!) { createOrder(input: $i) { number } }",
              "variables": {"i": ORDER_INPUT}},
        headers=headers,
    )  # fmt: skip
    assert response.headers["x-request-id"] == "checkout-7f3a:2"
    assert ids_sent(system.ordering_link) == {"checkout-7f3a:2"}
    # The services echo what they were given.
    direct = await system.ordering.get("/orders", headers=headers)
    assert direct.headers["x-request-id"] == "checkout-7f3a:2"


@pytest.mark.parametrize("bad", [b"x" * 129, b"two words", b"semi;colon", "ü".encode(), b""])
async def test_an_unusable_id_is_replaced_not_refused(system: System, bad: bytes) -> None:
    response = await system.bff.post(
        "/graphql",
        json={"query": "{ orders(first: 1) { edges { cursor } } }"},
        headers={b"x-request-id": bad},
    )
    assert response.status_code == 200
    assert FRESH_ID.fullmatch(response.headers["x-request-id"])


async def test_answers_refused_at_the_edge_carry_an_id_too(system: System) -> None:
    no_token = httpx.AsyncClient(transport=system.ordering_link.inner, base_url="http://o.test")
    response = await no_token.get("/orders", headers={"x-request-id": "probe-1"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "probe-1"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """A buffer that the JSON handler an app installs (LOG_FORMAT=json) is pointed at with
    `capture`; the process's logging is restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    saved_uvicorn = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in UVICORN_LOGGERS
    }
    try:
        yield io.StringIO()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, (handlers, propagate) in saved_uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


def capture(buffer: io.StringIO) -> None:
    (ours,) = [h for h in logging.getLogger().handlers if type(h).__name__ == "_OurHandler"]
    assert isinstance(ours, logging.StreamHandler)
    ours.setStream(buffer)


async def test_billing_passes_the_id_on_and_logs_it_as_json(
    system: System, tmp_path: Path, json_logs: io.StringIO
) -> None:
    link = UpstreamLink(system.ordering_link.inner)
    settings = BillingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'billing-ids.db'}",
        service_token=TOKEN,
        pull_enabled=False,
        ordering_url="http://ordering.internal",
        log_format="json",
    )
    app = create_billing_app(settings, ordering_transport=link)
    capture(json_logs)
    async with (
        serving(app) as billing_asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=billing_asgi),
            base_url="http://billing.internal",
            headers={"authorization": f"Bearer {TOKEN}"},
        ) as billing,
    ):
        response = await billing.post("/sync/run", headers={"x-request-id": "pull-by-hand-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "pull-by-hand-1"
    assert ids_sent(link) == {"pull-by-hand-1"}

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    (pull,) = [line for line in lines if line["message"].startswith("pull ok")]
    assert pull["request_id"] == "pull-by-hand-1"
    assert pull["service"] == "billing"
    assert pull["level"] == "INFO" and pull["logger"] == "billing_api.sync"
    assert "time" in pull
    # Outside a request there is no id, and the line says so rather than inventing one.
    assert current_request_id.get() is None
    logging.getLogger("billing_api").warning("between requests")
    last = json.loads(json_logs.getvalue().splitlines()[-1])
    assert last["message"] == "between requests" and last["request_id"] is None
