"""The Starlette app both REST services are: their routes and OpenAPI document behind the same
edge (host allow-list, body limit, caller credentials and route scopes) with the same error map.

Only what differs is passed in: the routes, the document, the domain errors and their statuses,
the lifespan, and the scope each route requires (public ones: billing's deep link). Outermost,
the request id and the request metrics (service_http.observability); `/metrics` needs the
`metrics:read` scope (Prometheus sends its credential as a bearer token, docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import Lifespan

from service_http.auth import ServiceAuthMiddleware
from service_http.credentials import COMMON_ROUTE_SCOPES, RouteScopes
from service_http.errors import domain_error_handlers, exception_handlers
from service_http.hosts import host_allow_list
from service_http.limits import RequestBodyLimit
from service_http.observability import Observability
from service_http.openapi import openapi_endpoint
from service_http.settings import ServiceSettings


def service_app(
    settings: ServiceSettings,
    routes: Sequence[BaseRoute],
    openapi: dict[str, Any],
    domain_errors: Mapping[type[Exception], int],
    lifespan: Lifespan[Any],
    route_scopes: RouteScopes,
    observability: Observability,
) -> Starlette:
    """`route_scopes` names the scope each of `routes` requires (service_http.credentials);
    a route missing from it is refused to every caller."""
    all_routes = [
        *routes,
        Route("/openapi.json", openapi_endpoint(openapi)),
        observability.metrics_route(),
    ]
    app = Starlette(
        routes=all_routes,
        middleware=[
            *observability.middleware(all_routes),
            host_allow_list(settings.allowed_hosts),
            Middleware(RequestBodyLimit),
            Middleware(
                ServiceAuthMiddleware,
                credentials=settings.accepted_credentials(),
                routes=all_routes,
                route_scopes={**COMMON_ROUTE_SCOPES, **route_scopes},
            ),
        ],
        exception_handlers={
            **exception_handlers,
            **domain_error_handlers(domain_errors),
        },
        lifespan=lifespan,
    )
    observability.instrument(app)
    return app
