"""Measuring a face engine on a labelled folder of photos (one sub-folder per identity).

Used by the benches, the calibration command and the accuracy tests, so that all three measure
the same thing: 1:1 verification (TAR at FAR), open-set 1:N identification (FNIR at FPIR), and
track-level fusion of several images of one person.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.config import EngineConfig
from edge_agent.vision.engine import FaceEngine, build_engine
from edge_agent.vision.types import Face, read_image

_LOGGER = logging.getLogger(__name__)

Matrix = NDArray[np.float32]


@dataclass(frozen=True)
class EmbeddedSet:
    labels: NDArray[np.int32]  # identity index per embedded image
    names: list[str]  # identity names
    paths: list[str]  # image path per embedded image
    vectors: Matrix  # one L2-normalised row per embedded image
    images: int  # images tried
    detect_failures: int


# What cv2.imdecode reads (grey and 16-bit images come back as 8-bit BGR through read_image).
IMAGE_SUFFIXES = frozenset(
    [
        ".bmp",
        ".dib",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jp2",
        ".png",
        ".webp",
        ".pbm",
        ".pgm",
        ".ppm",
        ".pxm",
        ".pnm",
        ".pfm",
        ".sr",
        ".ras",
        ".tif",
        ".tiff",
        ".exr",
        ".hdr",
        ".pic",
    ]
)


def list_dataset(root: Path) -> list[tuple[str, Path]]:
    """(identity, image path) for every image OpenCV can read, one sub-folder per identity."""
    items = []
    for person in sorted(p for p in root.iterdir() if p.is_dir()):
        for image in sorted(person.iterdir()):
            if image.is_file() and image.suffix.lower() in IMAGE_SUFFIXES:
                items.append((person.name, image))
    return items


def subject_face(faces: Sequence[Face], width: int, height: int) -> Face | None:
    """The face a portrait is of: the largest near the centre (photos often hold others)."""
    if not faces:
        return None
    cx, cy = width / 2, height / 2

    def rank(face: Face) -> float:
        fx, fy = face.centre
        off = ((fx - cx) ** 2 + (fy - cy) ** 2) ** 0.5 / max(width, height)
        return float(face.width / max(width, height) - 2.0 * off)

    return max(faces, key=rank)


_worker_engine: FaceEngine | None = None


def _init_worker(config_json: str) -> None:
    global _worker_engine
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _worker_engine = build_engine(EngineConfig.model_validate_json(config_json))


def _embed_one(path: str) -> NDArray[np.float32] | None:
    engine = _worker_engine
    if engine is None:
        raise RuntimeError("worker not initialised")
    frame = read_image(Path(path))
    face = subject_face(engine.detect(frame), frame.shape[1], frame.shape[0])
    return None if face is None else engine.embed(frame, face)


def embed_dataset(
    root: Path,
    config: EngineConfig,
    processes: int = 2,
    cache_dir: Path | None = None,
    limit_per_identity: int | None = None,
) -> EmbeddedSet:
    items = list_dataset(root)
    if limit_per_identity is not None:
        counts: dict[str, int] = defaultdict(int)
        kept = []
        for name, path in items:
            if counts[name] < limit_per_identity:
                kept.append((name, path))
                counts[name] += 1
        items = kept
    key = hashlib.sha256(
        (config.model_dump_json() + "\n".join(str(p) for _, p in items)).encode()
    ).hexdigest()[:16]
    cache = cache_dir / f"embeddings-{key}.npz" if cache_dir else None
    if cache is not None and cache.exists():
        data = np.load(cache, allow_pickle=False)
        return EmbeddedSet(
            data["labels"],
            list(data["names"]),
            list(data["paths"]),
            data["vectors"],
            int(data["images"]),
            int(data["failures"]),
        )
    paths = [str(p) for _, p in items]
    if processes > 1:
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(processes, _init_worker, (config.model_dump_json(),)) as pool:
            results = pool.map(_embed_one, paths, chunksize=16)
    else:
        _init_worker(config.model_dump_json())
        results = [_embed_one(p) for p in paths]
    names = sorted({name for name, _ in items})
    index = {name: i for i, name in enumerate(names)}
    labels, kept_paths, vectors = [], [], []
    failures = 0
    for (name, path), vector in zip(items, results, strict=True):
        if vector is None:
            failures += 1
            continue
        labels.append(index[name])
        kept_paths.append(str(path))
        vectors.append(vector)
    result = EmbeddedSet(
        np.array(labels, dtype=np.int32),
        names,
        kept_paths,
        np.stack(vectors).astype(np.float32),
        len(items),
        failures,
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            cache,
            labels=result.labels,
            names=np.array(names),
            paths=np.array(kept_paths),
            vectors=result.vectors,
            images=result.images,
            failures=result.detect_failures,
        )
    return result


# --------------------------------------------------------------------------- 1:1 verification


def pair_scores(data: EmbeddedSet) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Similarity of every genuine pair and every impostor pair (upper triangle)."""
    sims = data.vectors @ data.vectors.T
    upper = np.triu_indices(len(data.labels), k=1)
    same = data.labels[upper[0]] == data.labels[upper[1]]
    scores = sims[upper]
    return scores[same], scores[~same]


def threshold_at_rate(negatives: NDArray[np.floating[Any]], rate: float) -> float:
    """Smallest threshold t with fraction(negatives >= t) <= rate (accept when score >= t)."""
    ordered = np.sort(negatives)[::-1]
    allowed = int(np.floor(rate * len(ordered)))
    if allowed >= len(ordered):
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], np.float32(np.inf)))


def tar_at_far(data: EmbeddedSet, fars: Sequence[float]) -> dict[str, float]:
    genuine, impostor = pair_scores(data)
    return {
        f"{far:.0e}".replace("e-0", "e-"): float(
            np.mean(genuine >= threshold_at_rate(impostor, far))
        )
        for far in fars
    }


# --------------------------------------------------------------------------- open-set 1:N


@dataclass(frozen=True)
class OpenSetScores:
    mated_top: NDArray[np.float32]  # best score over the gallery, per mated probe
    mated_correct: NDArray[np.bool_]  # whether that best was the probe's own identity
    mated_margin: NDArray[np.float32]  # best minus the best other identity
    nonmated_top: NDArray[np.float32]
    nonmated_margin: NDArray[np.float32]


def _gallery_scores(
    gallery: Matrix, gallery_ids: NDArray[np.int32], probes: Matrix
) -> tuple[NDArray[np.float32], NDArray[np.int32], NDArray[np.float32]]:
    """Per probe: best score per identity (max over its templates) -> top, top id, margin."""
    sims = probes @ gallery.T
    ids = np.unique(gallery_ids)
    per_id = np.stack([sims[:, gallery_ids == i].max(axis=1) for i in ids], axis=1)
    order = np.argsort(-per_id, axis=1)
    top = per_id[np.arange(len(probes)), order[:, 0]]
    second = per_id[np.arange(len(probes)), order[:, 1]] if len(ids) > 1 else np.full_like(top, -1)
    return (
        top.astype(np.float32),
        ids[order[:, 0]].astype(np.int32),
        (top - second).astype(np.float32),
    )


@dataclass(frozen=True)
class OpenSetSplit:
    gallery_rows: list[int]
    gallery_ids: list[int]
    probes: list[list[int]]  # rows of each probe (several when fused)
    probe_ids: list[int]
    probe_mated: list[bool]


def open_set_splits(
    data: EmbeddedSet, enrol: int = 3, seeds: Sequence[int] = (0, 1, 2, 3, 4), fuse: int = 1
) -> list[OpenSetSplit]:
    """The random splits of the open-set protocol: half the identities enrolled with ``enrol``
    images each; probes are the rest of that half and all of the other half."""
    splits = []
    identities = np.unique(data.labels)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        shuffled = rng.permutation(identities)
        enrolled = set(shuffled[: len(shuffled) // 2].tolist())
        split = OpenSetSplit([], [], [], [], [])
        for identity in identities:
            rows = rng.permutation(np.flatnonzero(data.labels == identity))
            if identity in enrolled:
                split.gallery_rows.extend(rows[:enrol].tolist())
                split.gallery_ids.extend([int(identity)] * len(rows[:enrol]))
                rest = rows[enrol:]
            else:
                rest = rows
            for start in range(0, len(rest) - fuse + 1, fuse):
                split.probes.append(rest[start : start + fuse].tolist())
                split.probe_ids.append(int(identity))
                split.probe_mated.append(identity in enrolled)
        splits.append(split)
    return splits


def open_set_scores(
    data: EmbeddedSet, enrol: int = 3, seeds: Sequence[int] = (0, 1, 2, 3, 4), fuse: int = 1
) -> OpenSetScores:
    """Enrol ``enrol`` images of each identity in one half; probe with the rest and the other half.

    With ``fuse`` > 1, consecutive probe images of one person are averaged into one probe, the
    way a track fuses several frames.
    """
    mated_top: list[float] = []
    mated_ok: list[bool] = []
    mated_margin: list[float] = []
    non_top: list[float] = []
    non_margin: list[float] = []
    for split in open_set_splits(data, enrol, seeds, fuse):
        probes = []
        for rows in split.probes:
            chunk = data.vectors[rows].mean(axis=0)
            probes.append(chunk / np.linalg.norm(chunk))
        top, top_id, margin = _gallery_scores(
            data.vectors[split.gallery_rows],
            np.array(split.gallery_ids, dtype=np.int32),
            np.stack(probes).astype(np.float32),
        )
        mated = np.array(split.probe_mated)
        truth = np.array(split.probe_ids)
        mated_top += top[mated].tolist()
        mated_ok += (top_id[mated] == truth[mated]).tolist()
        mated_margin += margin[mated].tolist()
        non_top += top[~mated].tolist()
        non_margin += margin[~mated].tolist()
    return OpenSetScores(
        np.array(mated_top, dtype=np.float32),
        np.array(mated_ok),
        np.array(mated_margin, dtype=np.float32),
        np.array(non_top, dtype=np.float32),
        np.array(non_margin, dtype=np.float32),
    )


def fnir_at_fpir(scores: OpenSetScores, fpirs: Sequence[float]) -> dict[str, float]:
    out = {}
    for fpir in fpirs:
        threshold = threshold_at_rate(scores.nonmated_top, fpir)
        hit = scores.mated_correct & (scores.mated_top >= threshold)
        out[f"{fpir:.0e}".replace("e-0", "e-")] = float(1.0 - hit.mean())
    return out


def accept_threshold(scores: OpenSetScores, fpir: float) -> float:
    return threshold_at_rate(scores.nonmated_top, fpir)


def calibrate(scores: OpenSetScores, fpir: float, margin_keep: float = 0.99) -> tuple[float, float]:
    """(accept threshold, margin) for a target FPIR.

    The margin keeps ``margin_keep`` of correctly ranked mated probes; the threshold is then
    the lowest that accepts at most ``fpir`` of non-mated probes that pass the margin.
    """
    correct_margins = np.sort(scores.mated_margin[scores.mated_correct])
    margin = float(correct_margins[int((1.0 - margin_keep) * len(correct_margins))])
    margin = max(0.0, round(margin, 4))
    passing = scores.nonmated_top[scores.nonmated_margin >= margin]
    # Rate over all non-mated probes: those failing the margin are rejected anyway.
    rate = fpir * len(scores.nonmated_top) / max(len(passing), 1)
    threshold = threshold_at_rate(passing, min(rate, 1.0)) if len(passing) else -1.0
    return float(threshold), margin


def open_set_rates(scores: OpenSetScores, accept: float, margin: float) -> tuple[float, float]:
    """(FPIR, FNIR) of the open-set rule: top >= accept and margin >= margin."""
    false_pos = (scores.nonmated_top >= accept) & (scores.nonmated_margin >= margin)
    hits = scores.mated_correct & (scores.mated_top >= accept) & (scores.mated_margin >= margin)
    return float(false_pos.mean()), float(1.0 - hits.mean())
