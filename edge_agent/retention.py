"""Scheduled purges of local personal data: acknowledged events after ``retention.event_days``,
strangers unseen for ``gallery.stranger_retention_days``, visitor passes a day after they ended
(never a walk-in the hub does not know yet)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from edge_agent.config import EdgeConfig
from edge_agent.face import FaceStack
from edge_agent.store.events import EventStore
from edge_agent.store.passes import PassStore

_LOGGER = logging.getLogger(__name__)


class RetentionPurge:
    def __init__(
        self,
        config: EdgeConfig,
        store: EventStore,
        face: FaceStack | None,
        passes: PassStore | None = None,
    ) -> None:
        self.passes = passes
        self.event_days = config.retention.event_days
        self.stranger_days = config.gallery.stranger_retention_days
        self.store = store
        self.face = face

    def purge(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=self.event_days)
        purged = self.store.purge_events_before(cutoff)
        if purged:
            _LOGGER.info("retention purge removed %d events before %s", purged, cutoff)
        if self.face is not None:
            gone = self.face.expire_strangers(timedelta(days=self.stranger_days))
            if gone:
                _LOGGER.info("retention purge removed %d strangers", gone)
        if self.passes is not None:
            ended = self.passes.purge_expired(datetime.now(UTC) - timedelta(days=1))
            if ended:
                _LOGGER.info("retention purge removed %d ended passes", ended)
