"""Hub configuration (YAML), validated at start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from gridgate_core.config import LoggingConfig, MqttConfig, SecretName, StrictModel
from gridgate_wire.messages import Id


class DatabaseConfig(StrictModel):
    url: str = Field(
        default="sqlite:////var/lib/gridgate-hub/hub.sqlite3",
        description=(
            "SQLAlchemy URL without a password: sqlite:///PATH (embedded default) or "
            "postgresql+psycopg://USER@HOST/DB (production)."
        ),
    )
    password_secret: SecretName | None = Field(
        default=None, description="Secret holding the database password."
    )

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        head = value.split("@", 1)[0] if "@" in value else ""
        if ":" in head.split("//", 1)[-1]:
            raise ValueError("put the password in password_secret, not in the URL")
        return value


class IngestConfig(StrictModel):
    shared_subscription: bool = Field(
        default=True,
        description="Subscribe through $share so several hub processes split the load.",
    )
    batch_max: int = Field(
        default=500, ge=1, le=10_000, description="Most messages committed in one transaction."
    )
    batch_wait_ms: int = Field(
        default=20, ge=0, le=5_000, description="How long to wait to fill a batch."
    )
    unregistered_edges: Literal["dead_letter", "accept_events"] = Field(
        default="dead_letter",
        description=(
            "Messages from an edge id not in the registry: dead_letter (default; its statuses "
            "are ignored), or accept_events (store its passages, roster acks and statuses, for "
            "test rigs without a registry; alerts and confirmations are still refused)."
        ),
    )


class PassagesConfig(StrictModel):
    """What the hub keeps of passages (the edge keeps its own, under its own retention)."""

    keep: Literal["full", "daily_counts", "none"] = Field(
        default="daily_counts",
        description=(
            "full: every passage, for retention_days; daily_counts (default): per edge, day, "
            "gate, direction, method and decision, no person; none: nothing. Every mode keeps "
            "ids, seq numbers and a digest for dedup_days (duplicates, order, gaps), never who "
            "passed."
        ),
    )
    retention_days: int = Field(
        default=30, ge=1, le=3650, description="keep=full: passages older than this are purged."
    )
    counts_retention_days: int = Field(
        default=400, ge=1, le=3650, description="Daily counts older than this are purged."
    )
    dedup_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Stripped passage rows (id, seq, digest) kept this long for deduplication.",
    )
    message_retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description=(
            "Every other message an edge sent (alerts, acknowledgements, walk-in passes, door "
            "alarms and releases) is deleted this long after it arrived; what the hub acts on "
            "is copied into its own tables when it arrives. A walk-in's message (name, phone, "
            "purpose) is reduced to its digest sooner, when its pass is purged."
        ),
    )
    purge_interval_s: float = Field(
        default=3600, ge=10, le=86_400, description="How often the purge runs."
    )


class PassesConfig(StrictModel):
    """Visitor passes at the hub (issue 18; the rules of hub.passes)."""

    max_visitor_days: int = Field(default=30, ge=1, le=366, description="Longest visitor pass.")
    max_long_term_days: int = Field(
        default=366, ge=1, le=3660, description="Longest carer or domestic-helper pass."
    )
    pin_digits: int = Field(default=6, ge=4, le=12, description="Digits of a generated PIN.")
    retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description=(
            "A pass is forgotten (name and phone with it) this long after it ended; purged with "
            "the passages."
        ),
    )
    retry_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Re-send a pass list version not acknowledged by its edge after this long.",
    )


class DoorsConfig(StrictModel):
    """Doors at the hub (issue 18): remote unlock from the centre, door-alarm retention."""

    alarm_retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description=(
            "A door alarm is deleted this long after it ended (acknowledged by the centre, or "
            "cleared by its edge); one still open and not cleared is kept. Purged with the "
            "passages."
        ),
    )

    unlock_expiry_s: float = Field(
        default=60.0,
        ge=5,
        le=3600,
        description=(
            "A remote unlock expires this long after it is sent: an edge that gets it later "
            "(offline, a queued command) refuses it instead of opening late."
        ),
    )


class ApiConfig(StrictModel):
    enabled: bool = Field(default=True, description="Serve the JSON API and the web pages.")
    host: str = Field(
        default="127.0.0.1",
        description="Address to listen on; put a TLS-terminating reverse proxy in front.",
    )
    port: int = Field(default=8080, ge=0, le=65535, description="TCP port (0: any free port).")
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A session ends after this long unused."
    )
    session_absolute_hours: int = Field(
        default=12, ge=1, le=24 * 7, description="A session ends this long after login."
    )
    secure_cookies: bool = Field(
        default=True, description="Mark the session cookie Secure (served over HTTPS)."
    )


class SiteConfig(StrictModel):
    timezone: str = Field(
        default="Asia/Shanghai", description="Time zone pages show times in (IANA name)."
    )
    language: str = Field(
        default="zh-CN", pattern="^(zh-CN|en)$", description="Default page language."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class HubConfig(StrictModel):
    instance_id: Id = Field(
        default="hub-1", description="This hub process's id; its MQTT client id."
    )
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Storage.")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="Broker connection.")
    ingest: IngestConfig = Field(default_factory=IngestConfig, description="Edge ingest.")
    passages: PassagesConfig = Field(
        default_factory=PassagesConfig, description="What the hub keeps of passages."
    )
    passes: PassesConfig = Field(
        default_factory=PassesConfig, description="Visitor passes: limits, retention, re-sends."
    )
    doors: DoorsConfig = Field(default_factory=DoorsConfig, description="Remote unlock.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
    api: ApiConfig = Field(default_factory=ApiConfig, description="HTTP API and web pages.")
    site: SiteConfig = Field(default_factory=SiteConfig, description="Pages: zone, language.")
    roster_retry_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Re-send a roster version not acknowledged by its edge after this long.",
    )
    template_people_limit: int = Field(
        default=100_000,
        ge=1,
        description="People with face templates the deployment may hold; warn at 90%.",
    )
