"""Detector budget: speed and recall of the detectors a fresh install can have.

    python bench/detectors.py --json

Options: dlib's HOG (the default) with frames scaled to 640, 480 or 320 pixels wide, and
``yuface`` (libfacedetection's CNN compiled into a BSD-3-Clause wheel; measured only when it
is installed) at 640 and 320. Every option aligns with dlib's 5-point model inside the box it
finds (as the default embedder does), so in-plane rotation is followed whatever the detector.

Figures: median ms per 1280x720 frame with faces; recall on a synthetic gate clip (faces about
150 px and, with ``small``, about 60 px wide); detection rate on lfw-dev photos as they are and
turned by 20 degrees, with the eye line's measured angle; verification TAR at FAR 1e-2 of the
default embedder behind each detector (a subsample of lfw-dev).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
from _common import DEFAULT_DATASET, DEFAULT_MODELS, emit, stamp

from edge_agent.vision import build_engine
from edge_agent.vision.config import DlibHogConfig, EngineConfig
from edge_agent.vision.detectors.base import scaled_for_detection
from edge_agent.vision.detectors.dlib_hog import DlibHogDetector, five_point_predictor
from edge_agent.vision.types import Face, Frame, read_image
from gridgate_devkit.evaluation import EmbeddedSet, list_dataset, subject_face, tar_at_far
from gridgate_devkit.sim.gateclip import plan_clip, render

Detect = Callable[[Frame], list[Face]]


def hog(width: int) -> Detect:
    return DlibHogDetector(DlibHogConfig(max_width=width), Path()).detect


def yuface_detector(width: int) -> Detect | None:
    try:
        import yuface
    except ImportError:
        return None
    predictor, _ = five_point_predictor()
    from edge_agent.vision.detectors.dlib_hog import dlib_points_to_template_order

    def detect(frame: Frame) -> list[Face]:
        small, scale = scaled_for_detection(frame, width)
        confs, raw, _ = yuface.detect(np.ascontiguousarray(small), conf=0.6)
        boxes = raw.astype(np.int32)
        boxes[boxes > 32767] -= 65536  # the wheel returns uint16: boxes past the left edge wrap
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        faces = []
        for conf, (x, y, w, h) in zip(confs, boxes, strict=True):
            x1, y1 = float(x) / scale, float(y) / scale
            x2, y2 = float(x + w) / scale, float(y + h) / scale
            shape = predictor(rgb, dlib.rectangle(round(x1), round(y1), round(x2), round(y2)))
            faces.append(
                Face((x1, y1, x2, y2), dlib_points_to_template_order(shape), float(conf) / 100)
            )
        return faces

    return detect


def clip_figures(detect: Detect, frames: list[tuple[Frame, int]]) -> dict[str, float]:
    found = wanted = extra = 0
    times = []
    for frame, visible in frames:
        start = time.perf_counter()
        faces = detect(frame)
        if visible:
            times.append((time.perf_counter() - start) * 1000)
        found += min(len(faces), visible)
        wanted += visible
        extra += max(0, len(faces) - visible)
    return {
        "ms_per_frame": round(statistics.median(times), 1),
        "recall": round(found / max(wanted, 1), 4),
        "extra_detections": extra,
    }


def rotated(frame: Frame, degrees: float) -> Frame:
    h, w = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REFLECT))


def photo_figures(detect: Detect, photos: list[Frame]) -> dict[str, float]:
    upright = sum(subject_face(detect(p), p.shape[1], p.shape[0]) is not None for p in photos)
    tilted = 0
    angles = []
    for photo in photos:
        plain = subject_face(detect(photo), 250, 250)
        turned = subject_face(detect(rotated(photo, 20)), 250, 250)
        if turned is None:
            continue
        tilted += 1
        if plain is None:
            continue

        def eye_angle(face: Face) -> float:
            (lx, ly), (rx, ry) = face.landmarks[0], face.landmarks[1]
            return math.degrees(math.atan2(ry - ly, rx - lx))

        angles.append(abs(eye_angle(turned) - eye_angle(plain)))
    return {
        "detected": round(upright / len(photos), 4),
        "detected_tilt20": round(tilted / len(photos), 4),
        "eye_line_follows_deg": round(statistics.median(angles), 1) if angles else 0.0,
    }


def verification(detect: Detect, items: list[tuple[int, Path]], models: Path) -> float:
    engine = build_engine(EngineConfig(models_dir=models))
    labels, vectors = [], []
    for label, path in items:
        frame = read_image(path)
        face = subject_face(detect(frame), frame.shape[1], frame.shape[0])
        if face is not None:
            labels.append(label)
            vectors.append(engine.embed(frame, face))
    data = EmbeddedSet(np.array(labels, dtype=np.int32), [], [], np.stack(vectors), len(items), 0)
    return round(tar_at_far(data, (1e-2,))["1e-2"], 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--photos", type=int, default=150)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = list_dataset(args.dataset)
    by_person: dict[str, list[Path]] = {}
    for name, path in items:
        by_person.setdefault(name, []).append(path)
    people = [(n, paths[0]) for n, paths in sorted(by_person.items())[:12]]
    clips = {}
    for label, scale in (("gate", 1.7), ("small", 0.7)):
        plan = plan_clip(people, seed=3, frames_per_passage=8)
        clips[label] = [(frame, len(visible)) for frame, visible in render(plan, 3, scale)]
    photos = [read_image(p) for _, p in items[:: max(1, len(items) // args.photos)]]
    names = sorted(by_person)
    verify = [(names.index(n), p) for n in names for p in by_person[n][:4]]
    options: dict[str, Detect | None] = {
        "hog@640 (default)": hog(640),
        "hog@480": hog(480),
        "hog@320": hog(320),
        "yuface@640": yuface_detector(640),
        "yuface@320": yuface_detector(320),
    }
    rows: list[dict[str, Any]] = []
    for name, detect in options.items():
        if detect is None:
            rows.append({"detector": name, "skipped": "yuface is not installed"})
            continue
        row: dict[str, Any] = {"detector": name}
        for label, frames in clips.items():
            row[label] = clip_figures(detect, frames)
        row["lfw"] = photo_figures(detect, photos)
        row["tar_at_far_1e-2"] = verification(detect, verify, args.models_dir)
        rows.append(row)
    emit({**stamp(), "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
