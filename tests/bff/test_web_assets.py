"""How the BFF serves the web front end: fingerprinted, long-cached, gzipped assets, module
preloads in the shell, the app's own 404 page, and GraphiQL's assets from this app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bff.graphiql import offline_graphiql_html, vendored_assets
from bff.settings import BffSettings
from bff.web import IMMUTABLE, module_graph
from tests.bff.conftest import System, SystemFactory

REPO_WEB = BffSettings().web_dir
INDEX = """<!doctype html>
<html lang="en"><head><title>Orders</title>
<link rel="stylesheet" href="/static/style.css">
<script type="module" src="/static/app.js"></script>
</head><body><main id="main"></main></body></html>"""


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    web = tmp_path / "site"
    (web / "screens").mkdir(parents=True)
    (web / "index.html").write_text(INDEX)
    (web / "style.css").write_text("body { margin: 0; }\n" * 100)
    (web / "app.js").write_text(
        "import { orders } from './screens/orders.js';\n"
        "import './dom.js';\n"
        "export const app = orders;\n"
    )
    (web / "dom.js").write_text("export const dom = 1;\n")
    (web / "screens" / "orders.js").write_text(
        "import { dom } from '../dom.js';\nexport const orders = dom; // " + "x" * 600 + "\n"
    )
    (web / "unused.js").write_text("export const unused = 1;\n")
    return web


def test_the_module_graph_follows_static_relative_imports(web_dir: Path) -> None:
    assert module_graph(web_dir) == ["app.js", "screens/orders.js", "dom.js"]


def test_the_real_apps_module_graph_reaches_every_screen() -> None:
    graph = module_graph(REPO_WEB)
    assert graph[0] == "app.js"
    screens = {p.relative_to(REPO_WEB).as_posix() for p in (REPO_WEB / "screens").glob("*.js")}
    assert screens <= set(graph)


async def test_the_shell_names_fingerprinted_assets_and_preloads_every_module(
    make_system: SystemFactory, web_dir: Path
) -> None:
    system: System = await make_system(web_dir=web_dir)
    shell = await system.bff.get("/orders")
    assert shell.status_code == 200
    assert shell.headers["cache-control"] == "no-cache"
    prefix = re.search(r'src="(/static/[0-9a-f]{12}/)app\.js"', shell.text)
    assert prefix, shell.text
    assert f'href="{prefix[1]}style.css"' in shell.text
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', shell.text)
    assert preloaded == [f"{prefix[1]}screens/orders.js", f"{prefix[1]}dom.js"]

    module = await system.bff.get(f"{prefix[1]}screens/orders.js")
    assert module.status_code == 200
    assert module.headers["cache-control"] == IMMUTABLE
    # Unversioned paths still work, but are revalidated.
    plain = await system.bff.get("/static/screens/orders.js")
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.text == module.text

    # A changed file is a new version: a new path, so a cached old file is never used.
    (web_dir / "dom.js").write_text("export const dom = 2;\n")
    again: System = await make_system(web_dir=web_dir)
    changed = (await again.bff.get("/orders")).text
    assert prefix[1] not in changed


async def test_text_assets_are_gzipped(make_system: SystemFactory, web_dir: Path) -> None:
    system: System = await make_system(web_dir=web_dir)
    shell = (await system.bff.get("/")).text
    prefix = re.search(r"(/static/[0-9a-f]{12}/)", shell)
    assert prefix
    for path in (f"{prefix[1]}style.css", f"{prefix[1]}screens/orders.js"):
        response = await system.bff.get(path, headers={"accept-encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.text == (web_dir / path.removeprefix(prefix[1])).read_text()
    identity = await system.bff.get(
        f"{prefix[1]}style.css", headers={"accept-encoding": "identity"}
    )
    assert "content-encoding" not in identity.headers
    assert identity.text == (web_dir / "style.css").read_text()


async def test_unknown_pages_get_the_apps_own_404_page(
    make_system: SystemFactory, web_dir: Path
) -> None:
    system: System = await make_system(web_dir=web_dir)
    for path in ("/no-such-screen", "/orders/abc", "/invoices/1/extra"):
        page = await system.bff.get(path, headers={"accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert 'type="module"' in page.text  # the app, whose router shows "Page not found"
    # Not a browser asking for a page: a short plain answer.
    assert (await system.bff.get("/no-such-screen")).status_code == 404
    asset = await system.bff.get("/static/missing.js", headers={"accept": "text/html"})
    assert asset.status_code == 404
    assert "module" not in asset.text


def test_graphiql_loads_nothing_from_the_internet_and_every_asset_is_vendored() -> None:
    page = offline_graphiql_html()
    assert "unpkg.com" not in page and "https://" not in page.replace("http://www.w3.org", "")
    assets = vendored_assets(page)
    assert len(assets) >= 6
    for asset in assets:
        path = REPO_WEB / asset.removeprefix("/")
        assert path.is_file(), f"{asset} is not vendored (run scripts/vendor_web.py)"
        package_dir = next(p for p in path.parents if "@" in p.name and p.name[0] != "@")
        assert (package_dir / "LICENSE").is_file(), package_dir


async def test_graphiql_and_its_assets_are_served(make_system: SystemFactory) -> None:
    system: System = await make_system(web_dir=REPO_WEB)
    ide = await system.bff.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200
    for asset in vendored_assets(ide.text):
        response = await system.bff.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == IMMUTABLE
