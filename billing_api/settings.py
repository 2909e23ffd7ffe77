"""Billing's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only for a developer's machine: create_app logs a warning when it is in use.
DEV_SERVICE_TOKEN = "dev-service-token"


class BillingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/billing.db"
    ordering_url: str = "http://127.0.0.1:8001"
    web_url: str = "http://127.0.0.1:8000"
    # Shared by all services, hence no BILLING_ prefix.
    service_token: str = Field(
        default=DEV_SERVICE_TOKEN,
        min_length=1,
        repr=False,
        validation_alias=AliasChoices("SERVICE_TOKEN", "service_token"),
    )
    pull_enabled: bool = True
    pull_interval: float = Field(default=5.0, gt=0)
    pull_backoff_cap: float = Field(default=60.0, gt=0)
    pull_page_size: int = Field(default=500, ge=1, le=1000)
    ordering_timeout: float = Field(default=5.0, gt=0)
    # How long a deep link or POST /sync/run waits for a pull another replica is running.
    pull_lock_wait: float = Field(default=10.0, ge=0)

    @field_validator("ordering_url", "web_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
