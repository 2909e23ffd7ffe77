"""billing's OpenAPI 3.1 document is valid and describes every route it serves."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from starlette.routing import Route

from billing_api.routes import routes
from tests.billing_api.conftest import Billing


async def test_openapi_document_is_valid_3_1_and_complete(billing: Billing) -> None:
    response = await billing.browser.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")

    served = {
        (
            method.lower(),
            re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path),
        )
        for route in routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    described = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert served == described
    link = document["paths"]["/link/new_order/{number}"]["get"]
    assert link["security"] == [], "the deep link is opened by a browser without a token"
    assert "text/html" in link["responses"]["404"]["content"]
    schemas = document["components"]["schemas"]
    assert {"InvoicePublic", "InvoicePage", "InvoiceBatch", "SyncStatusPublic"} <= set(schemas)
