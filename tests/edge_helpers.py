"""Building edge agents with a real face stack for tests (OpenCV: edge-side tests only; the
wire builders hub-side tests need are in tests/roster_builders.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2

from edge_agent.config import EdgeConfig
from edge_agent.gallery.crypto import generate_key
from edge_agent.runtime import EdgeAgent
from edge_agent.store.rows import Passage
from gridgate_devkit.presets import PRESETS
from gridgate_devkit.sim.gateclip import ClipPlan, render
from gridgate_wire import Decision, PassageDirection, PassageMethod, SubjectKind, utc_now
from tests.brokers import Mosquitto


def edge_config(
    tmp_path: Path,
    broker: Mosquitto | None,
    models_dir: Path | None = None,
    cameras: list[dict[str, Any]] | None = None,
    edge_id: str = "edge-t",
    **extra: Any,
) -> EdgeConfig:
    key = tmp_path / "keys" / "gallery.key"
    if models_dir is not None and not key.exists():
        generate_key(key)
    data: dict[str, Any] = {
        "edge_id": edge_id,
        "compound_id": "c1",
        "data_dir": str(tmp_path / edge_id),
        "mqtt": {"port": broker.port if broker else 1, "reconnect_max_s": 0.5},
        "outbox": {"ack_timeout_s": 2},
        "status_interval_s": 1,
        "http": {"port": 0},
        "face_recognition": models_dir is not None,
        "cameras": cameras or [],
        "doors": [{"gate": "north", "open_s": 3}],
    }
    if models_dir is not None:
        data["engine"] = {**PRESETS["onnx"], "models_dir": str(models_dir)}
        data["gallery"] = {"key_file": str(key)}
    data.update(extra)
    return EdgeConfig.model_validate(data)


def write_clip(plan: ClipPlan, path: Path, seed: int = 0, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (1280, 720))
    for frame, _ in render(plan, seed=seed):
        writer.write(frame)
    writer.release()
    return path


def card_passage(agent: EdgeAgent, n: int, resident_id: str | None = None) -> None:
    """Commit one granted card passage at the north gate (alternating in and out) and wake the
    publisher: what the fault, production and hub tests need from a gate."""
    agent.recorder.record(
        Passage(
            occurred_at=utc_now(),
            gate="north",
            direction=PassageDirection.IN if n % 2 else PassageDirection.OUT,
            method=PassageMethod.CARD,
            subject=SubjectKind.RESIDENT,
            resident_id=resident_id or f"R{n % 20}",
            decision=Decision.GRANT,
        )
    )
