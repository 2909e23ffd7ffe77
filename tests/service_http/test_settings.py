"""The shared settings base: the service credential is secret, never empty, and the development
value is refused unless the run is declared a development run (APP_ENV=development)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from bff.settings import BffSettings
from billing_api.settings import BillingSettings
from ordering_api.settings import OrderingSettings
from service_http.settings import DEV_SERVICE_TOKEN, ServiceSettings
from tests.support.processes import REPO_ROOT, service_env

SETTINGS = [OrderingSettings, BillingSettings, BffSettings]


@pytest.fixture(autouse=True)
def no_credential_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SERVICE_TOKEN",
        "ORDERING_CREDENTIALS",
        "BILLING_CREDENTIALS",
        "BILLING_ORDERING_TOKEN",
        "BFF_ORDERING_TOKEN",
        "BFF_BILLING_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("settings", SETTINGS)
def test_the_development_token_needs_a_development_run(
    settings: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    with pytest.raises(ValidationError, match="APP_ENV=development"):
        settings()
    with pytest.raises(ValidationError, match="APP_ENV=development"):
        settings(service_token=DEV_SERVICE_TOKEN)
    assert settings(app_env="development")
    # The former shared token still starts a service (every scope; see test_credentials.py).
    assert settings(service_token="a-real-token")


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_refused_even_in_development(
    settings: type[ServiceSettings], token: str
) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        settings(service_token=token, app_env="development")


@pytest.mark.parametrize("settings", SETTINGS)
def test_the_token_never_shows_in_a_repr(settings: type[ServiceSettings]) -> None:
    configured = settings(service_token="s3cr3t-value")
    assert "s3cr3t-value" not in repr(configured)
    assert "s3cr3t-value" not in str(configured.model_dump())


def test_an_unknown_kind_of_run_is_refused() -> None:
    with pytest.raises(ValidationError):
        OrderingSettings(service_token="a-real-token", app_env="staging")


def test_a_service_without_a_token_will_not_start_outside_development() -> None:
    env = service_env({})
    env.pop("APP_ENV", None)
    env.pop("SERVICE_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-c", "from ordering_api.app import create_app; create_app()"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ORDERING_CREDENTIALS is not set" in result.stderr
