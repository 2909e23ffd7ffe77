"""The BFF's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from service_db.engine import DatabaseUrl
from service_http.settings import DEV_BFF_TO_BILLING, DEV_BFF_TO_ORDERING, ServiceSettings

# The repository's web/ directory, found relative to this package (bff/ sits beside web/).
DEFAULT_WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# Relay page size bound of the contract; also the upstreams' own `limit` maximum.
MAX_PAGE_SIZE = 100


class BffSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    outgoing_tokens: ClassVar[Mapping[str, str]] = {
        "ordering_token": DEV_BFF_TO_ORDERING,
        "billing_token": DEV_BFF_TO_BILLING,
    }

    ordering_url: str = "http://127.0.0.1:8001"
    # The BFF's own secrets, one per upstream (BFF_ORDERING_TOKEN, BFF_BILLING_TOKEN): a token
    # sent to one service is never one the other accepts.
    ordering_token: SecretStr | None = None
    billing_token: SecretStr | None = None
    billing_url: str = "http://127.0.0.1:8002"
    # aiocache backend: memory:// (one process) or redis://host:port/db (shared by replicas).
    cache_url: str = "memory://"
    cache_ttl: float = Field(default=5.0, ge=0)
    # How long "this confirmed order has no invoice yet" is cached (billing creates invoices
    # without telling the BFF); 0 = not cached. Never longer than cache_ttl.
    cache_absent_ttl: float = Field(default=0.5, ge=0)
    # Each network step with an upstream (connect, send, each read).
    upstream_timeout: float = Field(default=5.0, gt=0)
    # Waiting for a free pooled connection: the BFF's own queueing, reported apart.
    upstream_pool_timeout: float = Field(default=1.0, gt=0)
    graphiql: bool = True
    introspection: bool = True
    max_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    # GraphQL's introspection query has 163 tokens, the web app's largest document 67.
    max_tokens: int = Field(default=500, ge=1)
    # Fields of an operation with its fragments expanded, and its cost (bff/document_limits.py).
    max_fields: int = Field(default=250, ge=1)
    max_cost: int = Field(default=5000, ge=1)
    # A request body larger than this is refused (413) before it is read into memory.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Plain fields completed from a plan instead of graphql-core's per-field machinery
    # (bff/planned_execution.py); off runs graphql-core's executor unchanged.
    planned_execution: bool = True
    web_dir: Path = DEFAULT_WEB_DIR
    # Per upstream: calls in flight at most (bulkhead), and the circuit breaker's policy
    # (bff/resilience.py): open when `breaker_failure_ratio` of the last `breaker_window` calls
    # failed (after at least `breaker_min_calls`), probe again after `breaker_open_seconds`.
    upstream_concurrency: int = Field(default=32, ge=1)
    breaker_window: int = Field(default=20, ge=1)
    breaker_min_calls: int = Field(default=10, ge=1)
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    breaker_open_seconds: float = Field(default=5.0, gt=0)
    # Per-client request rate on /graphql, in the `limits` notation ("60/minute;10/second");
    # empty turns it off. Counted in memory, or in Redis when cache_url is redis://.
    rate_limit: str = "50/second;1000/minute"
    # Requests of one client worked on at once (per process); more wait up to
    # `client_queue_seconds`, then get 429. 0 turns it off.
    client_in_flight: int = Field(default=8, ge=0)
    client_queue_seconds: float = Field(default=10.0, gt=0)
    # Trust X-Forwarded-For from these proxies (comma-separated IPs) to tell clients apart.
    trusted_proxies: str = ""
    # Bearer token Prometheus sends to scrape GET /metrics; unset, the BFF serves no /metrics.
    metrics_token: SecretStr | None = None

    # --- Who may use the BFF (docs/security.md) ---
    # local: accounts in the BFF's own database; oidc: an OpenID Connect provider; none: no
    # sign-in, everyone holds every role (only with APP_ENV=development; for benchmarks).
    auth: Literal["local", "oidc", "none"] = "local"
    # Where sessions live: memory:// or redis://; empty means BFF_CACHE_URL's store, so that
    # replicas sharing a Redis cache share sessions too.
    session_url: str = ""
    # The BFF's own database (accounts): SQLite by default, PostgreSQL when replicas share it.
    database_url: DatabaseUrl = "sqlite+aiosqlite:///./var/bff.db"
    # The origin browsers use to reach the BFF, e.g. https://orders.example.com. It decides
    # the cookie's Secure flag and __Host- prefix (https) and which Origin is "same site".
    # Empty: the origin of each request itself (fine behind no proxy).
    public_url: str = ""
    # A session ends after this long without a request, and this long after sign-in at most.
    session_idle_seconds: float = Field(default=30 * 60, gt=0)
    session_absolute_seconds: float = Field(default=12 * 3600, gt=0)
    # How often a session looks at its account again (disabled, roles, signed out everywhere).
    session_recheck_seconds: float = Field(default=30.0, gt=0)
    # Failed sign-ins allowed, in the `limits` notation, per account and per client address.
    login_limit_account: str = "5/minute;20/hour"
    login_limit_client: str = "20/minute;100/hour"
    # OIDC (auth=oidc): the provider's issuer URL, this client's id and secret, the claim that
    # holds the user's roles (a list, or a space-separated string), and the scopes asked for.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_roles_claim: str = "roles"
    oidc_scopes: str = "openid profile"

    @field_validator("ordering_url", "billing_url", "public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("metrics_token")
    @classmethod
    def _empty_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # `BFF_METRICS_TOKEN=` (set, empty) means no token, not a token nobody can send.
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("cache_url", "session_url")
    @classmethod
    def _known_cache_scheme(cls, value: str) -> str:
        if value and not value.startswith(("memory://", "redis://")):
            raise ValueError("must start with memory:// or redis://")
        return value

    @model_validator(mode="after")
    def _auth_fits_the_run(self) -> Self:
        if self.auth == "none" and self.app_env != "development":
            raise ValueError("BFF_AUTH=none (no sign-in) is only allowed with APP_ENV=development")
        if self.auth == "oidc" and not (self.oidc_issuer and self.oidc_client_id):
            raise ValueError("BFF_AUTH=oidc needs BFF_OIDC_ISSUER and BFF_OIDC_CLIENT_ID")
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
