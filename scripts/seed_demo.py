"""Waits for the three services, seeds demo orders when ordering has none, prints the URLs.

Used by `scripts/run` (scripts/runner) once it has started the services. It talks to ordering
(and, for one approved invoice, to billing) over their REST APIs with the BFF's credentials,
acting for the user "demo seed" (so the audit trail says where the demo data came from), like
any peer would, so the demo data goes through the same rules as real data. Safe to run again:
an ordering database that already has orders is left alone.

    python scripts/seed_demo.py [--timeout 60] [--no-seed] [--watch-pid PID]

Reads ORDERING_PORT, BILLING_PORT, BFF_PORT (defaults 8001, 8002, 8000) and the BFF's tokens
(BFF_ORDERING_TOKEN, BFF_BILLING_TOKEN; else SERVICE_TOKEN; else the development tokens).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from service_http.actor import ACTING_USER_HEADER
from service_http.settings import DEV_BFF_TO_BILLING, DEV_BFF_TO_ORDERING

SEED_USER = "demo seed"


@dataclass(frozen=True)
class SeedTokens:
    """The seed writes what a user would through the BFF, so it holds the BFF's tokens."""

    ordering: str
    billing: str

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> SeedTokens:
        shared = env.get("SERVICE_TOKEN")
        return cls(
            ordering=env.get("BFF_ORDERING_TOKEN") or shared or DEV_BFF_TO_ORDERING,
            billing=env.get("BFF_BILLING_TOKEN") or shared or DEV_BFF_TO_BILLING,
        )


@dataclass(frozen=True)
class Endpoints:
    ordering: str
    billing: str
    bff: str

    @classmethod
    def from_environment(cls) -> Endpoints:
        def base(name: str, default: int) -> str:
            return f"http://127.0.0.1:{int(os.environ.get(name, default))}"

        return cls(
            ordering=base("ORDERING_PORT", 8001),
            billing=base("BILLING_PORT", 8002),
            bff=base("BFF_PORT", 8000),
        )


@dataclass(frozen=True)
class DemoOrder:
    customer: tuple[str, str]
    currency: str
    lines: tuple[tuple[str, str, int, str], ...]
    # What happens after creation: "draft" (nothing), "confirmed", "approved" (confirmed and
    # its invoice approved in billing) or "deleted" (confirmed, then deleted: a void invoice).
    outcome: str


DEMO_ORDERS: tuple[DemoOrder, ...] = (
    DemoOrder(
        ("Ada Lovelace", "ada@analytical-engines.example"),
        "EUR",
        (
            ("BOLT-M10", "Hex bolt M10 x 40 mm, zinc plated", 200, "0.18"),
            ("NUT-M10", "Hex nut M10, zinc plated", 200, "0.06"),
            ("WASH-10", "Flat washer 10.5 mm", 400, "0.02"),
        ),
        "approved",
    ),
    DemoOrder(
        ("Grace Hopper", "grace@cobol-systems.example"),
        "USD",
        (
            ("LAPTOP-14", '14" laptop, 32 GB RAM', 2, "1249.00"),
            ("DOCK-USB-C", "USB-C docking station", 2, "189.90"),
        ),
        "confirmed",
    ),
    DemoOrder(
        ("Katherine Johnson", "kj@orbital-mechanics.example"),
        "EUR",
        (
            ("PAPER-A4", "Copy paper A4, 80 g/m², box of 5 reams", 12, "24.50"),
            ("TONER-K", "Toner cartridge, black", 3, "79.99"),
        ),
        "confirmed",
    ),
    DemoOrder(
        ("Alan Turing", "alan@bletchley.example"),
        "GBP",
        (("CHAIR-ERG", "Ergonomic office chair", 4, "329.00"),),
        "deleted",
    ),
    DemoOrder(
        ("Margaret Hamilton", "margaret@apollo-guidance.example"),
        "EUR",
        (
            ("CABLE-CAT6-5", "Patch cable Cat 6, 5 m", 25, "4.90"),
            ("SWITCH-24", "Managed switch, 24 ports", 1, "449.00"),
            ("RACK-SHELF", "Rack shelf 1U", 2, "39.00"),
        ),
        "confirmed",
    ),
    # Currencies with other ISO 4217 digits than 2: yen have none, Kuwaiti dinars three.
    DemoOrder(
        ("Yoko Sato", "yoko@kyoto-ceramics.example"),
        "JPY",
        (
            ("TEA-BOWL", "Raku tea bowl, hand thrown", 3, "12500"),
            ("WHISK", "Bamboo tea whisk, 100 tines", 3, "1980"),
        ),
        "confirmed",
    ),
    DemoOrder(
        ("Khalid Al-Sabah", "khalid@gulf-trading.example"),
        "KWD",
        (("DATES-1KG", "Medjool dates, 1 kg", 10, "4.750"),),
        "draft",
    ),
    DemoOrder(
        ("Edsger Dijkstra", "edsger@shortest-path.example"),
        "EUR",
        (
            ("PEN-FOUNT", "Fountain pen, fine nib", 1, "89.00"),
            ("INK-BLUE", "Ink bottle, royal blue, 50 ml", 3, "12.40"),
        ),
        "draft",
    ),
    DemoOrder(
        ("Barbara Liskov", "barbara@substitution.example"),
        "CHF",
        (
            ("DESK-160", "Height-adjustable desk, 160 x 80 cm", 2, "689.00"),
            ("LAMP-LED", "LED desk lamp", 2, "74.50"),
        ),
        "draft",
    ),
    DemoOrder(
        ("Linus Torvalds", "linus@kernel-works.example"),
        "EUR",
        (),
        "draft",
    ),
)


def process_running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc to ask: assume it runs, the timeout still bounds the wait
    return stat[stat.rindex(")") + 2] != "Z"


def wait_until_healthy(urls: list[str], timeout: float, watch_pid: int | None = None) -> None:
    """Poll every `/healthz` until all answer 200; fail with the ones still down, or at once
    when the process running the services (`watch_pid`) has ended."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    with httpx.Client(timeout=2.0) as client:
        while pending:
            if watch_pid is not None and not process_running(watch_pid):
                raise RuntimeError("the services stopped before they were all healthy")
            still: list[str] = []
            for url in pending:
                try:
                    healthy = client.get(f"{url}/healthz").status_code == 200
                except httpx.HTTPError:
                    healthy = False
                if not healthy:
                    still.append(url)
            pending = still
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not healthy after {timeout:.0f} s: {', '.join(pending)}")
            if pending:
                time.sleep(0.2)


def ordering_has_orders(ordering: httpx.Client) -> bool:
    for status in (None, "deleted"):
        params: dict[str, Any] = {"limit": 1}
        if status:
            params["status"] = status
        response = ordering.get("/orders", params=params)
        response.raise_for_status()
        if response.json()["orders"]:
            return True
    return False


def create_demo_order(ordering: httpx.Client, demo: DemoOrder) -> int:
    payload = {
        "customer": {"name": demo.customer[0], "email": demo.customer[1]},
        "currency": demo.currency,
        "lines": [
            {"sku": sku, "description": description, "quantity": quantity, "unit_price": price}
            for sku, description, quantity, price in demo.lines
        ],
    }
    response = ordering.post("/orders", json=payload)
    response.raise_for_status()
    number = int(response.json()["number"])
    if demo.outcome in ("confirmed", "approved", "deleted"):
        ordering.post(f"/orders/{number}/confirm").raise_for_status()
    if demo.outcome == "deleted":
        ordering.delete(f"/orders/{number}").raise_for_status()
    return number


def approve_invoices(billing: httpx.Client, order_numbers: list[int]) -> int:
    """Approve the invoices of these orders, pulling first so billing has them."""
    if not order_numbers:
        return 0
    billing.post("/sync/run").raise_for_status()
    response = billing.get("/invoices", params=[("order_number", n) for n in order_numbers])
    response.raise_for_status()
    approved = 0
    for invoice in response.json()["invoices"]:
        billing.post(f"/invoices/{invoice['number']}/approve").raise_for_status()
        approved += 1
    return approved


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", ACTING_USER_HEADER: quote(SEED_USER, safe="")}


def seed(endpoints: Endpoints, tokens: SeedTokens) -> str:
    headers = _headers(tokens.ordering)
    with httpx.Client(base_url=endpoints.ordering, headers=headers, timeout=10.0) as ordering:
        if ordering_has_orders(ordering):
            return "ordering already has orders: demo data not added"
        numbers = {create_demo_order(ordering, demo): demo for demo in DEMO_ORDERS}
    to_approve = [n for n, demo in numbers.items() if demo.outcome == "approved"]
    note = f"added {len(numbers)} demo orders"
    try:
        with httpx.Client(
            base_url=endpoints.billing, headers=_headers(tokens.billing), timeout=15.0
        ) as billing:
            approved = approve_invoices(billing, to_approve)
        note += f", approved {approved} invoice(s)"
    except httpx.HTTPError as error:
        # The orders are in; billing picks them up on its next pull. Only the demo approval
        # is missing, which is not worth failing the start for.
        note += f" (could not approve demo invoices in billing: {error})"
    return note


def banner(endpoints: Endpoints, extra: Sequence[tuple[str, str]] = ()) -> str:
    rows = [
        ("Web app", f"{endpoints.bff}/"),
        ("GraphiQL", f"{endpoints.bff}/graphql"),
        ("Ordering OpenAPI", f"{endpoints.ordering}/openapi.json"),
        ("Billing OpenAPI", f"{endpoints.billing}/openapi.json"),
        *extra,
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {url}" for label, url in rows]
    rule = "=" * 64
    return "\n".join(
        [rule, "  Order to invoice is running.", *lines, "  Press Ctrl-C to stop.", rule]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    parser.add_argument("--no-seed", action="store_true", help="only wait and print the URLs")
    parser.add_argument("--watch-pid", type=int, help="give up when this process ends")
    args = parser.parse_args(argv)
    endpoints = Endpoints.from_environment()
    tokens = SeedTokens.from_environment(os.environ)
    try:
        wait_until_healthy(
            [endpoints.ordering, endpoints.billing, endpoints.bff], args.timeout, args.watch_pid
        )
    except (TimeoutError, RuntimeError) as error:
        print(f"seed: {error}; see the service logs above", file=sys.stderr)
        return 1
    if not args.no_seed:
        try:
            print(f"seed: {seed(endpoints, tokens)}", flush=True)
        except httpx.HTTPError as error:
            print(f"seed: could not add demo data: {error}", file=sys.stderr)
    print(banner(endpoints), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # Ctrl-C while waiting: scripts/run stops the services; no traceback for a person.
        sys.exit(130)
