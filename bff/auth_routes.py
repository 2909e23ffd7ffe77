"""Sign-in and sign-out over HTTP: POST /auth/login, POST /auth/logout,
POST /auth/logout-everywhere, GET /auth/me (and bff/oidc.py's routes when BFF_AUTH=oidc).

Thin handlers: the rules live in bff/accounts.py, bff/sessions.py and bff/login_throttle.py.
Every answer is JSON and none is cached (`Cache-Control: no-store`). A wrong name, a wrong
password and a disabled account all get the same message and status, after the same work.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bff import json_body
from bff.authentication import Auth, auth_of, principal_of
from bff.rate_limit import client_key

logger = logging.getLogger("bff.auth")

WRONG_CREDENTIALS = "Wrong user name or password."
MAX_FIELD = 256


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status, headers={"cache-control": "no-store", **(headers or {})})


def _error(status: int, message: str, code: str, **headers: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message}}, headers)


def _auth(request: Request) -> Auth:
    auth = auth_of(request.scope)
    if auth is None:
        raise RuntimeError("the BFF's lifespan is not running (no sign-in state)")
    return auth


async def _read_json(request: Request) -> dict[str, Any] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error(415, "Send this request as application/json.", "UNSUPPORTED_MEDIA_TYPE")
    try:
        value = json_body.loads(await request.body())
    except json_body.BodyError as exc:
        return _error(400, str(exc), "BAD_REQUEST")
    if not isinstance(value, dict):
        return _error(400, "The body must be a JSON object.", "BAD_REQUEST")
    return value


async def login(request: Request) -> Response:
    auth = _auth(request)
    if auth.settings.auth != "local" or auth.accounts is None:
        return _error(
            404, "Sign-in with a password is not used here; use the sign-in page.", "NOT_FOUND"
        )
    body = await _read_json(request)
    if isinstance(body, Response):
        return body
    name, password = body.get("name"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        return _error(400, "Send your user name and password.", "BAD_REQUEST")
    if len(name) > MAX_FIELD or len(password) > MAX_FIELD:
        return _error(401, WRONG_CREDENTIALS, "UNAUTHENTICATED")
    account_key = name.strip().lower()
    proxies = frozenset(p.strip() for p in auth.settings.trusted_proxies.split(",") if p.strip())
    client = client_key(request.scope, proxies)
    wait = await auth.throttle.retry_after(account_key, client)
    if wait is not None:
        return _error(
            429,
            f"Too many failed sign-ins; try again in {wait} s.",
            "TOO_MANY_REQUESTS",
            **{"retry-after": str(wait)},
        )
    account = await auth.accounts.authenticate(name, password)
    if account is None:
        await auth.throttle.failed(account_key, client)
        logger.info("failed sign-in for %r from %s", account_key, client)
        return _error(401, WRONG_CREDENTIALS, "UNAUTHENTICATED")
    # A new id on every sign-in; the session the browser had before (if any) ends.
    previous = principal_of(request)
    if previous is not None:
        await auth.sessions.end(previous)
    session_id = await auth.sessions.create_for(account)
    logger.info("%s signed in from %s", account.name, client)
    response = _json(
        200,
        {
            "name": account.name,
            "displayName": account.display_name,
            "roles": sorted(r.value for r in account.roles),
            "signInMethod": "local",
        },
    )
    response.headers.append("set-cookie", auth.cookie_header(session_id))
    return response


async def logout(request: Request) -> Response:
    auth = _auth(request)
    principal = principal_of(request)
    body: dict[str, Any] = {"signedOut": principal is not None}
    if principal is not None:
        await auth.sessions.end(principal)
        if auth.oidc is not None and principal.source == "oidc":
            # The provider's session ends too: the browser is sent there next.
            body["then"] = await auth.oidc.end_session_url(principal)
    response = _json(200, body)
    response.headers.append("set-cookie", auth.clearing_cookie_header())
    return response


async def logout_everywhere(request: Request) -> Response:
    auth = _auth(request)
    principal = principal_of(request)
    if principal is None or principal.source == "none":
        return _error(401, "You are not signed in.", "UNAUTHENTICATED")
    await auth.sessions.end_all(principal.name)
    response = _json(200, {"signedOut": True, "everywhere": True})
    response.headers.append("set-cookie", auth.clearing_cookie_header())
    return response


async def me(request: Request) -> Response:
    auth = _auth(request)
    principal = principal_of(request)
    if principal is None:
        sign_in: dict[str, str] = {"method": auth.settings.auth, "url": "/sign-in"}
        if auth.settings.auth == "oidc":
            sign_in["url"] = "/auth/oidc/login"
        return _json(
            401,
            {"error": {"code": "UNAUTHENTICATED", "message": "Sign in first."}, "signIn": sign_in},
        )
    return _json(200, principal.public())


def auth_routes() -> list[BaseRoute]:
    return [
        Route("/auth/login", login, methods=["POST"]),
        Route("/auth/logout", logout, methods=["POST"]),
        Route("/auth/logout-everywhere", logout_everywhere, methods=["POST"]),
        Route("/auth/me", me, methods=["GET"]),
    ]
