"""The deep link as the browser sees it: `GET /link/new_order/{n}` on the BFF.

Billing's own `/link/new_order/{n}` does the work (pull now, or fetch that one order) but has
no sessions, so the browser is sent here instead: the BFF requires a session (an anonymous
browser goes to sign in and comes back), asks billing with its service credential, and
redirects to the web app's invoice screen. Billing's HTML "not found" / "unavailable" pages
are passed on as they are. `confirmOrder.invoiceLink` points here.
"""

from __future__ import annotations

import logging
import re

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bff.authentication import principal_of
from bff.context import Upstreams
from bff.graphql_http import STATE_KEY
from bff.roles import Role
from bff.sign_in import redirect_to_sign_in

logger = logging.getLogger("bff.deeplink")

NO_STORE = {"cache-control": "no-store"}
_INVOICE_PATH = re.compile(r"/invoices/(\d+)$")
_UNAVAILABLE_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Invoice unavailable</title></head><body><main>"
    "<h1>The invoice cannot be shown right now</h1>"
    "<p>Billing could not be reached. Try the link again in a moment, or "
    "<a href='/invoices'>see the invoices</a>.</p></main></body></html>"
)
_FORBIDDEN_PAGE = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Not allowed</title></head><body><main><h1>You cannot see invoices</h1>"
    "<p>You need the viewer role to see invoices; ask an administrator for it.</p>"
    "<p><a href='/'>Back to the start</a></p></main></body></html>"
)


def link_path(order_number: int) -> str:
    return f"/link/new_order/{order_number}"


async def new_order_link(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:
        return redirect_to_sign_in(request)
    if not principal.holds(Role.VIEWER):
        return HTMLResponse(_FORBIDDEN_PAGE, status_code=403, headers=NO_STORE)
    upstreams: Upstreams = getattr(request.state, STATE_KEY)
    raw = request.path_params["number"]
    try:
        answer = await upstreams.billing.http.get(f"/link/new_order/{raw}", follow_redirects=False)
    except httpx.HTTPError as exc:
        logger.warning("deep link for order %s: billing unreachable: %s", raw, exc)
        return HTMLResponse(_UNAVAILABLE_PAGE, status_code=503, headers=NO_STORE)
    if answer.status_code in (301, 302, 303, 307, 308):
        match = _INVOICE_PATH.search(httpx.URL(answer.headers.get("location", "")).path)
        if match:
            return RedirectResponse(f"/invoices/{match[1]}", status_code=303, headers=NO_STORE)
    if answer.status_code in (404, 503) and "text/html" in answer.headers.get("content-type", ""):
        return HTMLResponse(answer.text, status_code=answer.status_code, headers=NO_STORE)
    logger.warning("deep link for order %s: billing answered %d", raw, answer.status_code)
    return HTMLResponse(_UNAVAILABLE_PAGE, status_code=503, headers=NO_STORE)


def deeplink_routes() -> list[Route]:
    return [Route("/link/new_order/{number:path}", new_order_link, methods=["GET", "HEAD"])]
