"""GraphQL over HTTP (methods, media types, status codes), /healthz, and the web front end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bff.settings import BffSettings
from tests.bff.conftest import CREATE, ORDER_INPUT, System, SystemFactory, create_order

QUERY = "{ orders(first: 1) { edges { node { number } } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_healthz(system: System) -> None:
    response = await system.bff.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_get_runs_queries(system: System) -> None:
    number = await create_order(system)
    response = await system.bff.get(
        "/graphql",
        params={
            "query": "query($n: Int!) { order(number: $n) { number } }",
            "variables": json.dumps({"n": number}),
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"order": {"number": number}}}


async def test_get_refuses_mutations_with_405(system: System) -> None:
    response = await system.bff.get(
        "/graphql", params={"query": CREATE, "variables": json.dumps({"input": ORDER_INPUT})}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "Mutations must be sent with POST."
    assert system.ordering_link.calls == []


async def test_other_methods_are_405(system: System) -> None:
    response = await system.bff.put("/graphql", json={"query": QUERY})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        ("{ __typename }", "text/plain", 415),
        ("query=%7B__typename%7D", "application/x-www-form-urlencoded", 415),
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"a string"', "application/json", 400),
        ("{}", "application/json", 400),
        ('{"query": 5}', "application/json", 400),
        ('{"query": "{ __typename }", "variables": [1]}', "application/json", 400),
    ],
)
async def test_malformed_requests_get_4xx_with_a_json_error(
    system: System, content: str, content_type: str, status: int
) -> None:
    response = await system.bff.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == status
    assert response.json()["errors"][0]["message"]


async def test_graphql_response_json_when_preferred(system: System) -> None:
    headers = {"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}

    ok = await system.bff.post("/graphql", json={"query": QUERY}, headers=headers)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == GRAPHQL_RESPONSE
    assert ok.json() == {"data": {"orders": {"edges": []}}}

    # A request error (here: validation) is 400 with no `data` entry under this media type...
    invalid = await system.bff.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    syntax = await system.bff.post("/graphql", json={"query": "{ order("}, headers=headers)
    assert syntax.status_code == 400

    # ...while a field error during execution is still a 200 with partial data.
    field_error = await system.bff.post(
        "/graphql", json={"query": "{ orders(first: 500) { edges { cursor } } }"}, headers=headers
    )
    assert field_error.status_code == 200
    assert field_error.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_legacy_json_keeps_200_for_request_errors(system: System) -> None:
    response = await system.bff.post(
        "/graphql", json={"query": "{ nope }"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "data" not in response.json()


async def test_unacceptable_accept_is_406(system: System) -> None:
    response = await system.bff.post(
        "/graphql", json={"query": QUERY}, headers={"accept": "text/csv"}
    )
    assert response.status_code == 406


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    web = tmp_path / "site"
    (web / "screens").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>Orders</title><div id=app></div>")
    (web / "app.js").write_text("export const app = 1;\n")
    (web / "screens" / "orders.js").write_text("export const orders = 1;\n")
    return web


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/orders",
        "/orders?status=draft",
        "/orders/new",
        "/orders/12",
        "/orders/12/edit",
        "/invoices",
        "/invoices?status=approved",
        "/invoices/3",
        "/sync",
    ],
)
async def test_history_routes_serve_the_app_shell(
    make_system: SystemFactory, web_dir: Path, path: str
) -> None:
    system: System = await make_system(web_dir=web_dir)
    response = await system.bff.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (web_dir / "index.html").read_text()


async def test_static_files_are_served(make_system: SystemFactory, web_dir: Path) -> None:
    system: System = await make_system(web_dir=web_dir)

    script = await system.bff.get("/static/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.text == "export const app = 1;\n"
    assert (await system.bff.get("/static/screens/orders.js")).status_code == 200

    assert (await system.bff.get("/static/missing.js")).status_code == 404
    assert (await system.bff.get("/static/../conftest.py")).status_code == 404
    assert (await system.bff.get("/not-a-screen")).status_code == 404


async def test_missing_web_dir_is_a_404_not_a_crash(
    make_system: SystemFactory, tmp_path: Path
) -> None:
    system: System = await make_system(web_dir=tmp_path / "nothing-here")
    assert (await system.bff.get("/orders")).status_code == 404
    assert (await system.bff.get("/static/app.js")).status_code == 404
    assert (await system.bff.get("/healthz")).status_code == 200


def test_default_web_dir_is_the_repositorys_web_app() -> None:
    web_dir = BffSettings().web_dir
    assert web_dir == Path(__file__).resolve().parents[2] / "web"
    assert (web_dir / "index.html").is_file()


async def test_several_operations_need_an_operation_name(system: System) -> None:
    document = "query A { syncStatus { token } } query B { orders(first: 1) { edges { cursor } } }"
    unnamed = await system.bff.post("/graphql", json={"query": document})
    assert unnamed.status_code == 200
    body = unnamed.json()
    assert "data" not in body or body["data"] is None
    assert "operationName" in body["errors"][0]["message"]
    named = await system.bff.post("/graphql", json={"query": document, "operationName": "B"})
    assert set(named.json()["data"]) == {"orders"}
