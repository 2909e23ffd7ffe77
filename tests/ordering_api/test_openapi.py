"""/openapi.json is a valid OpenAPI 3.1 document describing every route."""

from __future__ import annotations

from openapi_spec_validator import validate
from starlette.routing import Route

from ordering_api.routes import routes
from tests.ordering_api.conftest import Ordering


async def test_openapi_is_valid_3_1_and_covers_every_route(ordering: Ordering) -> None:
    response = await ordering.client.get("/openapi.json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    described = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    for route in routes:
        assert isinstance(route, Route)
        path = route.path.replace(":int", "")
        for method in route.methods or ():
            if method != "HEAD":
                assert (method, path) in described, (method, path)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "200" in operation["responses"] or "201" in operation["responses"], path
            if method in ("post", "put") and path != "/orders/{number}/confirm":
                assert "requestBody" in operation, path
