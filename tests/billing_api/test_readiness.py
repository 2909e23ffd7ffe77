"""GET /readyz: billing is ready when its database answers and its background pull runs."""

from __future__ import annotations

from tests.billing_api.conftest import Billing, BillingFactory


async def test_ready_without_a_scheduled_pull(billing: Billing) -> None:
    response = await billing.browser.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_not_ready_while_the_scheduled_pull_is_not_running(billing: Billing) -> None:
    billing.syncer.scheduled = True  # as if BILLING_PULL_ENABLED, with the loop gone
    response = await billing.browser.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "unavailable",
        "message": "The background pull is not running.",
    }


async def test_ready_once_the_scheduled_pull_runs(make_billing: BillingFactory) -> None:
    async with make_billing(pull_enabled=True) as billing:
        assert billing.syncer.looping, "the loop runs before the app serves"
        assert (await billing.browser.get("/readyz")).status_code == 200
