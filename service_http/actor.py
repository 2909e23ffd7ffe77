"""Who is behind a request: the calling service and, when it names one, the user it acts for.

`ServiceAuthMiddleware` (service_http.auth) puts the `Actor` in the request's state after
checking the caller may name a user; handlers record `actor(request).who` in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

ACTING_USER_HEADER = "X-Acting-User"
ACTOR_STATE_KEY = "actor"
MAX_ACTING_USER = 200


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
