"""The web front end as the BFF serves it: the app shell, its assets, and the 404 page.

First load is made cheap in three ways, all decided once at start-up from the files on disk:
- Fingerprinted assets: the web app's files are served under a versioned path,
  /static/<digest>/…, where the digest is a hash of every file of the app. The shell
  (index.html, never cached) names that path, and the modules' own relative imports resolve
  under it too, so every asset can be cached for a year ("immutable"); a deployment that
  changes any file changes the path. /static/… without a digest still works, revalidated.
- `modulepreload` links for the whole module graph, written into the shell's <head>, so the
  browser fetches every module at once instead of discovering them level by level.
- gzip for text assets and the shell (Starlette's GZipMiddleware; brotli would save a few
  more per cent of ~60 KB and needs a compiled extension, not worth it here).
Vendored third-party assets (web/vendor/<package>@<version>/, see bff/graphiql.py) carry
their version in the path and are cached for a year as well.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from bff.authentication import principal_of
from bff.sign_in import SIGN_IN_PATH, redirect_to_sign_in

logger = logging.getLogger("bff.web")

# The web app's history-API routes (docs/contracts.md), as precise as the app's own router
# (web/app.js), so an address no screen has gets the 404 page with a 404 status.
SPA_PATHS = (
    "/",
    "/orders",
    "/orders/new",
    "/orders/{number:int}",
    "/orders/{number:int}/edit",
    "/invoices",
    "/invoices/{number:int}",
    "/operations",
    "/sync",  # the operations screen's old address; the app redirects it
)
ENTRY_MODULE = "app.js"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
GZIP_MIN_BYTES = 500
_IMPORT = re.compile(
    r"""(?:^|[;\s])(?:import|export)\s*(?:[\w*{}\s,$]*?\sfrom\s*)?["'](\.{1,2}/[^"']+)["']""",
    re.MULTILINE,
)


def module_graph(web_dir: Path, entry: str = ENTRY_MODULE) -> list[str]:
    """Every module reachable from `entry` by static relative imports, as paths under web_dir,
    in discovery order (entry first)."""
    root = web_dir.resolve()
    seen: list[str] = []
    pending = [entry]
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        path = (root / name).resolve()
        if not path.is_file() or root not in path.parents:
            continue
        seen.append(name)
        base = path.parent
        for specifier in _IMPORT.findall(path.read_text(encoding="utf-8")):
            target = (base / specifier).resolve()
            if root in target.parents:
                pending.append(target.relative_to(root).as_posix())
    return seen


def content_digest(web_dir: Path) -> str:
    """A hash of every file of the app (vendor/ aside: its paths carry their versions)."""
    digest = hashlib.sha256()
    for path in sorted(web_dir.rglob("*")):
        relative = path.relative_to(web_dir)
        if not path.is_file() or relative.parts[0] == "vendor":
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Shell:
    """index.html as served: asset URLs versioned, modulepreload links added."""

    html: str
    asset_prefix: str

    @classmethod
    def build(cls, web_dir: Path) -> Shell:
        digest = content_digest(web_dir)
        prefix = f"/static/{digest}/"
        html = (web_dir / "index.html").read_text(encoding="utf-8")
        html = html.replace('"/static/', f'"{prefix}')
        preloads = "".join(
            f'  <link rel="modulepreload" href="{prefix}{module}">\n'
            for module in module_graph(web_dir)[1:]
        )
        if preloads and "</head>" in html:
            html = html.replace("</head>", preloads + "</head>", 1)
        return cls(html, prefix)

    def response(self, status_code: int = 200) -> Response:
        # The shell is always revalidated, so a new deployment's assets are picked up.
        return Response(
            self.html,
            status_code=status_code,
            media_type="text/html",
            headers={"cache-control": REVALIDATE},
        )


class CachedStaticFiles(StaticFiles):
    """StaticFiles with one Cache-Control for everything it serves."""

    def __init__(self, *, directory: Path, cache_control: str) -> None:
        super().__init__(directory=directory)
        self.cache_control = cache_control

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["cache-control"] = self.cache_control
        return response


def _gzip(app: StaticFiles) -> GZipMiddleware:
    return GZipMiddleware(app, minimum_size=GZIP_MIN_BYTES)


def web_routes(web_dir: Path) -> tuple[list[BaseRoute], Shell | None]:
    """The routes of the web front end, and its shell (None when it is not installed)."""
    if not (web_dir / "index.html").is_file():
        logger.warning("web front end not found in %s: only the API is served", web_dir)
        return [], None
    shell = Shell.build(web_dir)

    async def spa_index(request: Request) -> Response:
        # Every screen needs a session: an anonymous browser signs in, then comes back.
        if request.url.path != SIGN_IN_PATH and principal_of(request) is None:
            return redirect_to_sign_in(request)
        return shell.response()

    routes: list[BaseRoute] = [
        Route(path, _gzip_endpoint(spa_index), methods=["GET", "HEAD"])
        for path in (*SPA_PATHS, SIGN_IN_PATH)
    ]
    routes.append(
        Mount(
            shell.asset_prefix.rstrip("/"),
            _gzip(CachedStaticFiles(directory=web_dir, cache_control=IMMUTABLE)),
        )
    )
    routes.append(
        Mount("/static", _gzip(CachedStaticFiles(directory=web_dir, cache_control=REVALIDATE)))
    )
    if (web_dir / "vendor").is_dir():
        routes.append(
            Mount(
                "/vendor",
                _gzip(CachedStaticFiles(directory=web_dir / "vendor", cache_control=IMMUTABLE)),
            )
        )
    return routes, shell


def _gzip_endpoint(endpoint: Callable[[Request], Awaitable[Response]]) -> GZipMiddleware:
    """A request/response endpoint as an ASGI app behind gzip (Route accepts ASGI apps)."""
    return GZipMiddleware(request_response(endpoint), minimum_size=GZIP_MIN_BYTES)


def not_found_handler(shell: Shell | None) -> Callable[[Request, Exception], Awaitable[Response]]:
    """404s: a browser asking for a page gets the app's own "Page not found" screen (the
    shell, whose router shows it) with a 404 status; anything else a short plain answer."""

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "Not Found"
        wants_page = request.method in ("GET", "HEAD") and "text/html" in request.headers.get(
            "accept", ""
        )
        if shell is not None and wants_page and not _is_asset(request.scope):
            return shell.response(404)
        return PlainTextResponse(detail, status_code=404)

    return not_found


def _is_asset(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith(("/static/", "/vendor/"))
