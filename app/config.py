"""Settings, read from the environment (prefix ``NTM_``) once per process."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "changeme", "secret", "dev", "development"}
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def normalise_database_url(url: str) -> str:
    """Accept the URL forms that hosting platforms hand out and pick the async drivers."""
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NTM_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./var/ntm.db"
    # A PostgreSQL streaming replica that GET/HEAD requests read from, unless the caller wrote
    # recently or the replica is unreachable or lags more than `replica_max_lag_seconds`
    # (the rule: app/db/replica.py). Unset: everything reads from the primary.
    database_replica_url: str | None = None
    replica_max_lag_seconds: float = Field(default=2.0, gt=0, le=3600)
    secret_key: SecretStr | None = None
    log_level: str = "INFO"
    data_dir: Path = Path("./var/files")
    var_dir: Path = Path("./var")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Addresses (or CIDR networks) of the reverse proxies whose X-Forwarded-For is believed.
    # Empty: none, so a client cannot choose the address its failed logins are counted under.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_echo: bool = False
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    password_min_length: int = Field(default=10, ge=8)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)
    bootstrap_admin: bool = True
    # Request bodies, refused with 413 while they stream in (before buffering or authentication):
    # uploads (multipart forms, and any body sent to an `…/import` path) and everything else.
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_json_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # The background worker: started inside `ntm serve` (development) or run as `ntm worker`.
    worker_in_process: bool | None = None
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_stale_seconds: int = Field(default=60, ge=5)
    job_max_attempts: int = Field(default=3, ge=1)
    # Limits of one import, checked before any work (issue 10: a 1.8 KB sheet declaring
    # A1:XFD1048576, or a 1 MB zip expanding to 300 MiB, must not occupy a worker).
    job_max_seconds: int = Field(default=1800, ge=1)
    import_max_rows: int = Field(default=2_000_000, ge=1)
    import_max_columns: int = Field(default=200, ge=1)
    import_max_cells: int = Field(default=20_000_000, ge=1)
    import_max_xlsx_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    import_max_shared_strings_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    import_max_xlsx_ratio: int = Field(default=200, ge=2)
    # Recognition dossiers: the largest document accepted (bounded by max_upload_bytes too), and
    # a procedures file replacing the bundled one (app/dossiers/data/procedures.json), e.g. with
    # a province's step durations.
    dossier_document_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    dossier_procedures_file: Path | None = None
    # The change feed keeps events this many days; a poller further behind gets 410 and starts
    # again from a sync bundle (issue 15). An operator's choice, not a legal figure.
    feed_retention_days: int = Field(default=90, ge=1)
    # Webhooks (issue 15). Target URLs must be HTTPS and must not resolve into loopback,
    # link-local, private or otherwise reserved ranges (SSRF), unless allowed here: plain HTTP
    # for development, and networks (CIDR) a deployment reaches on purpose (e.g. 127.0.0.0/8 in
    # tests, a provincial system on 10.20.0.0/16).
    webhook_allow_http: bool = False
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Retries of a failing delivery: exponential backoff from `base`, capped, with jitter, for
    # at least `webhook_retry_hours`; then the delivery fails and the subscription is disabled.
    webhook_retry_hours: float = Field(default=24.0, ge=24.0)
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_batch_size: int = Field(default=100, ge=1, le=1000)
    # A delivery claimed this long ago by a worker that never recorded its outcome (killed
    # mid-delivery) is sent again by another, with the same webhook-id (at least once). Longer
    # than the send timeout, so that a live worker's claim is never taken over.
    webhook_claim_stale_seconds: float = Field(default=300.0, ge=1)
    # Plan progress (docs/plans.md): a roadmap item is "at risk" when more than this many
    # criteria are unmet with fewer than this many months left before its target year ends.
    # Configuration, not law: unset, a plan's own thresholds are the only ones applied.
    plan_at_risk_criteria_unmet: int | None = Field(default=None, ge=0)
    plan_at_risk_months_left: int | None = Field(default=None, ge=0, le=120)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator("database_replica_url")
    @classmethod
    def _normalise_replica_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = normalise_database_url(value.strip())
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a PostgreSQL URL (postgresql://user@host:port/db)")
        return url

    @field_validator("cors_origins", "trusted_proxies", "webhook_allowed_networks", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies", "webhook_allowed_networks")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _check_claim_stale(self) -> Settings:
        if self.webhook_claim_stale_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "NTM_WEBHOOK_CLAIM_STALE_SECONDS must be longer than NTM_WEBHOOK_TIMEOUT_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _check_replica(self) -> Settings:
        if self.database_replica_url and not self.database_url.startswith("postgresql"):
            raise ValueError("NTM_DATABASE_REPLICA_URL needs a PostgreSQL NTM_DATABASE_URL")
        return self

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            raw = self.secret_key.get_secret_value() if self.secret_key else ""
            if raw.lower() in PLACEHOLDER_SECRETS or len(raw) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "NTM_SECRET_KEY must be set in production to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'`)"
                )
        return self

    @property
    def runs_worker_in_process(self) -> bool:
        """Unless set, `ntm serve` runs the worker itself in development (so that `make run`
        stays one command) and leaves it to `ntm worker` in production."""
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.env is Environment.DEVELOPMENT

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def signing_key(self) -> str:
        """The secret used to sign tokens; in development generated once and kept under var/."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
