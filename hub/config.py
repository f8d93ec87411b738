"""Hub configuration (YAML), validated at start."""

from __future__ import annotations

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


class HubConfig(StrictModel):
    instance_id: Id = Field(
        default="hub-1", description="This hub process's id; its MQTT client id."
    )
    database: DatabaseConfig = Field(default_factory=DatabaseConfig, description="Storage.")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="Broker connection.")
    ingest: IngestConfig = Field(default_factory=IngestConfig, description="Edge ingest.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
