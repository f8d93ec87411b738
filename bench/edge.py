"""Edge agent under load: decision latency and sustained frames/s per camera count and engine,
and how fast the outbox drains a 100,000-event backlog to a hub that acknowledges.

    python bench/edge.py --json

Cameras are looping 720p video files paced in real time at --fps (as a live camera would be),
each showing a stream of people from the dataset. Latency is measured from the moment the
frame in which a face first appeared was read to the moment the gate decision was recorded.
Frames dropped by a camera's bounded queue show whether analysis keeps up. Most people in each
clip are enrolled residents (enrolled from other photos of them); latency is reported for
residents (the person waiting for the door) and separately for unknown faces.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import DEFAULT_DATASET, DEFAULT_MODELS, emit, stamp

from edge_agent.config import EdgeConfig
from edge_agent.gallery.crypto import generate_key
from edge_agent.gallery.errors import EnrolmentRefused
from edge_agent.runtime import EdgeAgent
from edge_agent.store.rows import Passage
from edge_agent.vision.types import read_image
from gridgate_devkit.evaluation import list_dataset
from gridgate_devkit.localbroker import LocalMosquitto
from gridgate_devkit.presets import PRESETS
from gridgate_devkit.sim.gateclip import plan_clip, render
from gridgate_wire import (
    Decision,
    PassageDirection,
    PassageMethod,
    RosterConsent,
    RosterResident,
    RosterUpdate,
    SubjectKind,
    new_fields,
    utc_now,
)
from hub.config import HubConfig
from hub.runtime import HubService


def clip_people(
    dataset: Path, seed: int, people: int = 10
) -> tuple[list[str], dict[str, list[Path]]]:
    by_person: dict[str, list[Path]] = {}
    for name, p in list_dataset(dataset):
        by_person.setdefault(name, []).append(p)
    rng = np.random.default_rng(seed)
    names = sorted(n for n, paths in by_person.items() if len(paths) >= 6)
    return [names[i] for i in rng.choice(len(names), people, replace=False)], by_person


def make_clip(dataset: Path, path: Path, seed: int, people: int = 10) -> None:
    chosen, by_person = clip_people(dataset, seed, people)
    plan = plan_clip([(n, by_person[n][0]) for n in chosen], seed=seed, idle_frames=10)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (1280, 720))
    for frame, _ in render(plan, seed=seed):
        writer.write(frame)
    writer.release()


def camera_run(args: argparse.Namespace, engine: str, cameras: int, work: Path) -> dict[str, Any]:
    key = work / f"key-{uuid.uuid4().hex[:6]}"
    generate_key(key)
    cams = []
    for i in range(cameras):
        clip = work / f"clip{i}.avi"
        if not clip.exists():
            make_clip(args.dataset, clip, seed=i)
        cams.append(
            {
                "camera_id": f"cam{i}",
                "source": str(clip),
                "gate": f"g{i}",
                "loop": True,
                "realtime": True,
                "fps_cap": args.fps,
            }
        )
    config = EdgeConfig.model_validate(
        {
            "edge_id": "bench",
            "compound_id": "c",
            "data_dir": str(work / f"edge-{engine}-{cameras}"),
            "mqtt": {"port": 1},
            "http": {"enabled": False},
            "engine": {**PRESETS[engine], "models_dir": str(args.models_dir)},
            "gallery": {"key_file": str(key)},
            "cameras": cams,
        }
    )
    agent = EdgeAgent(config)
    if agent.face is None:
        raise SystemExit(f"face stack unavailable: {agent.face_problem}")
    # Most people in each clip are enrolled residents (other photos of them); two are strangers.
    residents = []
    for i in range(cameras):
        chosen, by_person = clip_people(args.dataset, seed=i)
        for name in chosen[:-2]:
            frames = [read_image(p) for p in by_person[name][1:6]]
            try:
                agent.face.enroller.enrol(f"R-{name}", "H", f"C-{name}", frames)
            except EnrolmentRefused:
                continue
            residents.append(
                RosterResident(
                    resident_id=f"R-{name}",
                    house_id="H",
                    face_consent=RosterConsent(
                        consent_id=f"C-{name}", version="1", granted_at=utc_now()
                    ),
                )
            )
    agent.handle_command(
        RosterUpdate(**new_fields(), edge_id="bench", roster_version=1, residents=residents)
    )
    agent.start()
    time.sleep(args.warmup)
    start_frames = {c: w.frames for c, w in agent.workers.items()}
    start_drops = {c: s.frames_dropped for c, s in agent.sources.items()}
    start_outcomes = {c: len(w.outcomes) for c, w in agent.workers.items()}
    began = time.monotonic()
    time.sleep(args.seconds)
    elapsed = time.monotonic() - began
    fps = [(w.frames - start_frames[c]) / elapsed for c, w in agent.workers.items()]
    drops = [s.frames_dropped - start_drops[c] for c, s in agent.sources.items()]
    outcomes = [o for c, w in agent.workers.items() for o in w.outcomes[start_outcomes[c] :]]
    latencies = sorted(o.latency_s * 1000 for o in outcomes if o.event.subject.value == "resident")
    unknown = sorted(o.latency_s * 1000 for o in outcomes if o.event.subject.value != "resident")
    agent.stop()
    return {
        "engine": engine,
        "cameras": cameras,
        "target_fps_per_camera": args.fps,
        "fps_per_camera": [round(f, 2) for f in fps],
        "frames_dropped": drops,
        "resident_decisions": len(latencies),
        "latency_median_ms": _pct(latencies, 0.5),
        "latency_p95_ms": _pct(latencies, 0.95),
        "unknown_face_decisions": len(unknown),
        "unknown_latency_median_ms": _pct(unknown, 0.5),
        "unknown_latency_p95_ms": _pct(unknown, 0.95),
    }


def _pct(values: list[float], q: float) -> float | None:
    return round(values[int(q * (len(values) - 1))], 1) if values else None


def drain_run(events: int, work: Path) -> dict[str, Any]:
    broker = LocalMosquitto(work / "broker")
    broker.start()
    try:
        config = EdgeConfig.model_validate(
            {
                "edge_id": "drain",
                "compound_id": "c",
                "data_dir": str(work / "drain"),
                "mqtt": {"port": broker.port},
                "http": {"enabled": False},
                "face_recognition": False,
                "outbox": {"max_inflight": 2000},
            }
        )
        agent = EdgeAgent(config)
        passage = Passage(
            occurred_at=utc_now(),
            gate="g",
            direction=PassageDirection.IN,
            method=PassageMethod.CARD,
            subject=SubjectKind.RESIDENT,
            resident_id="R1",
            decision=Decision.GRANT,
        )
        filled = time.monotonic()
        for _ in range(events):
            agent.store.append_passage(passage)
        fill_s = time.monotonic() - filled
        hub = HubService(
            HubConfig.model_validate(
                {
                    "api": {"enabled": False},
                    "instance_id": f"hub-{uuid.uuid4().hex[:6]}",
                    "database": {"url": f"sqlite:///{work}/hub.sqlite3"},
                    "mqtt": {"port": broker.port},
                    "ingest": {"batch_max": 2000, "unregistered_edges": "accept_events"},
                }
            )
        )
        hub.start()
        hub.link.wait_connected(10)
        began = time.monotonic()
        agent.start()
        while agent.store.outbox_depth() > 0 and time.monotonic() - began < 600:
            time.sleep(0.2)
        drain_s = time.monotonic() - began
        left = agent.store.outbox_depth()
        agent.stop()
        hub.stop()
    finally:
        broker.stop()
    return {
        "backlog": events,
        "commit_rate_per_s": round(events / fill_s),
        "drain_s": round(drain_s, 1),
        "drain_rate_per_s": round((events - left) / drain_s),
        "left_in_outbox": left,
        "hub": "one process, SQLite, batches of up to 2000",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--engine", action="append", choices=sorted(PRESETS))
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.dataset.is_dir():
        print(f"dataset {args.dataset} not found", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for engine in args.engine or ["default", "onnx"]:
            for count in args.cameras:
                rows.append(camera_run(args, engine, count, work))
        drain = drain_run(args.backlog, work) if args.backlog else None
    emit({**stamp(), "cameras": rows, "outbox_drain": drain}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
