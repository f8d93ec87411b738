"""Passage sources for the demo and the tests: synthetic card passages, or a simulated
compound replayed in compressed time through the edge's real store, outbox and analyser.

They plug into a running :class:`edge_agent.runtime.EdgeAgent` as
:class:`edge_agent.sources.PassageSource` (``gridgate_devkit.edge_demo`` does it from the
``demo_source`` section of a demo config); the product ships none of them.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field

from edge_agent.sources import PassageSource, SourceContext
from edge_agent.store.rows import Passage
from gridgate_core.config import StrictModel
from gridgate_devkit.sim.compound import demo_scenario, simulate
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

_LOGGER = logging.getLogger(__name__)


class DemoSourceConfig(StrictModel):
    enabled: bool = Field(
        default=False, description="Emit synthetic passages (for `make demo` and tests only)."
    )
    mode: Literal["cards", "simulator"] = Field(
        default="cards",
        description="cards: a passage every interval_s; simulator: replay a simulated compound.",
    )
    interval_s: float = Field(default=1.0, gt=0, description="Seconds between card passages.")
    households: int = Field(default=150, ge=10, description="Simulator: households.")
    days: int = Field(default=40, ge=14, description="Simulator: simulated days.")
    seconds_per_day: float = Field(
        default=1.5, gt=0, description="Simulator: wall-clock seconds per simulated day."
    )


class CardPassages(PassageSource):
    """A granted card passage at the north gate every ``interval_s`` (residents R0001-R0039)."""

    name = "demo-cards"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s

    def run(self, context: SourceContext) -> None:
        rng = random.Random(7)  # noqa: S311 - synthetic demo passages, not security
        while not context.stop.wait(self.interval_s):
            resident = rng.randrange(1, 40)
            event = context.recorder.record(
                Passage(
                    occurred_at=utc_now(),
                    gate="north",
                    direction=rng.choice([PassageDirection.IN, PassageDirection.OUT]),
                    method=PassageMethod.CARD,
                    subject=SubjectKind.RESIDENT,
                    resident_id=f"R{resident:04d}",
                    house_id=f"H{resident // 2:03d}",
                    decision=Decision.GRANT,
                )
            )
            _LOGGER.info(
                "passage seq=%d %s %s by card: %s",
                event.seq,
                event.resident_id,
                event.direction.value,
                event.decision.value,
            )


class SimulatedCompound(PassageSource):
    """Seeds roster version 1 with the simulated residents, then replays their passages an
    hour of simulated time at a time, analysing at each simulated hour."""

    name = "demo-replay"

    def __init__(self, households: int, days: int, seconds_per_day: float) -> None:
        self.households = households
        self.days = days
        self.seconds_per_day = seconds_per_day

    def run(self, context: SourceContext) -> None:
        sim = simulate(demo_scenario(self.households, self.days))
        residents = [
            RosterResident(
                resident_id=r.resident_id,
                house_id=r.house_id,
                care_recipient=r.care_recipient,
                face_consent=None
                if r.card_user
                else RosterConsent(
                    consent_id=f"C-{r.resident_id}", version="demo", granted_at=utc_now()
                ),
            )
            for r in sim.residents
        ]
        context.roster.apply(
            RosterUpdate(
                **new_fields(), edge_id=context.edge_id, roster_version=1, residents=residents
            )
        )
        _LOGGER.info(
            "replaying %d simulated days of %d households (%d residents, %d passages); "
            "scripted changes: %s",
            self.days,
            self.households,
            len(sim.residents),
            len(sim.events),
            ", ".join(f"{t.kind} {t.house_id}" for t in sim.truths),
        )
        start = sim.config.start.timestamp()
        cursor = 0
        for hour in range(self.days * 24):
            if context.stop.wait(self.seconds_per_day / 24):
                return
            now = start + (hour + 1) * 3600
            while cursor < len(sim.events) and sim.events[cursor].occurred_at <= now:
                e = sim.events[cursor]
                cursor += 1
                context.recorder.record(
                    Passage(
                        occurred_at=datetime.fromtimestamp(e.occurred_at, UTC),
                        gate=e.gate,
                        direction=e.direction,
                        method=e.method,
                        subject=e.subject,
                        resident_id=e.resident_id,
                        house_id=e.house_id,
                        score=e.score,
                        quality=e.quality,
                        decision=e.decision,
                        stranger_id=e.stranger_id,
                    )
                )
            context.analyse(now)
            if hour % 24 == 23:
                _LOGGER.info("simulated day %d done (%d passages so far)", hour // 24 + 1, cursor)


def demo_source(config: DemoSourceConfig) -> PassageSource | None:
    """The source a ``demo_source`` section asks for (None when it is disabled)."""
    if not config.enabled:
        return None
    if config.mode == "simulator":
        return SimulatedCompound(config.households, config.days, config.seconds_per_day)
    return CardPassages(config.interval_s)
