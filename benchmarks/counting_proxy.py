"""A pass-through HTTP proxy that counts the requests it forwards, per upstream.

The benchmark points a BFF at it (`BFF_ORDERING_URL=http://proxy/ordering`, ...) to count the
upstream calls one GraphQL request costs. It sits only in the counting passes, never in a timed
path, so its own latency does not enter a figure.

Run with `uvicorn --factory benchmarks.counting_proxy:create_app`; upstreams come from
`COUNTING_PROXY_UPSTREAMS="ordering=http://127.0.0.1:8001,billing=http://127.0.0.1:8002"`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Hop-by-hop or recomputed headers: httpx sets its own for the forwarded request.
_DROPPED_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}
)
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]


class CountingProxySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNTING_PROXY_", extra="ignore")

    # "name=url,name=url" (kept a string: pydantic-settings would read a dict as JSON).
    upstreams: str

    @field_validator("upstreams")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        if not all("=" in item for item in value.split(",")):
            raise ValueError("must be name=url pairs separated by commas")
        return value

    def upstream_urls(self) -> dict[str, str]:
        """The first path segment of a request picks the upstream by name."""
        pairs = (item.split("=", 1) for item in self.upstreams.split(","))
        return {name.strip(): url.strip().rstrip("/") for name, url in pairs}


def create_app(settings: CountingProxySettings | None = None) -> Starlette:
    settings = settings or CountingProxySettings()  # upstreams from the environment
    upstreams = settings.upstream_urls()
    counts: Counter[str] = Counter()
    clients: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for name, url in upstreams.items():
            clients[name] = httpx.AsyncClient(base_url=url, timeout=10.0)
        try:
            yield
        finally:
            for client in clients.values():
                await client.aclose()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def read_counts(request: Request) -> Response:
        return JSONResponse({name: counts[name] for name in upstreams})

    async def reset_counts(request: Request) -> Response:
        counts.clear()
        return JSONResponse({name: 0 for name in upstreams})

    async def forward(request: Request) -> Response:
        name = request.path_params["upstream"]
        client = clients.get(name)
        if client is None:
            return JSONResponse(
                {"error": {"code": "not_found", "message": f"No upstream named {name!r}."}},
                status_code=404,
            )
        counts[name] += 1
        headers = {k: v for k, v in request.headers.items() if k not in _DROPPED_HEADERS}
        upstream = await client.request(
            request.method,
            "/" + request.path_params["path"],
            params=request.url.query,
            headers=headers,
            content=await request.body(),
        )
        kept = {k: v for k, v in upstream.headers.items() if k in ("content-type", "location")}
        return Response(upstream.content, status_code=upstream.status_code, headers=kept)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/_proxy/counts", read_counts, methods=["GET"]),
            Route("/_proxy/counts/reset", reset_counts, methods=["POST"]),
            Route("/{upstream}/{path:path}", forward, methods=_METHODS),
        ],
        lifespan=lifespan,
    )
