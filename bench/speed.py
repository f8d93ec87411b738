"""Speed of the face engine per stage, and of the whole pipeline against the naive loop.

    python bench/speed.py --dataset ../shared/datasets/lfw-dev --engine default --json

Stages (median ms): detect at 640x480 and 1280x720, landmarks, align, embed, batch embed.
Pipeline: sustained frames/s on a synthetic 720p gate clip built from the dataset, side by side
in the same run with the naive loop most hobby projects use (dlib HOG upsample 1 on the full
frame, then a dlib descriptor for every face in every frame), and the share of correct identity
decisions of each (per frame for the naive loop, per track for the pipeline).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
from _common import DEFAULT_DATASET, DEFAULT_MODELS, emit, stamp

from edge_agent.gallery.thresholds import accept_for
from edge_agent.vision import build_engine
from edge_agent.vision.align import align_face
from edge_agent.vision.detectors.dlib_hog import five_point_predictor
from edge_agent.vision.engine import FaceEngine
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.pipeline import FacePipeline
from edge_agent.vision.types import Frame, read_image
from gridgate_devkit.evaluation import list_dataset, subject_face
from gridgate_devkit.presets import PRESETS, preset_config
from gridgate_devkit.sim.gateclip import plan_clip, render


def median_ms(fn: Any, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def pick_people(
    dataset: Path, count: int, seed: int
) -> tuple[list[tuple[str, Path]], dict[str, list[Path]]]:
    """Clip faces (one photo each) and other photos of the same people for enrolment."""
    by_person: dict[str, list[Path]] = {}
    for name, path in list_dataset(dataset):
        by_person.setdefault(name, []).append(path)
    rng = np.random.default_rng(seed)
    names = sorted(n for n, paths in by_person.items() if len(paths) >= 5)
    chosen = [names[i] for i in rng.choice(len(names), size=count, replace=False)]
    clip = [(n, by_person[n][0]) for n in chosen]
    enrol = {n: by_person[n][1:4] for n in chosen}
    return clip, enrol


def gallery_for(engine: FaceEngine, enrol: dict[str, list[Path]]) -> tuple[np.ndarray, list[str]]:
    rows, names = [], []
    for name, paths in enrol.items():
        for path in paths:
            frame = read_image(path)
            face = subject_face(engine.detect(frame), frame.shape[1], frame.shape[0])
            if face is not None:
                rows.append(engine.embed(frame, face))
                names.append(name)
    return np.stack(rows), names


def identify(
    vector: np.ndarray, gallery: np.ndarray, names: list[str], threshold: float
) -> str | None:
    sims = gallery @ vector
    best = int(np.argmax(sims))
    return names[best] if sims[best] >= threshold else None


def stage_times(engine: FaceEngine, sample: Frame, repeat: int) -> dict[str, float]:
    vga = cv2.resize(sample, (640, 480))
    hd = cv2.resize(sample, (1280, 720))
    face = subject_face(engine.detect(sample), sample.shape[1], sample.shape[0])
    if face is None:
        raise SystemExit("no face in the sample image")
    predictor, _ = five_point_predictor()
    rgb = cv2.cvtColor(sample, cv2.COLOR_BGR2RGB)
    rect = dlib.rectangle(*(round(v) for v in face.box))
    return {
        "detect_640x480": median_ms(lambda: engine.detect(vga), repeat),
        "detect_1280x720": median_ms(lambda: engine.detect(hd), repeat),
        "landmarks_dlib5": median_ms(lambda: predictor(rgb, rect), repeat),
        "align_112": median_ms(lambda: align_face(sample, face.landmarks, 112), repeat),
        "embed": median_ms(lambda: engine.embed(sample, face), repeat),
        "batch_embed_per_face": round(
            median_ms(lambda: engine.embed_many(sample, [face] * 4), max(3, repeat // 4)) / 4, 2
        ),
    }


class NaiveLoop:
    """HOG upsample 1 on the full frame, a descriptor for every face, every frame."""

    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.predictor, _ = five_point_predictor()
        spec = load_manifest().by_name("dlib_resnet_v1")
        self.net = dlib.face_recognition_model_v1(str(locate(spec, Path())))

    def __call__(self, frame: Frame) -> list[np.ndarray]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        out = []
        for rect in self.detector(rgb, 1):
            d = np.array(self.net.compute_face_descriptor(rgb, self.predictor(rgb, rect)))
            out.append((d / np.linalg.norm(d)).astype(np.float32))
        return out


def run_clip(args: argparse.Namespace, engine_name: str) -> dict[str, Any]:
    engine = build_engine(preset_config(engine_name, args.models_dir))
    clip_people, enrol = pick_people(args.dataset, args.people, args.seed)
    plan = plan_clip(clip_people, seed=args.seed)
    frames = list(render(plan, seed=args.seed))
    gallery, names = gallery_for(engine, enrol)
    threshold = args.threshold
    if threshold is None:  # what the edge uses for a gallery of this many residents
        thresholds = engine.embedder.thresholds
        threshold = accept_for(thresholds, len(set(names))) if thresholds else 0.5

    pipeline = FacePipeline(engine)
    decisions: list[tuple[int, str | None]] = []
    start = time.perf_counter()
    for index, (frame, _) in enumerate(frames):
        for d in pipeline.process(frame, index):
            decisions.append((d.first_frame, identify(d.embedding, gallery, names, threshold)))
    for d in pipeline.flush():
        decisions.append((d.first_frame, identify(d.embedding, gallery, names, threshold)))
    pipeline_s = time.perf_counter() - start
    truth_by_start = Counter(p.identity for p in plan.passages)
    decided = Counter(name for _, name in decisions if name is not None)
    pipeline_correct = sum(min(decided[n], c) for n, c in truth_by_start.items())

    result: dict[str, Any] = {
        "engine": engine_name,
        "clip_frames": len(frames),
        "passages": len(plan.passages),
        "threshold": round(float(threshold), 4),
        "pipeline_fps": round(len(frames) / pipeline_s, 2),
        "pipeline_tracks_decided": len(decisions),
        "pipeline_correct_decisions": pipeline_correct,
        "pipeline_decision_accuracy": round(pipeline_correct / len(plan.passages), 4),
        "pipeline_embeddings": pipeline.embeddings,
        "pipeline_frames_skipped_quiet": pipeline.skipped,
    }
    if args.naive:
        naive = NaiveLoop()
        dlib_gallery, dlib_names = gallery_for(
            build_engine(preset_config("dlib", args.models_dir)), enrol
        )
        dlib_threshold = args.naive_threshold
        naive_frames = frames[: args.naive_frames] if args.naive_frames else frames
        right = wrong = faces_seen = 0
        start = time.perf_counter()
        for frame, visible in naive_frames:
            truth = {p.identity for p in visible}
            for vector in naive(frame):
                faces_seen += 1
                who = identify(vector, dlib_gallery, dlib_names, dlib_threshold)
                right += who in truth
                wrong += who is not None and who not in truth
        naive_s = time.perf_counter() - start
        visible_faces = sum(len(v) for _, v in naive_frames)
        result.update(
            {
                "naive_frames_timed": len(naive_frames),
                "naive_fps": round(len(naive_frames) / naive_s, 2),
                "naive_per_frame_accuracy": round(right / max(visible_faces, 1), 4),
                "naive_wrong_identities": wrong,
                "speedup": round((len(frames) / pipeline_s) / (len(naive_frames) / naive_s), 2),
            }
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--engine", action="append", choices=sorted(PRESETS))
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--people", type=int, default=12, help="passages in the clip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--naive-threshold", type=float, default=0.93)
    parser.add_argument(
        "--naive-frames", type=int, default=0, help="time the naive loop on N frames"
    )
    parser.add_argument("--no-naive", dest="naive", action="store_false")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.dataset.is_dir():
        print(f"dataset {args.dataset} not found", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    rows = []
    sample = read_image(list_dataset(args.dataset)[0][1])
    for name in args.engine or ["default", "onnx"]:
        engine = build_engine(preset_config(name, args.models_dir))
        row = {"engine": name, "stages_ms": stage_times(engine, sample, args.repeat)}
        row.update(run_clip(args, name))
        rows.append(row)
        args.naive = False  # the naive loop is engine-independent: time it once
    result: dict[str, Any] = {**stamp(), "engines": rows}
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
