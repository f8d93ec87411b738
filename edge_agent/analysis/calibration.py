"""Alert confidence: the evidence strength mapped to the chance the change is real.

A logistic model per kind, ``p = 1 / (1 + exp(-(a + b * score + sum(c_i * flag_i))))``, fitted
by ``python bench/occupancy.py --calibrate`` on simulator seeds that the evaluation never uses
(field profile), and checked by the reliability table in docs/BENCHMARKS.md. ``score`` is the
analyser's raw strength (for absences ``-log10`` of the chance of so long an absence under the
person's own rate, plus a bonus for a decline; for strangers nights and days seen); the flags are
per kind (see :data:`FLAGS`).
"""

from __future__ import annotations

import math

from gridgate_wire import AlertKind

FLAGS: dict[AlertKind, tuple[str, ...]] = {
    AlertKind.MOVE_OUT: ("declined", "holiday"),
    AlertKind.VACANCY: ("declined", "holiday"),
    AlertKind.WELFARE_CHECK: ("went_out", "household_together"),
    AlertKind.NEW_OCCUPANT: ("house_named",),
}

# kind -> (a, b, flag coefficients); written by bench/occupancy.py --calibrate
COEFFICIENTS: dict[AlertKind, tuple[float, float, tuple[float, ...]]] = {
    # bench/occupancy.py --profile field --seeds 1 2 3 --calibrate, 2026-12-01
    AlertKind.MOVE_OUT: (-2.562, 0.461, (2.531, 1.943)),
    AlertKind.VACANCY: (1.498, -0.106, (-0.034, -0.443)),
    AlertKind.WELFARE_CHECK: (0.059, -0.05, (-0.938, -1.779)),
    AlertKind.NEW_OCCUPANT: (-3.329, 0.087, (2.684,)),
}


def calibrated(kind: AlertKind, score: float, flags: tuple[bool, ...]) -> float:
    a, b, cs = COEFFICIENTS[kind]
    z = a + b * score + sum(c for c, on in zip(cs, flags, strict=False) if on)
    return round(min(0.99, max(0.01, 1 / (1 + math.exp(-max(-30.0, min(30.0, z)))))), 3)
