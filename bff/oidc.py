"""Sign-in through an OpenID Connect provider (`BFF_AUTH=oidc`): the BFF is a confidential
client using the authorization code flow with PKCE (Authlib), and tokens never reach the
browser.

    GET /auth/oidc/login?next=/orders/7  -> 303 to the provider's authorization endpoint
    GET /auth/oidc/callback?code&state   -> code exchanged (client secret + PKCE verifier),
                                            ID token checked (signature by the provider's
                                            JWKS, issuer, audience, expiry, nonce), session
                                            made, 303 to `next`

The pending sign-in (state, nonce, PKCE verifier, next) is kept server-side in the session
store for ten minutes under the `state`, and the browser that started it holds the state in a
short-lived cookie, so a callback is only accepted once, and only in that browser (no login
CSRF). The user's roles come from the ID token's `BFF_OIDC_ROLES_CLAIM` (a list, or a
space-separated string); unknown role names are ignored. Signing out ends the BFF session and
sends the browser to the provider's end-session endpoint with the ID token as hint.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bff.authentication import Auth, auth_of, session_cookie
from bff.browser_guard import request_origin
from bff.roles import Role
from bff.sessions import Principal
from bff.settings import BffSettings
from bff.sign_in import SIGN_IN_PATH, safe_next
from service_http.keepalive import client_limits

logger = logging.getLogger("bff.oidc")

PENDING_SECONDS = 600
STATE_COOKIE = "bff_oidc_state"
CALLBACK_PATH = "/auth/oidc/callback"


@dataclass
class OidcClient:
    settings: BffSettings
    http: httpx.AsyncClient
    metadata: dict[str, Any]
    keys: KeySet

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: BffSettings) -> AsyncIterator[OidcClient]:
        async with httpx.AsyncClient(
            timeout=10.0, limits=client_limits(max_connections=10, max_keepalive_connections=5)
        ) as http:
            issuer = settings.oidc_issuer.rstrip("/")
            discovery = await http.get(f"{issuer}/.well-known/openid-configuration")
            discovery.raise_for_status()
            metadata: dict[str, Any] = discovery.json()
            if metadata.get("issuer", "").rstrip("/") != issuer:
                raise RuntimeError(f"the OIDC provider says its issuer is {metadata.get('issuer')}")
            jwks = await http.get(metadata["jwks_uri"])
            jwks.raise_for_status()
            yield cls(settings, http, metadata, KeySet.import_key_set(jwks.json()))

    def oauth(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=self.settings.oidc_client_secret.get_secret_value(),
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            timeout=10.0,
        )

    def roles_of(self, claims: dict[str, Any]) -> frozenset[Role]:
        value = claims.get(self.settings.oidc_roles_claim, [])
        names = value.split() if isinstance(value, str) else value
        known = {role.value for role in Role}
        return frozenset(
            Role(name) for name in names if isinstance(name, str) and name.lower() in known
        )

    def check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        token = jwt.decode(id_token, self.keys)
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.metadata["issuer"]},
            aud={"essential": True, "value": self.settings.oidc_client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
            sub={"essential": True},
        )
        registry.validate(token.claims)
        return dict(token.claims)

    async def end_session_url(self, principal: Principal) -> str | None:
        endpoint = self.metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"client_id": self.settings.oidc_client_id}
        if principal.id_token:
            params["id_token_hint"] = principal.id_token
        if self.settings.public_url:
            params["post_logout_redirect_uri"] = self.settings.public_url + SIGN_IN_PATH
        return f"{endpoint}?{urlencode(params)}"


def _setup(request: Request) -> tuple[Auth, OidcClient]:
    auth = auth_of(request.scope)
    if auth is None or auth.oidc is None:
        raise RuntimeError("OIDC sign-in is not configured")
    return auth, auth.oidc


def _redirect_uri(request: Request, auth: Auth) -> str:
    return request_origin(request.scope, auth.settings.public_url) + CALLBACK_PATH


def _failure(message: str, status: int = 400) -> Response:
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign-in failed"
        f"</title></head><body><main><h1>Sign-in failed</h1><p>{message}</p>"
        f"<p><a href='{SIGN_IN_PATH}'>Try again</a></p></main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})


async def oidc_login(request: Request) -> Response:
    auth, oidc = _setup(request)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    redirect_uri = _redirect_uri(request, auth)
    async with oidc.oauth(redirect_uri) as client:
        url, _ = client.create_authorization_url(
            oidc.metadata["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
        )
    pending = {
        "nonce": nonce,
        "verifier": verifier,
        "next": safe_next(request.query_params.get("next")),
    }
    await auth.sessions.backend.set(f"bff-oidc-pending:{state}", pending, ttl=PENDING_SECONDS)
    response = RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=PENDING_SECONDS,
        path=CALLBACK_PATH,
        httponly=True,
        samesite="lax",
        secure=auth.settings.secure_cookies,
    )
    return response


async def oidc_callback(request: Request) -> Response:
    auth, oidc = _setup(request)
    state = request.query_params.get("state", "")
    if "error" in request.query_params:
        return _failure("The sign-in provider did not sign you in.", 401)
    if not state or session_cookie(request.scope, STATE_COOKIE) != state:
        return _failure("This sign-in was not started in this browser; start again.")
    key = f"bff-oidc-pending:{state}"
    pending: dict[str, Any] | None = await auth.sessions.backend.get(key)
    await auth.sessions.backend.delete(key)  # one use only
    code = request.query_params.get("code")
    if not isinstance(pending, dict) or not code:
        return _failure("This sign-in has expired or was already used; start again.")
    try:
        async with oidc.oauth(_redirect_uri(request, auth)) as client:
            token = await client.fetch_token(
                oidc.metadata["token_endpoint"],
                code=code,
                code_verifier=pending["verifier"],
                grant_type="authorization_code",
            )
        claims = oidc.check_id_token(token["id_token"], pending["nonce"])
    except (httpx.HTTPError, KeyError, JoseError, ValueError) as exc:
        logger.warning("OIDC sign-in failed: %s: %s", type(exc).__name__, exc)
        return _failure("The sign-in provider's answer could not be accepted.", 401)
    except AuthlibBaseError as exc:  # e.g. OAuthError: the provider refused the code
        logger.warning("OIDC sign-in refused: %s: %s", type(exc).__name__, exc)
        return _failure("The sign-in provider refused the sign-in.", 401)
    name = str(claims.get("preferred_username") or claims["sub"])
    display = str(claims.get("name") or name)
    session_id = await auth.sessions.create(
        name, display, oidc.roles_of(claims), "oidc", id_token=token["id_token"]
    )
    logger.info("%s signed in through OIDC", name)
    response = RedirectResponse(
        pending["next"], status_code=303, headers={"cache-control": "no-store"}
    )
    response.headers.append("set-cookie", auth.cookie_header(session_id))
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
    return response


def oidc_routes() -> list[BaseRoute]:
    return [
        Route("/auth/oidc/login", oidc_login, methods=["GET"]),
        Route(CALLBACK_PATH, oidc_callback, methods=["GET"]),
    ]
