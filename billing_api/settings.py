"""Billing's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from service_db.engine import DatabaseUrl
from service_http.credentials import CallerCredential, Scope, credential_table
from service_http.settings import (
    DEV_BFF_TO_BILLING,
    DEV_BILLING_TO_ORDERING,
    DEV_MONITORING,
    ServiceSettings,
)

# Who calls billing in a development run, with the scopes a deployment gives them
# (docs/security.md): the BFF reads, approves for a user and runs the sync.
DEVELOPMENT_CALLERS = credential_table(
    [
        (
            "bff",
            [
                Scope.INVOICES_READ,
                Scope.INVOICES_APPROVE,
                Scope.SYNC_READ,
                Scope.SYNC_RUN,
                Scope.ACT_AS_USER,
            ],
            [DEV_BFF_TO_BILLING],
        ),
        ("monitoring", [Scope.METRICS_READ, Scope.SYNC_READ], [DEV_MONITORING]),
    ]
)


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    development_callers: ClassVar[Mapping[str, CallerCredential]] = DEVELOPMENT_CALLERS
    outgoing_tokens: ClassVar[Mapping[str, str]] = {"ordering_token": DEV_BILLING_TO_ORDERING}

    database_url: DatabaseUrl = "sqlite+aiosqlite:///./var/billing.db"
    # Billing's own secret for ordering (BILLING_ORDERING_TOKEN): ordering's table lists it
    # under "billing".
    ordering_token: SecretStr | None = None
    ordering_url: str = "http://127.0.0.1:8001"
    web_url: str = "http://127.0.0.1:8000"
    pull_enabled: bool = True
    pull_interval: float = Field(default=5.0, gt=0)
    # The background pull long-polls ordering's feed for up to this long between pulls, so a
    # change arrives within milliseconds; 0 turns the long poll off (a pull every interval).
    # Ordering cuts it to its ORDERING_FEED_MAX_WAIT.
    pull_wait: float = Field(default=20.0, ge=0)
    pull_backoff_cap: float = Field(default=60.0, gt=0)
    pull_page_size: int = Field(default=500, ge=1, le=1000)
    ordering_timeout: float = Field(default=5.0, gt=0)
    # How long a deep link or POST /sync/run waits for a pull another replica is running.
    pull_lock_wait: float = Field(default=10.0, ge=0)

    @field_validator("ordering_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
