"""The visit loop in simulation: alerts become visits, outcomes come back as the hub sends them.

A grid worker visits each alert a day or two later (a welfare check within hours). At a real
change nobody may be home (``nobody_home``: revisit as the hub schedules it); otherwise the change
is confirmed and the registry follows it (a resident who moved out leaves the roster). At a false
alarm the worker learns either that the person or household is away until a date (from the
family or neighbours) or that nothing changed; the hub's rules (``hub.feedback``, passed in, since
the edge never imports the hub) turn that into the quiet windows the edge obeys.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from edge_agent.analysis.occupancy import DAY, HOUR, Alert, OccupancyAnalyser
from gridgate_devkit.sim.compound import SimResult
from gridgate_devkit.sim.scoring import KINDS, NEEDED, Quiet, match

QuietRow = tuple[str, str, str | None, float, str]  # house, kind, resident, until, reason


class VisitRules(Protocol):
    def no_change(
        self, kind: str, house: str, resident: str | None, earlier: int, now: float
    ) -> list[QuietRow]: ...

    def away(
        self, house: str, resident: str | None, back_on: float, now: float
    ) -> list[QuietRow]: ...

    def revisit(self, now: float) -> float: ...


@dataclass
class VisitLoop:
    sim: SimResult
    rules: VisitRules
    seed: int = 0
    nobody_home: float = 0.3  # chance a visit to a real change finds nobody to ask
    learn_away: float = 0.8  # chance a false alarm's visit learns the return date
    max_visits: int = 4
    visits: Counter[str] = field(default_factory=Counter)
    false_visits: Counter[str] = field(default_factory=Counter)
    confirmed: dict[tuple[str, str], float] = field(default_factory=dict)
    review_items: int = 0
    _queue: list[tuple[float, int, Alert, int]] = field(default_factory=list)
    _false_alarms: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _removed: set[str] = field(default_factory=set)
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng([self.seed, 0x715])
        self.t0 = self.sim.config.start.timestamp()
        self._house_of = {r.resident_id: r.house_id for r in self.sim.residents}
        self._members: dict[str, list[str]] = {}
        for r in self.sim.residents:
            self._members.setdefault(r.house_id, []).append(r.resident_id)

    def __call__(
        self, tick: float, alerts: list[Alert], engine: OccupancyAnalyser, quiet: Quiet
    ) -> None:
        for alert in alerts:
            if alert.house_id is None:
                self.review_items += 1  # the centre reviews it; nobody is sent
                continue
            hours = self.rng.uniform(2, 12) if alert.kind.value == "welfare_check" else None
            delay = hours * HOUR if hours is not None else self.rng.uniform(0.5, 3) * DAY
            self._push(tick + float(delay), alert, 1)
        changed = False
        while self._queue and self._queue[0][0] <= tick:
            when, _, alert, attempt = heapq.heappop(self._queue)
            changed |= self._visit(when, alert, attempt, quiet)
        if changed:
            engine.sync_roster(
                (r.resident_id, r.house_id, r.care_recipient)
                for r in self.sim.residents
                if r.resident_id not in self._removed
            )

    def _push(self, when: float, alert: Alert, attempt: int) -> None:
        self._n += 1
        heapq.heappush(self._queue, (when, self._n, alert, attempt))

    def _visit(self, now: float, alert: Alert, attempt: int, quiet: Quiet) -> bool:
        kind = alert.kind.value
        self.visits[kind] += 1
        truth = match(self.sim, alert)
        real = truth is not None and truth.start <= alert.detected_at
        house = alert.house_id or ""
        if real and truth is not None:
            if self.rng.random() < self.nobody_home and attempt < self.max_visits:
                self._push(self.rules.revisit(now), alert, attempt + 1)
                return False
            self.confirmed.setdefault((truth.kind, truth.subject), now)
            if kind == "move_out" and alert.resident_id:
                self._removed.add(alert.resident_id)
                return True
            if kind == "vacancy":
                self._removed.update(self._members.get(house, []))
                return True
            return False
        self.false_visits[kind] += 1
        away = self._away(alert, now)
        if away is not None and self.rng.random() < self.learn_away:
            back = self.t0 + away * DAY + float(self.rng.uniform(-2, 4)) * DAY
            resident = None if kind == "vacancy" else alert.resident_id
            rows = self.rules.away(house, resident, back, now)
        elif house:
            key = (house, kind, alert.resident_id or "")
            rows = self.rules.no_change(
                kind, house, alert.resident_id, self._false_alarms[key], now
            )
            self._false_alarms[key] += 1
        else:
            rows = []
        for h, k, resident, until, reason in rows:
            quiet[(h, k, resident or "")] = (until, reason)
        return False

    def _away(self, alert: Alert, now: float) -> int | None:
        """The last day of an absence the subject is on at ``now``, if any."""
        day = (now - self.t0) / DAY
        people = (
            set(self._members.get(alert.house_id or "", []))
            if alert.kind.value == "vacancy"
            else {alert.resident_id}
        )
        for a in self.sim.log.away:
            if a.first <= day <= a.last and people & set(a.residents):
                return a.last
        return None

    def summary(self) -> dict[str, Any]:
        end = self.t0 + self.sim.config.days * DAY
        out: dict[str, Any] = {}
        for kind in KINDS:
            truths = [t for t in self.sim.truths if t.kind == kind and not t.household]
            detectable = [t for t in truths if t.start.timestamp() + NEEDED[kind] <= end]
            confirmed = [t for t in detectable if (t.kind, t.subject) in self.confirmed]
            out[kind] = {
                "detectable": len(detectable),
                "confirmed_by_visit": round(len(confirmed) / len(detectable), 4)
                if detectable
                else 1.0,
                "visits": self.visits[kind],
                "false_visits": self.false_visits[kind],
            }
        out["new_occupant"]["review_items"] = self.review_items
        return out
