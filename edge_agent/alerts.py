"""Occupancy analysis on the agent: fold new events into the analyser, send what it raises.

The analyser (:mod:`edge_agent.analysis`) reads the event store incrementally by sequence
number; each alert is committed to the outbox like a passage and reaches the hub the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from functools import partial

from edge_agent.analysis.config import Alert
from edge_agent.analysis.occupancy import OccupancyAnalyser
from edge_agent.analysis.visitors import PassWindow
from edge_agent.recorder import Recorder
from edge_agent.store.events import EventStore
from edge_agent.store.passes import PassStore
from edge_agent.store.roster import RosterStore
from gridgate_wire import Channel, EdgeAlert

_LOGGER = logging.getLogger(__name__)


class AlertService:
    def __init__(
        self,
        compound_id: str,
        analyser: OccupancyAnalyser,
        store: EventStore,
        roster: RosterStore,
        recorder: Recorder,
        passes: PassStore,
    ) -> None:
        self.compound_id = compound_id
        self.analyser = analyser
        self.store = store
        self.roster = roster
        self.recorder = recorder
        self.passes = passes

    def analyse(self, now: float | None = None) -> list[EdgeAlert]:
        """Fold new events into the analyser, and commit any alerts to the outbox."""
        self.analyser.sync_roster(
            (r.resident_id, r.house_id, r.care_recipient) for r in self.roster.residents()
        )
        # Without the pass list no stay is registered and every pass holder would be judged on
        # the share of nights alone.
        self.analyser.sync_passes(self._pass_windows())
        while batch := self.store.events_after(self.analyser.last_seq, 20_000):
            self.analyser.process(batch)
        sent = []
        for alert in self.analyser.tick(now if now is not None else time.time()):
            sent.append(self.recorder.send(Channel.ALERT, partial(self._message, alert)))
            _LOGGER.info("alert %s for house %s", alert.kind.value, alert.house_id or "?")
        return sent

    def _pass_windows(self) -> Iterator[PassWindow]:
        for stored in self.passes.all():
            window = PassWindow.of(stored.edge_pass)
            if stored.revoked_at is not None:
                # A revoked pass registered the stay only until it was revoked.
                until = min(window.valid_until, stored.revoked_at.timestamp())
                window = dataclasses.replace(window, valid_until=until)
            yield window

    def _message(self, alert: Alert, common: dict[str, object]) -> EdgeAlert:
        return EdgeAlert.model_validate(
            {
                **common,
                "kind": alert.kind,
                "compound_id": self.compound_id,
                "house_id": alert.house_id,
                "resident_id": alert.resident_id,
                "detected_at": alert.detected_at,
                "confidence": alert.confidence,
                "evidence": alert.evidence,
            }
        )
