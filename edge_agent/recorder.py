"""The one way anything reaches the hub: commit to the event store, then wake the publisher.

Passages, alerts, enrolment and erasure confirmations and roster acks are all committed with
their outbox row in one transaction (:class:`~edge_agent.store.events.EventStore`); the
publisher drains the outbox and deletes rows on the hub's ack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from edge_agent.store.events import EventStore
from edge_agent.store.rows import Passage
from gridgate_wire import Channel, EdgeEvent, EdgeMessage

M = TypeVar("M", bound=EdgeMessage)


class PassageRecorder(Protocol):
    """What the door path needs: commit a passage, return its wire event."""

    def record(self, passage: Passage) -> EdgeEvent: ...


class Recorder:
    """``wake`` tells the publisher the outbox has something new."""

    def __init__(self, store: EventStore, wake: Callable[[], None]) -> None:
        self.store = store
        self._wake = wake

    def record(self, passage: Passage) -> EdgeEvent:
        event = self.store.append_passage(passage)
        self._wake()
        return event

    def send(self, channel: Channel, build: Callable[[dict[str, object]], M]) -> M:
        """Commit one message for the hub; ``build`` gets the store's common fields."""
        message = self.store.append(channel, build)
        self._wake()
        return message
