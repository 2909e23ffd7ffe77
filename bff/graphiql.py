"""GraphiQL without the internet: strawberry's page, with its CDN assets served by this app.

Strawberry's GraphiQL template loads React, GraphiQL, its explorer plugin and js-cookie from
unpkg.com; offline it shows "Loading..." for ever. The same files, at the same pinned versions,
are vendored under web/vendor/<package>@<version>/ (scripts/vendor_web.py, with their
licences) and served at /vendor/. The template keeps its `integrity` hashes, so the browser
still checks that each local file is byte for byte the published one.
"""

from __future__ import annotations

import re

from strawberry.http.ides import get_graphql_ide_html

CDN = re.compile(r"https://unpkg\.com/(?P<asset>[^\"'\s]+)")
VENDOR_PATH = "/vendor/"


def offline_graphiql_html(template: str | None = None) -> str:
    """Strawberry's GraphiQL page with every unpkg.com URL pointing at /vendor/ instead."""
    page = template if template is not None else get_graphql_ide_html(graphql_ide="graphiql")
    return CDN.sub(lambda match: VENDOR_PATH + match["asset"], page)


def vendored_assets(page: str) -> list[str]:
    """The /vendor/ paths a page loads (what must exist under web/vendor/)."""
    return re.findall(r"(/vendor/[^\"'\s]+)", page)
