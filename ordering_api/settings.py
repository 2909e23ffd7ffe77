"""Ordering's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_http.settings import ServiceSettings


class OrderingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/ordering.db"
    # How often the sequence assigner numbers pending changes in the background; the feed also
    # runs it before every answer, so this only bounds how stale `high_water` can look.
    assign_interval: float = Field(default=1.0, gt=0)
    # The longest a feed request may hold with `wait` (the long poll); a larger `wait` is cut to
    # this. Keep it under the balancer's and the readers' timeouts.
    feed_max_wait: float = Field(default=30.0, ge=0)
