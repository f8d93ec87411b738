"""Edge agent configuration (YAML), validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from edge_agent.vision.config import EngineConfig
from edge_agent.vision.pipeline_config import PipelineConfig
from gridgate_core.config import LoggingConfig, MqttConfig, StrictModel
from gridgate_wire.messages import Id


class OutboxConfig(StrictModel):
    max_inflight: int = Field(
        default=500, ge=1, le=10_000, description="Events published but not yet acknowledged."
    )
    ack_timeout_s: float = Field(
        default=15.0, gt=0, description="Re-send an event not acknowledged by the hub after this."
    )
    disk_budget_mb: int = Field(
        default=2048, ge=1, description="Disk the event store may use before it warns loudly."
    )
    warn_at_fraction: float = Field(
        default=0.8, gt=0, le=1, description="Fraction of the disk budget that raises a warning."
    )


class RetentionConfig(StrictModel):
    event_days: int = Field(
        default=180, ge=1, le=3650, description="Acknowledged events older than this are purged."
    )
    purge_interval_s: int = Field(
        default=3600, ge=60, description="How often the retention purge runs."
    )


class DemoSourceConfig(StrictModel):
    enabled: bool = Field(
        default=False, description="Emit synthetic card passages (for `make demo` only)."
    )
    interval_s: float = Field(default=1.0, gt=0, description="Seconds between passages.")


class EdgeConfig(StrictModel):
    edge_id: Id = Field(description="This edge's id; also its MQTT identity and topic level.")
    compound_id: Id = Field(description="The compound this edge serves.")
    data_dir: Path = Field(
        default=Path("/var/lib/gridgate-edge"),
        description="Where the event store and gallery live (must be on persistent storage).",
    )
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="Broker connection.")
    engine: EngineConfig = Field(
        default_factory=EngineConfig, description="Face detector, embedder and quality floors."
    )
    pipeline: PipelineConfig = Field(
        default_factory=PipelineConfig, description="Tracking and frame selection per camera."
    )
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Durable outbox.")
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="Retention of local personal data."
    )
    status_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="Heartbeat: how often the status is published."
    )
    demo_source: DemoSourceConfig = Field(
        default_factory=DemoSourceConfig, description="Synthetic passages for demos."
    )
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")

    @model_validator(mode="after")
    def _client_id_default(self) -> EdgeConfig:
        if self.mqtt.client_id is not None and self.mqtt.client_id != self.edge_id:
            raise ValueError("mqtt.client_id must equal edge_id (the broker ACL relies on it)")
        return self
