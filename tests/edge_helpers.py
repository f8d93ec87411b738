"""Building edge agents with a real face stack for tests."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2

from edge_agent.config import EdgeConfig
from edge_agent.gallery.crypto import generate_key
from edge_agent.runtime import EdgeAgent
from gridgate_devkit.presets import PRESETS
from gridgate_devkit.sim.gateclip import ClipPlan, render
from gridgate_wire import (
    CredentialKind,
    EnrolmentInvitation,
    RosterConsent,
    RosterCredential,
    RosterResident,
    RosterUpdate,
    new_fields,
    utc_now,
)
from tests.brokers import Mosquitto


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


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


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def resident(
    resident_id: str,
    house_id: str,
    *,
    consent: bool = True,
    gates: list[str] | None = None,
    card: str | None = None,
    pin: str | None = None,
    care: bool = False,
) -> RosterResident:
    credentials = []
    if card:
        credentials.append(RosterCredential(kind=CredentialKind.CARD, secret_sha256=sha(card)))
    if pin:
        credentials.append(RosterCredential(kind=CredentialKind.PIN, secret_sha256=sha(pin)))
    return RosterResident(
        resident_id=resident_id,
        house_id=house_id,
        face_consent=(
            RosterConsent(consent_id=f"C-{resident_id}", version="2026.1", granted_at=utc_now())
            if consent
            else None
        ),
        gates=gates,
        credentials=credentials,
        care_recipient=care,
    )


def roster(
    edge_id: str,
    version: int,
    residents: list[RosterResident],
    removed: list[str] | None = None,
    base: int | None = None,
) -> RosterUpdate:
    return RosterUpdate(
        **new_fields(),
        edge_id=edge_id,
        roster_version=version,
        base_version=base,
        residents=residents,
        removed=removed or [],
    )


def invitation(edge_id: str, resident_id: str, code: str, days: float = 1) -> EnrolmentInvitation:
    return EnrolmentInvitation(
        **new_fields(),
        edge_id=edge_id,
        resident_id=resident_id,
        consent_id=f"C-{resident_id}",
        code_sha256=sha(code),
        expires_at=utc_now() + timedelta(days=days),
    )


def card_passage(agent: EdgeAgent, n: int, resident_id: str | None = None) -> None:
    """Commit one granted card passage at the north gate (alternating in and out) and wake the
    publisher: what the fault, production and hub tests need from a gate."""
    agent.store.append_event(
        occurred_at=utc_now(),
        gate="north",
        direction="in" if n % 2 else "out",
        method="card",
        subject="resident",
        resident_id=resident_id or f"R{n % 20}",
        decision="grant",
    )
    agent.publisher.notify()
