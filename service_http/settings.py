"""The settings every service shares: credentials and what kind of run this is.

A service that is called (ordering, billing) accepts a table of callers, each with scopes and
one or more secrets (`ORDERING_CREDENTIALS`, `BILLING_CREDENTIALS`; service_http.credentials). A
service that calls others has one secret of its own per peer (`BILLING_ORDERING_TOKEN`,
`BFF_ORDERING_TOKEN`, `BFF_BILLING_TOKEN`). Every secret is a `SecretStr` (never in a repr or a
log).

A development run (`APP_ENV=development`, which `scripts/run` and the tests set) needs none of
these: each caller then uses its own well-known development secret with its usual scopes. A
service refuses to start with a development secret, or with nothing configured, unless the run
is declared a development run: a production deployment that forgot its credentials fails at
start instead of accepting a public password.

`SERVICE_TOKEN`, the one secret every service shared before per-caller credentials, is still
understood for an upgrade: a service without a caller table accepts it with every scope, and a
caller without its own token sends it (warned at start).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service_http.credentials import CallerCredential, Credentials, Scope
from service_http.hosts import DEFAULT_ALLOWED_HOSTS

# Only for a developer's machine; accepted only when APP_ENV=development. Each calling service
# has its own, so a development run exercises the same scopes as a deployment.
DEV_SERVICE_TOKEN = "dev-service-token"  # the former shared token (SERVICE_TOKEN)
DEV_BILLING_TO_ORDERING = "dev-billing-to-ordering-token"
DEV_BFF_TO_ORDERING = "dev-bff-to-ordering-token"
DEV_BFF_TO_BILLING = "dev-bff-to-billing-token"
DEV_MONITORING = "dev-monitoring-token"
DEVELOPMENT_SECRETS = frozenset(
    {
        DEV_SERVICE_TOKEN,
        DEV_BILLING_TO_ORDERING,
        DEV_BFF_TO_ORDERING,
        DEV_BFF_TO_BILLING,
        DEV_MONITORING,
    }
)

logger = logging.getLogger("service_http")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # The former shared secret (no service prefix): see the module's docstring.
    service_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SERVICE_TOKEN", "service_token")
    )
    # The callers this service accepts, read with the service's prefix (ORDERING_CREDENTIALS,
    # BILLING_CREDENTIALS) as JSON: {"billing": {"scopes": ["orders:read", "feed:read"],
    # "secrets": ["…", "…"]}, …}. Unset: SERVICE_TOKEN, else the development callers.
    credentials: dict[str, CallerCredential] | None = None
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
    # Python's gen-0 collection threshold for the process (service_http/gc_tuning.py), with the
    # service's prefix (BFF_GC_THRESHOLD, ORDERING_GC_THRESHOLD...); 0 = Python's default.
    gc_threshold: int = Field(default=20_000, ge=0)

    # The callers a development run accepts (empty for a service nobody calls: the BFF).
    development_callers: ClassVar[Mapping[str, CallerCredential]] = {}
    # This service's own tokens for its peers: field name → the development secret.
    outgoing_tokens: ClassVar[Mapping[str, str]] = {}

    def _env_name(self, field: str) -> str:
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    def _check_secret(self, name: str, secret: SecretStr) -> None:
        value = secret.get_secret_value()
        if not value.strip():
            raise ValueError(f"{name} must not be empty")
        if value in DEVELOPMENT_SECRETS and self.app_env != "development":
            raise ValueError(
                f"{name} holds a development secret: set a real one, "
                "or declare a development run with APP_ENV=development"
            )

    @model_validator(mode="after")
    def _credentials_fit_the_run(self) -> Self:
        development = self.app_env == "development"
        if self.service_token is not None:
            self._check_secret("SERVICE_TOKEN", self.service_token)
        if self.credentials is not None:
            name = self._env_name("credentials")
            if not self.credentials:
                raise ValueError(f"{name} names no caller")
            for caller, credential in self.credentials.items():
                for secret in credential.secrets:
                    self._check_secret(f"{name} ({caller})", secret)
            Credentials(self.credentials)  # refuses one secret shared by two callers
        elif self.development_callers and self.service_token is None and not development:
            raise ValueError(
                f"{self._env_name('credentials')} is not set: configure the callers, "
                "or declare a development run with APP_ENV=development"
            )
        for field in self.outgoing_tokens:
            own: SecretStr | None = getattr(self, field)
            if own is not None:
                self._check_secret(self._env_name(field), own)
            elif self.service_token is None and not development:
                raise ValueError(
                    f"{self._env_name(field)} is not set: set this service's own token, "
                    "or declare a development run with APP_ENV=development"
                )
        return self

    def accepted_credentials(self) -> Credentials:
        """The callers this service accepts (see `credentials`)."""
        if self.credentials is not None:
            return Credentials(self.credentials)
        if self.service_token is not None:
            shared = CallerCredential(scopes=frozenset(Scope), secrets=(self.service_token,))
            return Credentials({"shared": shared})
        return Credentials(self.development_callers)

    def outgoing_token(self, field: str) -> str:
        """This service's secret for one peer, for the one place that sends it."""
        own: SecretStr | None = getattr(self, field)
        if own is not None:
            return own.get_secret_value()
        if self.service_token is not None:
            return self.service_token.get_secret_value()
        return self.outgoing_tokens[field]

    def warn_if_insecure(self) -> None:
        if self.development_callers and self.credentials is None:
            if self.service_token is not None:
                logger.warning(
                    "%s is not set: every holder of SERVICE_TOKEN gets every scope",
                    self._env_name("credentials"),
                )
            else:
                logger.warning(
                    "%s is not set: accepting the development callers",
                    self._env_name("credentials"),
                )
        for field in self.outgoing_tokens:
            if getattr(self, field) is None and self.service_token is None:
                logger.warning("%s is not set: using the development token", self._env_name(field))
