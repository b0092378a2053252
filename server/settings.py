"""One frozen settings object, read only from the environment and validated at start.

Embedded default (no environment): SQLite under ./var, in-process Socket.IO, local model
store, in-memory limits, a development JWT secret generated once into ./var.
`ENV=production` refuses to start on any of those defaults.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32


class SettingsError(Exception):
    """Raised when the environment describes a configuration that must not start."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("refusing to start:\n" + "\n".join(f"  - {r}" for r in reasons))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    var_dir: Path = Path("./var")
    log_level: str = "INFO"
    instance_id: str = Field(default_factory=lambda: secrets.token_hex(4))

    database_url: str = ""
    migrate_on_start: bool = True
    redis_url: str = ""
    redis_prefix: str = "feltsync"

    jwt_secret: str = ""
    jwt_secret_generated: bool = False
    jwt_audience: str = "feltsync"
    access_token_ttl: int = Field(900, ge=30, le=3600)
    refresh_token_ttl: int = Field(30 * 24 * 3600, ge=60)
    refresh_grace_seconds: int = Field(10, ge=0, le=120)
    bcrypt_cost: int = Field(12, ge=4, le=16)

    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    model_dir: Path = Path("")
    model_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    download_url_ttl: int = Field(300, ge=10, le=300)
    model_check_timeout: float = Field(30.0, gt=0, le=600)  # seconds for the ONNX validator
    model_check_memory_bytes: int = Field(4 * 1024 * 1024 * 1024, ge=256 * 1024 * 1024)
    rl_line_max_bytes: int = Field(64 * 1024, ge=256)
    rl_upload_max_bytes: int = Field(256 * 1024 * 1024, ge=1024)

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_event_bytes: int = Field(64 * 1024, ge=256)
    cors_origins: str = "*"
    trusted_proxies: str = ""
    ping_interval: float = Field(25.0, gt=0)
    ping_timeout: float = Field(20.0, gt=0)
    # Broadcast delivery: the fast path (encode once, frame once, write to idle websockets)
    # or python-socketio's stock manager. permessage-deflate costs CPU per connection.
    broadcast_fast_path: bool = True
    websocket_compression: bool = False
    uvloop: bool = False  # measured within noise of asyncio on the fan-out bench; opt in
    bench_room: bool = False  # `bench:join` / `bench:pub` for the fan-out benchmark only
    tournament_tick_seconds: float = Field(0.5, gt=0, le=60)  # how often due clock changes are announced
    console_interval: float = Field(1.0, ge=0.1, le=60)  # seconds between admin console pushes

    # Realtime core: per-socket protection, log retention per room kind, gap checks, presence.
    socket_event_rate: float = Field(20.0, gt=0)  # client events per second, sustained
    socket_event_burst: int = Field(40, ge=1)
    socket_max_outgoing: int = Field(1000, ge=1)  # queued packets before a slow socket is dropped
    retention_max_events: int = Field(10_000, ge=1)
    retention_max_age: int = Field(7 * 24 * 3600, ge=1)  # seconds
    # Per room kind overrides, JSON: {"table": {"max_events": 500, "max_age": 86400}}.
    room_retention: dict[str, dict[str, int]] = Field(default_factory=dict)
    retention_prune_interval: float = Field(60.0, gt=0)
    gap_check_interval: float = Field(2.0, gt=0)
    presence_ttl: int = Field(30, ge=2)
    presence_leave_grace: float = Field(5.0, ge=0)  # seconds before a leave is announced; 0: at once
    chat_max_length: int = Field(2000, ge=1, le=20_000)

    history_record_max_bytes: int = Field(32 * 1024, ge=256)
    history_batch_max: int = Field(500, ge=1, le=10_000)
    batch_max_ops: int = Field(500, ge=1, le=10_000)
    sync_push_max_records: int = Field(5000, ge=1)
    sync_poke_debounce: float = Field(0.25, ge=0, le=10)

    # Ratings: how fast uncertainty (ST, MT) grows per idle day, and the largest result rated.
    rating_idle_growth_per_day: float = Field(12.8, ge=0, le=350)
    rating_max_placings: int = Field(2000, ge=2, le=100_000)

    # Rate limits, in the `limits` notation ("5/minute", "10 per 10 minutes").
    login_account_limit: str = "5/minute"
    login_ip_limit: str = "10/10 minutes"
    rest_ip_limit: str = "300/minute"

    @field_validator("login_account_limit", "login_ip_limit", "rest_ip_limit")
    @classmethod
    def _valid_rate(cls, v: str) -> str:
        from limits import parse

        parse(v)  # raises ValueError on anything it cannot read
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, v: str) -> str:
        for part in v.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        return v

    @property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(p.strip(), strict=False)
                for p in self.trusted_proxies.split(",") if p.strip()]

    @field_validator("database_url")
    @classmethod
    def _normalize_db_url(cls, v: str) -> str:
        if v.startswith("postgresql://"):
            return "postgres://" + v[len("postgresql://") :]
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def cors_allowed_origins(self) -> list[str] | str:
        origins = [o.strip() for o in self.cors_origins.split(",") if o.strip()]
        return "*" if origins == ["*"] else origins

    def production_problems(self) -> list[str]:
        """Every reason this configuration is unsafe for production, one line each."""
        problems = []
        if self.jwt_secret_generated:
            problems.append("JWT_SECRET is not set: the generated development secret is not allowed")
        elif len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            problems.append(f"JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
        if self.is_sqlite:
            problems.append("DATABASE_URL points at SQLite: production needs PostgreSQL")
        if not self.redis_url:
            problems.append("REDIS_URL is not set: production needs Redis for fan-out and limits")
        if self.bcrypt_cost < 12:
            problems.append("BCRYPT_COST is below 12")
        return problems


def _dev_secret(var_dir: Path) -> str:
    path = var_dir / "dev_jwt_secret"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


def load_settings(**overrides: object) -> Settings:
    """Read the environment (overrides win, for tests), fill embedded defaults, validate."""
    base = Settings(**overrides)  # type: ignore[arg-type]
    filled: dict[str, object] = {}
    if not base.database_url:
        filled["database_url"] = f"sqlite://{(base.var_dir / 'feltsync.sqlite3').as_posix()}"
    if not str(base.model_dir) or str(base.model_dir) == ".":
        filled["model_dir"] = base.var_dir / "models"
    if not base.jwt_secret:
        filled["jwt_secret"] = _dev_secret(base.var_dir) if base.env != "production" else ""
        filled["jwt_secret_generated"] = True
    settings = base.model_copy(update=filled) if filled else base
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            raise SettingsError(problems)
    elif settings.jwt_secret and len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        raise SettingsError([f"JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes"])
    return settings
