"""The typed per-request GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from bff.authentication import principal_of
from bff.cache import UpstreamCache
from bff.clients import BillingClient, OrderingClient
from bff.loaders import Loaders, make_loaders
from bff.sessions import Principal
from bff.settings import BffSettings


@dataclass(frozen=True)
class Upstreams:
    """What the app's lifespan owns and hands to every request (as lifespan state)."""

    settings: BffSettings
    ordering: OrderingClient
    billing: BillingClient
    cache: UpstreamCache


@dataclass(frozen=True)
class Context:
    request: Request
    response: Response
    settings: BffSettings
    ordering: OrderingClient
    billing: BillingClient
    loaders: Loaders
    # The signed-in user (bff/authentication.py); None when nobody is. Root fields check it
    # (bff/permissions.py).
    user: Principal | None = None
    # Their name, which the clients above send with every write (bff/acting_user.py).
    acting_user: str | None = None


def build_context(upstreams: Upstreams, request: Request, response: Response) -> Context:
    principal = principal_of(request)
    user = principal.name if principal is not None else None
    return Context(
        request=request,
        response=response,
        settings=upstreams.settings,
        ordering=upstreams.ordering.acting_as(user),
        billing=upstreams.billing.acting_as(user),
        loaders=make_loaders(upstreams.ordering, upstreams.billing),
        acting_user=user,
        user=principal,
    )


Info = StrawberryInfo[Context, None]
