"""`GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: it can serve).

Load balancers send traffic only to replicas whose /readyz answers 200, and restart those whose
/healthz stops answering; both are public (no bearer token), as health checkers carry none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service_http.errors import error_response
from service_http.openapi import Operation

# A check says what keeps the service from serving (a sentence), or None when all is well.
ReadinessCheck = Callable[[Request], Awaitable[str | None]]

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readyz_endpoint(checks: Sequence[ReadinessCheck]) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        for check in checks:
            problem = await check(request)
            if problem is not None:
                response = error_response(503, "unavailable", problem)
                response.headers["Retry-After"] = "5"
                return response
        return JSONResponse({"status": "ready"})

    return readyz


def health_routes(checks: Sequence[ReadinessCheck]) -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz_endpoint(checks), methods=["GET"]),
    ]


class Health(BaseModel):
    status: str


def health_operations() -> list[Operation]:
    """The two probes as OpenAPI operations, for each service's document."""
    return [
        Operation("GET", "/healthz", "Liveness", {200: ("Alive", Health)}, public=True),
        Operation(
            "GET",
            "/readyz",
            "Readiness: the database answers (billing: and the pull runs)",
            {200: ("Ready", Health), 503: ("Not ready; the message says why", None)},
            public=True,
        ),
    ]
