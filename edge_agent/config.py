"""Edge agent configuration (YAML), validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from edge_agent.access.actuators import ActuatorConfig, ContactConfig, LogActuatorConfig
from edge_agent.access.doors import DoorConfig as DoorMonitorConfig
from edge_agent.access.doors import DuressConfig
from edge_agent.access.readers import LineReaderConfig
from edge_agent.access.schedule import ScheduleConfig
from edge_agent.analysis.occupancy import AnalyserConfig
from edge_agent.cameras.config import CameraConfig
from edge_agent.gallery.index import IndexConfig
from edge_agent.guard_room.config import GuardRoomConfig
from edge_agent.vision.config import EngineConfig
from edge_agent.vision.pipeline_config import PipelineConfig
from gridgate_core.config import LoggingConfig, MqttConfig, SecretName, StrictModel
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


class HealthConfig(StrictModel):
    link_down_s: float = Field(
        default=300.0,
        gt=0,
        description="/healthz fails once the broker link has been down this long (the outbox "
        "keeps every passage meanwhile, but the hub hears nothing).",
    )
    camera_stale_s: float = Field(
        default=60.0,
        gt=0,
        description="/healthz fails when a live camera has delivered no frame for this long.",
    )


class GalleryConfig(StrictModel):
    key_file: Path | None = Field(
        default=None,
        description="File holding the template key (32 bytes, hex); None: the systemd credential.",
    )
    key_credential: SecretName = Field(
        default="gallery_key", description="systemd credential name of the template key."
    )
    stranger_retention_days: int = Field(
        default=30, ge=1, le=365, description="Strangers unseen this long are deleted."
    )
    index: IndexConfig = Field(default_factory=IndexConfig, description="FAISS index settings.")


class DoorConfig(StrictModel):
    gate: Id = Field(description="Gate whose door this actuator opens.")
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The gate's name as guards call it (北门); None: the guard room shows the id.",
    )
    actuator: ActuatorConfig = Field(
        default_factory=LogActuatorConfig, description="How the door is opened."
    )
    open_s: float = Field(default=5.0, gt=0, le=60, description="Seconds the door stays open.")
    contact: ContactConfig | None = Field(
        default=None,
        description="The door's open/closed input (held and forced alarms); None: no contact.",
    )
    exit_lanes: list[Annotated[int, Field(ge=0, le=255)]] = Field(
        default_factory=list,
        max_length=256,
        description=(
            "Lanes (0-255) whose readers are exits: a credential there is an exit whatever "
            "direction an HTTP caller sends (exits cost a pass no use). Elsewhere an HTTP "
            "caller's direction is recorded but never skips a pass's use count."
        ),
    )
    free_exit: bool = Field(
        default=False,
        description=(
            "The door also opens from inside without a credential (an exit button or a lever "
            "wired to the lock, not to the edge): an opening with no grant is not forced open. "
            "Prefer a request-to-exit input (POST /door state exit_request) where one is wired."
        ),
    )


def _loopback(http: HttpConfig) -> bool:
    return http.bind in ("127.0.0.1", "::1", "localhost") or http.bind.startswith("127.")


class HttpConfig(StrictModel):
    enabled: bool = Field(default=True, description="Serve health, metrics and credentials.")
    bind: str = Field(
        default="127.0.0.1", description="Address to listen on (the LAN address for readers)."
    )
    port: int = Field(default=8480, ge=0, le=65535, description="TCP port (0: any free port).")
    token_secret: SecretName | None = Field(
        default=None, description="Secret that readers must send as X-Gridgate-Token."
    )
    allow_without_token: bool = Field(
        default=False,
        description="Serve a non-loopback address without token_secret (a closed reader LAN).",
    )

    @model_validator(mode="after")
    def _token_off_loopback(self) -> HttpConfig:
        open_to_lan = not _loopback(self) and self.token_secret is None
        if self.enabled and open_to_lan and not self.allow_without_token:
            raise ValueError(
                f"bind {self.bind} without token_secret lets anyone on that network present "
                "credentials; set token_secret (or allow_without_token: true)"
            )
        return self


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
    face_recognition: bool = Field(
        default=True,
        description="Recognise faces; off, the gates run on cards, QR codes and PINs only.",
    )
    cameras: list[CameraConfig] = Field(default_factory=list, description="Gate cameras.")
    doors: list[DoorConfig] = Field(default_factory=list, description="Door actuators by gate.")
    on_record_failure: Literal["deny", "open"] = Field(
        default="deny",
        description=(
            "When the event store cannot write a passage: deny (default; the door stays shut) "
            "or open (a granted resident passes unrecorded). Both alarm the hub and fail /healthz."
        ),
    )
    gallery: GalleryConfig = Field(
        default_factory=GalleryConfig, description="Templates, strangers, encryption key."
    )
    http: HttpConfig = Field(default_factory=HttpConfig, description="Local HTTP endpoint.")
    readers: list[LineReaderConfig] = Field(
        default_factory=list, description="Card, QR and PIN readers."
    )
    door_monitor: DoorMonitorConfig = Field(
        default_factory=DoorMonitorConfig,
        description="Held-open and forced-open limits; how often doors may be released.",
    )
    schedules: ScheduleConfig = Field(
        default_factory=ScheduleConfig,
        description="Access windows per gate and per group, in the compound's time zone.",
    )
    duress: DuressConfig = Field(
        default_factory=DuressConfig, description="Duress PINs (open and alarm silently)."
    )
    guard_room: GuardRoomConfig = Field(
        default_factory=GuardRoomConfig, description="The guard-room page and its logins."
    )
    analysis: AnalyserConfig = Field(
        default_factory=AnalyserConfig, description="Occupancy-change signals and thresholds."
    )
    analysis_interval_s: float = Field(
        default=600, ge=1, le=3600, description="How often new events are analysed."
    )
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="Durable outbox.")
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="Retention of local personal data."
    )
    status_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="Heartbeat: how often the status is published."
    )
    health: HealthConfig = Field(
        default_factory=HealthConfig, description="When /healthz reports the agent unhealthy."
    )
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")

    @model_validator(mode="before")
    @classmethod
    def _models_in_data_dir(cls, data: Any) -> Any:
        """Unless the engine names a models folder, it is data_dir/models: the converted dlib
        network is written there at first start, and the service may write nowhere else."""
        if isinstance(data, dict):
            engine = data.get("engine")
            if engine is None or (isinstance(engine, dict) and "models_dir" not in engine):
                folder = Path(str(data.get("data_dir", "/var/lib/gridgate-edge"))) / "models"
                data = {**data, "engine": {**(engine or {}), "models_dir": str(folder)}}
        return data

    @model_validator(mode="after")
    def _doors_and_pages(self) -> EdgeConfig:
        gates = [d.gate for d in self.doors]
        if len(set(gates)) != len(gates):
            raise ValueError("doors: one entry per gate")
        if self.guard_room.enabled and not self.http.enabled:
            raise ValueError("guard_room.enabled needs http.enabled (the page is served there)")
        if self.guard_room.enabled and self.http.token_secret is None and not _loopback(self.http):
            # A guard's browser is on that network: without a token, any page it opens could
            # try the reader endpoints (JSON only and same-origin, but no second lock).
            raise ValueError(
                "http.token_secret: required when guard_room.enabled and http.bind is not "
                "loopback (allow_without_token does not apply with the guard room)"
            )
        return self
        return self

    @model_validator(mode="after")
    def _client_id_default(self) -> EdgeConfig:
        if self.mqtt.client_id is not None and self.mqtt.client_id != self.edge_id:
            raise ValueError("mqtt.client_id must equal edge_id (the broker ACL relies on it)")
        return self
