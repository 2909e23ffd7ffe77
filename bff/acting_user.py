"""The signed-in person the BFF acts for, handed to the services as `X-Acting-User`.

The interface between sign-in and the upstream clients: `build_context` takes the signed-in
user's name (bff/authentication.py's principal) into `Context.acting_user` and gives the request
clients that send it with every write. The services record it in their
audit trail, and accept it only because the BFF's credential has the `act-as-user` scope.
"""

from __future__ import annotations

from urllib.parse import quote

from service_http.actor import ACTING_USER_HEADER


def acting_user_header(user: str) -> tuple[str, str]:
    """The header naming `user`: percent-encoded UTF-8, so any name fits an HTTP header."""
    return ACTING_USER_HEADER, quote(user, safe="")
