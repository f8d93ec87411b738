"""Passage sources plugged in from outside the agent (the demo's replay, a test's generator).

Gate cameras and credential readers are the agent's own; a :class:`PassageSource` is anything
else that produces passages, attached with :meth:`edge_agent.runtime.EdgeAgent.attach` before
``start``. It runs on its own guarded background thread and hands each passage to the same
recorder the gates use (store, outbox, publisher). The product ships none: the demo sources
live in the development kit (its ``demo_sources`` module).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.recorder import Recorder
from edge_agent.store.roster import RosterStore
from gridgate_wire import EdgeAlert


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What a source may use of the agent."""

    edge_id: str
    recorder: Recorder
    roster: RosterStore
    analyse: Callable[[float | None], list[EdgeAlert]]  # fold events, send alerts (at a time)
    stop: threading.Event  # set when the agent stops; sources wait on it between passages


class PassageSource(ABC):
    name: str = "passage-source"

    @abstractmethod
    def run(self, context: SourceContext) -> None:
        """Produce passages until ``context.stop`` is set (or the source has no more)."""
