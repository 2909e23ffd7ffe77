"""Who is behind a request: the calling service and, when it names one, the user it acts for.

`ServiceAuthMiddleware` (service_http.auth) puts the `Actor` in the request's state after
checking the caller may name a user; handlers record `actor(request).who` in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

ACTING_USER_HEADER = "X-Acting-User"
ACTOR_STATE_KEY = "actor"
# The header's whole rule, published as its schema: 1-200 characters of visible ASCII (spaces
# inside), a name's other characters percent-encoded as UTF-8, no escape of a control character
# (%00-%1F, %7F); the decoded name is never longer than the header.
MAX_ACTING_USER = 200
_ESCAPE = "%(?:[2-6][0-9A-Fa-f]|7[0-9A-Ea-e]|[89A-Fa-f][0-9A-Fa-f])"
_VISIBLE = f"(?:[!-$&-~]|{_ESCAPE})"
_INSIDE = f"(?:[ !-$&-~]|{_ESCAPE})"
ACTING_USER_PATTERN = f"^{_VISIBLE}(?:{_INSIDE}*{_VISIBLE})?$"


@dataclass(frozen=True)
class Actor:
    caller: str
    user: str | None = None

    @property
    def who(self) -> str:
        """What the audit trail records: the person, or the calling service when it acted on
        its own account (`service:<name>`)."""
        return self.user if self.user is not None else f"service:{self.caller}"


def actor(request: Request) -> Actor:
    found = getattr(request.state, ACTOR_STATE_KEY, None)
    if not isinstance(found, Actor):
        # Only reachable for a public route, which never records anything.
        raise RuntimeError("no authenticated caller on this request")
    return found
