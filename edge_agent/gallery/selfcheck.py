"""``gridgate-edge calibrate``: check the impostor curve against this compound's own people.

The manifest's curve was measured on lfw-dev; a compound's residents are other people, photographed
at its own kiosk. This re-estimates, from what the edge holds:

- impostor comparisons: each resident's fused templates (their normalised mean, as a track is
  fused) against every *other* resident's best template, and each stranger cluster's centroid
  against every resident: p at the threshold the edge uses now, with a 95% upper bound;
- genuine comparisons: each template against the same resident's other templates (a single
  image, so a pessimistic stand-in for a fused track): the share below the threshold.

The report says whether the compound's p is above the curve's (the threshold is too loose for
these people) and what FPIR that gives at the gallery's size. It changes nothing: the operator
decides (``engine.target_fpir`` / ``engine.strict_thresholds``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge_agent.gallery.gallery import Gallery
from edge_agent.gallery.thresholds import accept_for, fpir_of, p_at
from edge_agent.vision.models import Thresholds

Matrix = NDArray[np.float32]


def poisson_upper(count: int, trials: int, z: float = 1.645) -> float:
    """One-sided 95% upper bound of a rate seen ``count`` times in ``trials`` (Wilson score)."""
    if trials <= 0:
        return 1.0
    p = count / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return min(1.0, (centre + spread) / (1 + z * z / trials))


@dataclass(frozen=True)
class SelfCheck:
    residents: int
    strangers: int
    threshold: float
    target_fpir: float
    impostor_comparisons: int
    impostor_above: int
    p_measured: float
    p_upper: float
    p_curve: float | None
    fpir_measured: float
    fpir_upper: float
    genuine_comparisons: int
    genuine_below: float
    highest_impostor: float
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unit(rows: Matrix) -> Matrix:
    out: Matrix = (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)
    return out


def self_check(
    gallery: Gallery, stranger_centroids: Sequence[Matrix], thresholds: Thresholds
) -> SelfCheck:
    residents = sorted(gallery.resident_ids())
    n = len(residents)
    threshold = accept_for(thresholds, max(n, 1))
    templates = [np.stack(gallery.template_vectors(r)) for r in residents]
    owner: NDArray[np.int64] = np.concatenate(
        [np.full(len(t), i, dtype=np.int64) for i, t in enumerate(templates)]
        or [np.zeros(0, np.int64)]
    )
    everything = np.concatenate(templates) if n else np.zeros((0, 1), np.float32)
    impostor: list[NDArray[np.float32]] = []
    genuine: list[float] = []
    probes = [_unit(t.mean(axis=0)) for t in templates]
    probes += [_unit(np.asarray(c, dtype=np.float32)) for c in stranger_centroids]
    for index, probe in enumerate(probes):
        if not n:
            break
        sims = everything @ probe
        best = np.full(n, -1.0, dtype=np.float32)
        np.maximum.at(best, owner, sims)
        if index < n:
            best = np.delete(best, index)
        impostor.append(best)
    for t in templates:
        sims = t @ t.T
        for row in range(len(t)):
            others = np.delete(sims[row], row)
            if len(others):
                genuine.append(float(others.max()))
    scores = np.concatenate(impostor) if impostor else np.zeros(0, dtype=np.float32)
    above = int(np.sum(scores >= threshold))
    p = above / max(len(scores), 1)
    upper = poisson_upper(above, len(scores))
    curve = None if thresholds.impostor is None else p_at(thresholds.impostor, threshold)
    if not len(scores):
        verdict = "too few residents to check"
    elif curve is not None and upper < curve:
        verdict = "below the curve: the threshold holds for these people"
    elif curve is not None and p > curve:
        verdict = (
            "ABOVE the curve: these people resemble each other more than lfw-dev's; "
            "consider strict_thresholds or a lower target_fpir"
        )
    else:
        verdict = "consistent with the curve (too few comparisons to tell more)"
    return SelfCheck(
        residents=n,
        strangers=len(stranger_centroids),
        threshold=round(threshold, 4),
        target_fpir=thresholds.fpir,
        impostor_comparisons=len(scores),
        impostor_above=above,
        p_measured=p,
        p_upper=upper,
        p_curve=curve,
        fpir_measured=fpir_of(p, n),
        fpir_upper=fpir_of(upper, n),
        genuine_comparisons=len(genuine),
        genuine_below=float(np.mean(np.array(genuine) < threshold)) if genuine else 0.0,
        highest_impostor=float(scores.max()) if len(scores) else -1.0,
        verdict=verdict,
    )


def run_self_check(config_path: Any, report: Any) -> int:
    """``gridgate-edge calibrate``: load the edge's stores, check, print and write the report."""
    import json
    import sys

    from edge_agent.config import EdgeConfig
    from edge_agent.gallery.crypto import load_key
    from edge_agent.gallery.errors import GalleryError
    from edge_agent.gallery.persist import StoreFiles
    from edge_agent.vision import build_engine
    from edge_agent.vision.errors import VisionError
    from gridgate_core.cli import load_or_report

    config = load_or_report(config_path, EdgeConfig)
    if config is None:
        return 2
    try:
        engine = build_engine(config.engine)
        thresholds = engine.embedder.thresholds
        if thresholds is None:
            problem = f"{engine.info.embedder} has no thresholds"
            print(f"gridgate-edge calibrate: {problem}", file=sys.stderr)  # noqa: T201
            return 2
        key = load_key(config.gallery.key_file, config.gallery.key_credential)
        stores = StoreFiles(config.data_dir / "gallery", key).load(
            engine.info.dimension, engine.info.name, thresholds.accept, config.gallery.index
        )
    except (VisionError, GalleryError) as exc:
        print(f"gridgate-edge calibrate: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    _, arrays = stores.strangers.export()
    result = self_check(stores.gallery, list(arrays["centroids"]), thresholds).as_dict()
    result["engine"] = engine.info.name
    text = json.dumps(result, indent=2)
    print(text)  # noqa: T201
    if report is not None:
        report.write_text(text + "\n", encoding="utf-8")
    return 0
