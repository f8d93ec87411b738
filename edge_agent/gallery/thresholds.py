"""Open-set thresholds that follow the gallery's size.

A stranger is falsely accepted when their track beats the threshold against at least one of N
enrolled residents. With p(t) the chance that it beats one resident (the impostor curve,
measured by ``bench/calibrate.py``), and comparisons taken as independent:

    FPIR(N, t) = 1 - (1 - p(t)) ** N          (about N * p(t) while that is small)

so holding FPIR at a target needs p(t) <= 1 - (1 - FPIR) ** (1 / N): the threshold rises
with the number of residents. The curve's point estimate is used unless the engine is set to
``strict_thresholds`` (the 95% upper bound of p: stricter, more residents rejected).
"""

from __future__ import annotations

import logging
import math

from edge_agent.vision.models import ImpostorCurve, Thresholds

_LOGGER = logging.getLogger(__name__)


def fpir_of(p: float, residents: int) -> float:
    """Open-set false-positive identification rate at per-resident false-match chance ``p``."""
    if p <= 0:
        return 0.0
    return -math.expm1(residents * math.log1p(-min(p, 1 - 1e-16)))


def p_for(fpir: float, residents: int) -> float:
    """Per-resident false-match chance that gives ``fpir`` over ``residents``."""
    return -math.expm1(math.log1p(-fpir) / max(residents, 1))


def p_at(curve: ImpostorCurve, score: float) -> float:
    """p(score), interpolated linearly in log10 p; beyond the last point the last slope."""
    xs, ys = curve.scores, curve.log10_p
    if score <= xs[0]:
        return float(10 ** ys[0])
    for i in range(1, len(xs)):
        if score <= xs[i]:
            f = (score - xs[i - 1]) / (xs[i] - xs[i - 1])
            return float(10 ** (ys[i - 1] + f * (ys[i] - ys[i - 1])))
    slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    return float(10 ** (ys[-1] + slope * (score - xs[-1])))


def threshold_for(curve: ImpostorCurve, residents: int, fpir: float) -> float:
    """Lowest threshold whose FPIR over ``residents`` is at most ``fpir``."""
    target = math.log10(p_for(fpir, residents))
    xs, ys = curve.scores, curve.log10_p
    if target >= ys[0]:
        return xs[0]
    for i in range(1, len(xs)):
        if target >= ys[i]:
            if ys[i] == ys[i - 1]:
                return xs[i]
            f = (ys[i - 1] - target) / (ys[i - 1] - ys[i])
            return xs[i - 1] + f * (xs[i] - xs[i - 1])
    slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    if slope >= 0:
        return xs[-1]
    return min(1.0, xs[-1] + (target - ys[-1]) / slope)


def accept_for(thresholds: Thresholds, residents: int) -> float:
    """The accept threshold for a gallery of ``residents`` at the target FPIR.

    Without a curve, the fixed ``accept``; with one, the curve's threshold for this size.
    """
    if thresholds.impostor is None:
        return thresholds.accept
    return round(threshold_for(thresholds.impostor, max(residents, 1), thresholds.fpir), 6)
