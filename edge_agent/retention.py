"""Scheduled purges of local personal data: acknowledged events after ``retention.event_days``,
strangers unseen for ``gallery.stranger_retention_days``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from edge_agent.config import EdgeConfig
from edge_agent.face import FaceStack
from edge_agent.store.events import EventStore

_LOGGER = logging.getLogger(__name__)


class RetentionPurge:
    def __init__(self, config: EdgeConfig, store: EventStore, face: FaceStack | None) -> None:
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
