"""Billing's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from service_http.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/billing.db"
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
