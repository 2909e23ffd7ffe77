"""docs/deploy.md is checked, not only written: every service setting it names exists, and its
HAProxy configuration is one HAProxy accepts (`haproxy -c`, with a throwaway certificate)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pydantic_settings import BaseSettings

from bff.settings import BffSettings
from billing_api.settings import BillingSettings
from ordering_api.settings import OrderingSettings
from tests.support.processes import REPO_ROOT

DEPLOY = REPO_ROOT / "docs" / "deploy.md"
CERT_IN_DOC = "/etc/haproxy/certs/app.example.com.pem"


def settings_names(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def test_every_service_setting_the_deploy_guide_names_exists() -> None:
    named = set(re.findall(r"\b(?:ORDERING|BILLING|BFF)_[A-Z_]+\b", DEPLOY.read_text()))
    known = set().union(
        *(settings_names(s) for s in (OrderingSettings, BillingSettings, BffSettings))
    )
    assert named, "the guide names no settings"
    assert named <= known, f"named in docs/deploy.md but no such setting: {named - known}"


def test_the_deploy_guide_haproxy_configuration_is_valid(tmp_path: Path) -> None:
    blocks = re.findall(r"```haproxy\n(.*?)```", DEPLOY.read_text(), flags=re.S)
    assert len(blocks) == 1
    certificate = tmp_path / "site.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=app.example.com",
            "-keyout",
            str(certificate),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    certificate.write_text(certificate.read_text() + (tmp_path / "cert.pem").read_text())
    assert CERT_IN_DOC in blocks[0]
    config = tmp_path / "haproxy.cfg"
    config.write_text(blocks[0].replace(CERT_IN_DOC, str(certificate)))
    haproxy = shutil.which("haproxy")
    assert haproxy is not None, "haproxy is missing: scripts/setup test installs it"
    check = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    output = check.stdout + check.stderr
    assert check.returncode == 0, output
    assert "[WARNING]" not in output, output
