"""The settings every service shares: the service credential and what kind of run this is.

The credential is a `SecretStr` (never in a repr or a log). A service refuses to start with an
empty credential, or with the well-known development value unless the run is declared a
development run (`APP_ENV=development`, which `scripts/run` and the tests set): a production
deployment that forgot `SERVICE_TOKEN` fails at start instead of accepting a public password.
"""

from __future__ import annotations

import logging
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service_http.hosts import DEFAULT_ALLOWED_HOSTS

# Only for a developer's machine; accepted only when APP_ENV=development.
DEV_SERVICE_TOKEN = "dev-service-token"

logger = logging.getLogger("service_http")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # Shared by all services, hence no service prefix.
    service_token: SecretStr = Field(
        default=SecretStr(DEV_SERVICE_TOKEN),
        validation_alias=AliasChoices("SERVICE_TOKEN", "service_token"),
    )
    # Host header allow-list (service_http/hosts.py), read with the service's prefix:
    # ORDERING_ALLOWED_HOSTS, BILLING_ALLOWED_HOSTS, BFF_ALLOWED_HOSTS.
    allowed_hosts: str = DEFAULT_ALLOWED_HOSTS
    app_env: Literal["development", "production"] = Field(
        default="production", validation_alias=AliasChoices("APP_ENV", "app_env")
    )
    # How long a write's Idempotency-Key (and its stored answer) is kept: a retry within this
    # time answers the first result (service_http.idempotency). The service's prefix applies.
    idempotency_key_ttl: float = Field(default=86400.0, gt=0)
    # `json`: every log line of the process as one JSON object with the request id
    # (service_http.logs); `text` leaves logging as uvicorn and the host set it up.
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=AliasChoices("LOG_FORMAT", "log_format")
    )

    @model_validator(mode="after")
    def _credential_fits_the_run(self) -> Self:
        token = self.service_token.get_secret_value()
        if not token.strip():
            raise ValueError("SERVICE_TOKEN must not be empty")
        if token == DEV_SERVICE_TOKEN and self.app_env != "development":
            raise ValueError(
                "SERVICE_TOKEN is not set (or is the development value): set a real token, "
                "or declare a development run with APP_ENV=development"
            )
        return self

    @property
    def token(self) -> str:
        """The credential itself, for the one place that sends or compares it."""
        return self.service_token.get_secret_value()

    def warn_if_insecure(self) -> None:
        if self.token == DEV_SERVICE_TOKEN:
            logger.warning("SERVICE_TOKEN is not set: using the development token")
