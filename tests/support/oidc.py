"""A real OpenID Connect provider for tests: panva's `oidc-provider` (npm), pinned by
tests/oidc_provider/package-lock.json and installed on demand with `npm ci` the first time a
test needs it (like benchmarks/peer's gateway), run as a Node process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc_provider"
INSTALLED_MARKER = PROVIDER_DIR / "node_modules" / ".package-lock.json"


def ensure_installed() -> None:
    """`npm ci` from the committed lockfile, unless that exact install is already there."""
    lock = PROVIDER_DIR / "package-lock.json"
    if INSTALLED_MARKER.exists() and INSTALLED_MARKER.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the OIDC tests need npm (Node.js 20 or newer) on PATH")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm ci failed in {PROVIDER_DIR}:\n{result.stderr[-4000:]}")


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str


@contextmanager
def oidc_provider(
    port: int,
    redirect_uri: str,
    post_logout_uri: str,
    users: Mapping[str, tuple[str, Sequence[str]]],
    log_path: Path,
) -> Iterator[OidcProvider]:
    """The provider on 127.0.0.1:`port` with one confidential client; stopped on exit."""
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the OIDC tests need node on PATH")
    provider = OidcProvider(f"http://127.0.0.1:{port}", "bff-test-client", "bff-test-secret-0123")
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT_ID": provider.client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_REDIRECT_URI": redirect_uri,
        "OIDC_POST_LOGOUT_URI": post_logout_uri,
        "OIDC_USERS": json.dumps({n: {"name": d, "roles": list(r)} for n, (d, r) in users.items()}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, "provider.js"], cwd=PROVIDER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    discovery = f"{provider.issuer}/.well-known/openid-configuration"
                    if httpx.get(discovery, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the OIDC provider did not start"
                time.sleep(0.1)
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
