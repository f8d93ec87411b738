"""Estimating the impostor curve p(t) for track-level open-set decisions.

Protocol (labelled vectors, one identity per label): for each random split, every identity
gets ``templates`` enrolment vectors and its other vectors are fused ``fused`` at a time into
track probes (normalised mean, as ``tracking.fuse`` does). Every probe is compared with every
*other* identity (the best of that identity's templates): that is one impostor comparison, and
p(t) is the fraction of them scoring at least t. Its own identity gives the genuine score.

The 95% upper bound comes from a bootstrap over identities (resampled together as probes and
as enrolled residents, since comparisons that share an identity are not independent). Where
fewer than ``min_count`` comparisons exceed t the curve is extrapolated with a normal tail
fitted to the measured part below p = 1e-2 (the probit of p is close to linear in t there;
checked against held-out measured points in bench/calibrate.py, see docs/GALLERY.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from edge_agent.gallery.thresholds import fpir_of, p_at, threshold_for
from edge_agent.vision.models import ImpostorCurve

Matrix = NDArray[np.float32]
FLOOR = -12.0  # log10 p never goes below this


@dataclass(frozen=True)
class Comparisons:
    grid: NDArray[np.float64]  # ascending thresholds
    exceed: NDArray[np.float64]  # [probe identity, resident identity, grid] counts >= grid
    total: NDArray[np.float64]  # [probe identity, resident identity] comparisons
    genuine: NDArray[np.float32]  # own-identity score of every probe
    templates: int
    fused: int

    @property
    def comparisons(self) -> int:
        return int(self.total.sum())

    def empirical(self, t: float) -> float:
        k = int(np.searchsorted(self.grid, t - 1e-12))
        if k >= len(self.grid):
            return 0.0
        return float(self.exceed[:, :, k].sum() / self.total.sum())

    def fnir(self, t: float) -> float:
        """Share of genuine probes scoring below ``t`` (their own identity's best template)."""
        return float(np.mean(self.genuine < t))


def _normalised(rows: Matrix) -> Matrix:
    out: Matrix = (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)
    return out


def track_comparisons(
    vectors: Matrix,
    labels: NDArray[np.integer],
    templates: int = 3,
    fused: int = 3,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    grid: NDArray[np.float64] | None = None,
    probe_vectors: Matrix | None = None,
) -> Comparisons:
    """All impostor and genuine track comparisons; ``probe_vectors`` (row for row the same
    photos, e.g. degraded copies) are fused into the probes instead of ``vectors``."""
    probe_source = vectors if probe_vectors is None else probe_vectors
    grid = np.round(np.arange(0.80, 1.0 + 1e-9, 0.0025), 4) if grid is None else grid
    identities, counts = np.unique(labels, return_counts=True)
    identities = identities[counts >= templates + fused]
    n = len(identities)
    hist = np.zeros((n, n, len(grid) + 1))
    genuine: list[NDArray[np.float32]] = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        enrolled, probes, owner = [], [], []
        for index, identity in enumerate(identities):
            rows = rng.permutation(np.flatnonzero(labels == identity))
            enrolled.append(vectors[rows[:templates]])
            rest = rows[templates:]
            for start in range(0, len(rest) - fused + 1, fused):
                probes.append(probe_source[rest[start : start + fused]].mean(axis=0))
                owner.append(index)
        gallery = np.concatenate(enrolled)
        probe = _normalised(np.stack(probes))
        who = np.array(owner)
        best = (probe @ gallery.T).reshape(len(probe), n, templates).max(axis=2)
        genuine.append(best[np.arange(len(probe)), who])
        # Impostor comparisons, binned by how many grid thresholds each one reaches.
        bins = np.searchsorted(grid, best, side="right")
        pair = who[:, None] * n + np.arange(n)[None, :]
        keep = who[:, None] != np.arange(n)[None, :]
        np.add.at(hist.reshape(n * n, -1), (pair[keep], bins[keep]), 1)
    # exceed[..., k] = comparisons reaching grid[k] or more = those in bins k+1 and above.
    exceed = np.cumsum(hist[:, :, ::-1], axis=2)[:, :, ::-1][:, :, 1:]
    return Comparisons(grid, exceed, hist.sum(axis=2), np.concatenate(genuine), templates, fused)


def _z(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normal quantile of the upper tail: p = P(Z >= z)."""
    dist = NormalDist()
    return np.array([dist.inv_cdf(1.0 - float(v)) for v in p])


def _log10_tail(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.log10(np.maximum([0.5 * math.erfc(float(v) / math.sqrt(2)) for v in z], 1e-300))


def _curve(
    exceed: NDArray[np.float64],
    total: float,
    grid: NDArray[np.float64],
    min_count: float,
    fit_from: float,
) -> NDArray[np.float64]:
    """log10 p over the grid: measured while >= ``min_count`` comparisons exceed; beyond, a
    normal tail fitted (probit-linear in t) to the measured points with p <= ``fit_from``."""
    p = exceed / total
    with np.errstate(divide="ignore"):
        logp = np.log10(p)
    measured = exceed >= min_count
    fit = np.flatnonzero(measured & (p <= fit_from))
    last = int(np.flatnonzero(measured)[-1]) if measured.any() else 0
    if len(fit) >= 2:
        slope, intercept = np.polyfit(grid[fit], _z(p[fit]), 1)
        if slope > 0:
            logp[last + 1 :] = _log10_tail(intercept + slope * grid[last + 1 :])
    logp = np.nan_to_num(logp, neginf=FLOOR)
    return np.maximum(np.minimum.accumulate(logp), FLOOR)


@dataclass(frozen=True)
class CurveEstimate:
    curve: ImpostorCurve  # point estimate, with the upper bound in log10_p_upper
    upper: ImpostorCurve  # the upper bound as a curve of its own
    boots: int


def impostor_curve(
    comparisons: Comparisons,
    boots: int = 200,
    level: float = 0.95,
    min_count: float = 30,
    fit_from: float = 1e-2,
    seed: int = 7,
) -> CurveEstimate:
    c = comparisons
    n = c.exceed.shape[0]
    point = _curve(c.exceed.sum(axis=(0, 1)), float(c.total.sum()), c.grid, min_count, fit_from)
    rng = np.random.default_rng(seed)
    samples = np.empty((boots, len(c.grid)))
    flat = c.exceed.reshape(n, n * len(c.grid))
    for b in range(boots):
        w = rng.multinomial(n, np.full(n, 1.0 / n)).astype(np.float64)
        exceed = (w @ flat).reshape(n, len(c.grid)).T @ w
        total = float(w @ c.total @ w)
        samples[b] = _curve(exceed, total, c.grid, min_count, fit_from)
    upper = np.maximum(np.quantile(samples, level, axis=0), point)
    upper = np.maximum.accumulate(upper[::-1])[::-1]  # keep it non-increasing
    upper = np.minimum.accumulate(upper)

    def model(values: NDArray[np.float64], bound: NDArray[np.float64] | None) -> ImpostorCurve:
        return ImpostorCurve(
            scores=[round(float(t), 4) for t in c.grid],
            log10_p=[round(float(v), 3) for v in values],
            log10_p_upper=None if bound is None else [round(float(v), 3) for v in bound],
            templates=c.templates,
            fused=c.fused,
            comparisons=c.comparisons,
        )

    return CurveEstimate(model(point, upper), model(upper, None), boots)


def gallery_size_table(
    estimate: CurveEstimate,
    comparisons: Comparisons,
    sizes: Sequence[int],
    fpir: float,
    fixed: float,
) -> list[dict[str, float]]:
    """Per gallery size: the threshold for ``fpir`` (point estimate and from the upper bound),
    the FNIR of genuine tracks there, and the FPIR the fixed threshold ``fixed`` gives."""
    rows = []
    for size in sizes:
        strict = threshold_for(estimate.upper, size, fpir)
        point = threshold_for(estimate.curve, size, fpir)
        rows.append(
            {
                "residents": size,
                "threshold": round(strict, 4),
                "threshold_point": round(point, 4),
                "fnir": comparisons.fnir(strict),
                "fnir_point": comparisons.fnir(point),
                "fpir_at_fixed": fpir_of(p_at(estimate.curve, fixed), size),
                "fpir_at_fixed_upper": fpir_of(p_at(estimate.upper, fixed), size),
            }
        )
    return rows
