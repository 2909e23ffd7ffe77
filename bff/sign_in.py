"""Where an anonymous browser is sent: the sign-in page, remembering where it was going."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

SIGN_IN_PATH = "/sign-in"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (no open redirect)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 for c in value)
    ):
        return "/"
    return value


def sign_in_url(next_path: str) -> str:
    return f"{SIGN_IN_PATH}?next=" + quote(safe_next(next_path), safe="/")


def redirect_to_sign_in(request: Request) -> Response:
    """An anonymous browser asking for a page that needs a session: sign in, then come back."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        sign_in_url(target), status_code=303, headers={"cache-control": "no-store"}
    )
