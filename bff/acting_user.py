"""The signed-in person the BFF acts for, handed to the services as `X-Acting-User`.

The interface between sign-in and the upstream clients: whatever authenticates the browser
(the session middleware) stores the user's name in the request's state under `ACTING_USER_KEY`
(`scope["state"]["acting_user"] = name`); `build_context` reads it into `Context.acting_user`
and gives the request clients that send it with every write. The services record it in their
audit trail, and accept it only because the BFF's credential has the `act-as-user` scope.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request

from service_http.actor import ACTING_USER_HEADER

ACTING_USER_KEY = "acting_user"


def acting_user_of(request: Request) -> str | None:
    user = request.scope.get("state", {}).get(ACTING_USER_KEY)
    return user if isinstance(user, str) and user else None


def acting_user_header(user: str) -> tuple[str, str]:
    """The header naming `user`: percent-encoded UTF-8, so any name fits an HTTP header."""
    return ACTING_USER_HEADER, quote(user, safe="")
