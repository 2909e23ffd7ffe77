"""Copies the browser assets the app serves itself from an npm install of a pinned lockfile.

GraphiQL's page (strawberry's template) loads React, GraphiQL, its explorer plugin and
js-cookie from unpkg.com, so without the internet it shows "Loading..." for ever. The BFF
serves the very same files from web/vendor/ instead (bff/graphiql.py rewrites the template's
URLs; the template's integrity hashes still check them). axe-core goes to tests/e2e/vendor/
for the browser tests' accessibility scans.

    python scripts/vendor_web.py          # after changing scripts/web_vendor/package.json:
                                          # (cd scripts/web_vendor && npm install) first

Versions are pinned by scripts/web_vendor/package-lock.json; this runs `npm ci` from it in a
temporary directory, copies the files and each package's licence, and the result is committed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = REPO / "scripts" / "web_vendor"
WEB_VENDOR = REPO / "web" / "vendor"
TEST_VENDOR = REPO / "tests" / "e2e" / "vendor"

# package -> (files to copy, destination root); the files strawberry's GraphiQL page names.
WANTED: dict[str, tuple[list[str], Path]] = {
    "react": (["umd/react.production.min.js"], WEB_VENDOR),
    "react-dom": (["umd/react-dom.production.min.js"], WEB_VENDOR),
    "js-cookie": (["dist/js.cookie.min.js"], WEB_VENDOR),
    "graphiql": (["graphiql.min.js", "graphiql.min.css"], WEB_VENDOR),
    "@graphiql/plugin-explorer": (["dist/index.umd.js", "dist/style.css"], WEB_VENDOR),
    "axe-core": (["axe.min.js"], TEST_VENDOR),
}
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENSE-3RD-PARTY.txt")
# @graphiql/plugin-explorer ships no licence file; it is MIT like graphiql, from the same
# repository (graphql/graphiql), whose licence file covers it.
LICENCE_FROM = {"@graphiql/plugin-explorer": "graphiql"}


def main() -> int:
    npm = shutil.which("npm")
    if npm is None:
        print("vendor_web: npm is needed (apt install npm)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(MANIFESTS / name, work / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=work,
            check=True,
        )
        modules = work / "node_modules"
        for root in (WEB_VENDOR, TEST_VENDOR):
            shutil.rmtree(root, ignore_errors=True)
        for package, (files, root) in WANTED.items():
            meta = json.loads((modules / package / "package.json").read_text())
            target = root / f"{package}@{meta['version']}"
            for file in files:
                (target / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(modules / package / file, target / file)
            source = modules / LICENCE_FROM.get(package, package)
            for licence in LICENCE_NAMES:
                if (source / licence).is_file():
                    shutil.copy(source / licence, target / licence)
            print(f"vendor_web: {package}@{meta['version']} ({meta['license']}) -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
