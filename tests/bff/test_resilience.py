"""Fan-out and overload: deduplicated reads, a bulkhead and a circuit breaker per upstream."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bff.resilience import BreakerPolicy, BreakerState, CircuitBreaker, CircuitOpen
from tests.bff.conftest import System, SystemFactory, confirmed_orders_with_invoices
from tests.bff.transports import Fault


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **policy: Any) -> CircuitBreaker:
    values: dict[str, Any] = {"window": 10, "min_calls": 6, "failure_ratio": 0.5}
    values.update(policy)
    return CircuitBreaker(BreakerPolicy(open_seconds=5.0, **values), clock=clock)


def run(b: CircuitBreaker, outcomes: str) -> None:
    """Admit and record one call per character: F failed, S succeeded."""
    for outcome in outcomes:
        b.before_call()
        b.after_call(failed=outcome == "F")


def test_breaker_stays_closed_below_the_minimum_number_of_calls() -> None:
    b = breaker(Clock())
    run(b, "FFFFF")
    assert b.state is BreakerState.CLOSED


def test_breaker_opens_on_a_brownout_without_consecutive_failures() -> None:
    # Every other call failing never makes a run of failures, yet it is half of all calls.
    b = breaker(Clock())
    run(b, "SFSFS")
    assert b.state is BreakerState.CLOSED
    run(b, "F")
    assert b.state is BreakerState.OPEN


def test_breaker_does_not_open_on_a_few_failures_among_many_successes() -> None:
    b = breaker(Clock())
    run(b, "SSSSFSSSFSSSSFSSSS")
    assert b.state is BreakerState.CLOSED


def test_open_breaker_fails_fast_then_lets_one_probe_through() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, "FFFFFF")
    with pytest.raises(CircuitOpen) as refused:
        b.before_call()
    assert refused.value.retry_after == pytest.approx(5.0)

    clock.now += 5.0
    b.before_call()  # the probe
    assert b.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpen):
        b.before_call()  # only one probe at a time

    b.after_call(failed=False)
    assert b.state is BreakerState.CLOSED
    run(b, "FFFFF")  # a fresh window: five failures are below the minimum again
    assert b.state is BreakerState.CLOSED


def test_a_failed_probe_opens_the_breaker_again() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, "FFFFFF")
    clock.now += 5.0
    b.before_call()
    b.after_call(failed=True)
    assert b.state is BreakerState.OPEN
    assert b.opened == 2
    with pytest.raises(CircuitOpen):
        b.before_call()


def test_a_cancelled_probe_frees_the_probe_slot() -> None:
    clock = Clock()
    b = breaker(clock)
    run(b, "FFFFFF")
    clock.now += 5.0
    b.before_call()
    b.cancelled()
    b.before_call()  # another probe may go
    assert b.state is BreakerState.HALF_OPEN


async def test_identical_reads_within_a_request_are_made_once(make_system: SystemFactory) -> None:
    system: System = await make_system(cache_ttl=0)
    numbers = await confirmed_orders_with_invoices(system, 3)
    invoices = await system.ok("{ invoices { edges { node { number } } } }")
    invoice_numbers = [e["node"]["number"] for e in invoices["invoices"]["edges"]]
    system.reset_counts()
    await system.billing.post("/sync/run")  # nothing to do with the BFF's calls
    system.reset_counts()
    aliases = " ".join(f"s{i}: syncStatus {{ token }}" for i in range(15))
    lookups = " ".join(
        f"i{i}: invoiceByNumber(number: {invoice_numbers[i % 3]}) {{ orderNumber }}"
        for i in range(15)
    )

    data = await system.ok(f"{{ {aliases} {lookups} }}")

    assert {data[f"s{i}"]["token"] for i in range(15)} == {data["s0"]["token"]}
    assert sorted({data[f"i{i}"]["orderNumber"] for i in range(15)}) == sorted(numbers)
    # One sync status read and one batch read by invoice number, for 30 fields.
    assert sorted(system.billing_link.paths()) == ["GET /invoices", "GET /sync/status"]
    batch = next(r for r in system.billing_link.calls if r.url.path == "/invoices")
    assert sorted(int(n) for n in batch.url.params.get_list("number")) == sorted(invoice_numbers)


async def test_billing_answers_a_batch_by_invoice_number(system: System) -> None:
    await confirmed_orders_with_invoices(system, 2)
    page = (await system.billing.get("/invoices")).json()["invoices"]
    wanted = [page[0]["number"], 999_999, page[1]["number"]]

    response = await system.billing.get("/invoices", params={"number": wanted})

    assert response.status_code == 200
    assert [i["number"] for i in response.json()["invoices"]] == [wanted[0], wanted[2]]
    for bad in ("0", "x", ""):
        assert (await system.billing.get("/invoices", params={"number": bad})).status_code == 400
    both = {"number": 1, "order_number": 1}
    assert (await system.billing.get("/invoices", params=both)).status_code == 400
    too_many = {"number": list(range(1, 102))}
    assert (await system.billing.get("/invoices", params=too_many)).status_code == 400


async def test_the_bulkhead_caps_calls_in_flight_and_queued_ones_time_out(
    make_system: SystemFactory,
) -> None:
    # A queued call waits for a slot at most the pool timeout, shorter than the hung calls
    # hold theirs: it never gets one, whatever the scheduling.
    system: System = await make_system(
        upstream_concurrency=2,
        upstream_timeout=1.0,
        upstream_pool_timeout=0.3,
        breaker_min_calls=100,
        cache_ttl=0,
    )
    system.billing_link.fault = Fault.HANG
    # Five different reads (identical ones would share one call).
    queries = [f"{{ invoiceByNumber(number: {n}) {{ number }} }}" for n in range(1, 6)]

    bodies = await asyncio.gather(*(system.gql(q) for q in queries))

    assert len(system.billing_link.calls) == 2  # the other three never left the BFF
    messages = sorted(b["errors"][0]["message"] for b in bodies)
    assert messages.count("The billing service did not answer within 1 s.") == 2
    too_busy = (
        "The BFF is too busy to reach the billing service right now (too many calls in flight)."
    )
    assert messages.count(too_busy) == 3
    assert all(b["data"] == {"invoiceByNumber": None} for b in bodies)
    # The slots are free again: a healthy billing is reached at once.
    system.billing_link.fault = Fault.NONE
    assert (await system.ok("{ syncStatus { token } }"))["syncStatus"]["token"] == 0


async def test_identical_reads_in_flight_share_one_call_across_requests(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(upstream_timeout=0.5)
    system.billing_link.fault = Fault.HANG

    bodies = await asyncio.gather(*(system.gql("{ syncStatus { token } }") for _ in range(5)))

    assert len(system.billing_link.calls) == 1
    assert all(b["data"] == {"syncStatus": None} for b in bodies)
    assert {b["errors"][0]["message"] for b in bodies} == {
        "The billing service did not answer within 0.5 s."
    }


async def test_an_open_breaker_fails_fast_and_a_probe_closes_it(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(
        breaker_min_calls=3, breaker_window=5, breaker_open_seconds=0.3
    )
    system.billing_link.fault = Fault.DOWN
    for _ in range(3):
        await system.gql("{ syncStatus { token } }")
    assert len(system.billing_link.calls) == 3

    body = await system.gql("{ syncStatus { token } }")

    [error] = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "upstream": "billing"}
    assert error["message"].startswith("The billing service is failing; it is not called")
    assert len(system.billing_link.calls) == 3  # failed fast, without a call

    system.billing_link.fault = Fault.NONE
    await asyncio.sleep(0.35)  # the breaker's own timer: the condition under test
    assert "errors" not in await system.gql("{ syncStatus { token } }")  # the probe
    assert len(system.billing_link.calls) == 4
    assert "errors" not in await system.gql("{ syncStatus { token } }")  # closed again


async def test_brownout_keeps_ordering_data_and_sheds_calls_to_billing(
    make_system: SystemFactory,
) -> None:
    """Half of billing's calls time out. Orders keep coming, the breaker opens, and billing
    sees only the occasional probe while it is open."""
    # A timeout well above what this busy, single event loop (BFF and both services in
    # process) needs for a healthy call, so only the injected delays time out.
    timeout, open_seconds, duration = 1.0, 1.0, 5.0
    system: System = await make_system(
        cache_ttl=0,
        upstream_timeout=timeout,
        breaker_window=10,
        breaker_min_calls=6,
        breaker_open_seconds=open_seconds,
    )
    await confirmed_orders_with_invoices(system, 3)
    system.reset_counts()
    system.billing_link.fault = Fault.BROWNOUT
    # A billing read that differs per request: identical ones in flight would share a call.
    query = (
        "{ orders(first: 3) { edges { node { number } } } invoiceByNumber(number: %d) { number } }"
    )
    sequence = iter(range(1, 10**9))
    latencies: list[float] = []
    fast_failures = 0
    missing_orders = 0
    started = time.monotonic()

    async def client() -> None:
        nonlocal fast_failures, missing_orders
        while time.monotonic() - started < duration:
            sent = time.monotonic()
            body = await system.gql(query % next(sequence))
            latencies.append(time.monotonic() - sent)
            if body["data"]["orders"] is None or len(body["data"]["orders"]["edges"]) != 3:
                missing_orders += 1
            fast_failures += sum("is failing" in e["message"] for e in body.get("errors", []))

    await asyncio.gather(*(client() for _ in range(6)))

    requests = len(latencies)
    latencies.sort()
    p99 = latencies[min(requests - 1, int(requests * 0.99))]
    billing_calls = len(system.billing_link.times)
    rate = billing_calls / duration
    print(
        f"\nbrownout: {requests} requests in {duration:g} s, p99 {p99 * 1000:.0f} ms, "
        f"billing calls {billing_calls} ({rate:.1f}/s) against {requests / duration:.0f}"
        f" requests/s; {fast_failures} answered by the open breaker"
    )
    assert missing_orders == 0  # ordering's data is never lost to billing's trouble
    assert fast_failures > 0  # the breaker opened
    # Without the breaker every request calls billing once; while it is open only a probe
    # per `open_seconds` does. The closed spells (to learn of the failure) cost the rest.
    assert billing_calls < 0.5 * requests
    # Latency is reported, not asserted (one busy loop runs all three apps here); see
    # benchmarks/bff_brownout.py for the figures against a run without the breaker.
