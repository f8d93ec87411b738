"""The unit of work: one transaction, the messages it produced, and their publication once the
transaction has committed. A message is never published for a change that rolled back, and a
change is never committed without the messages it owes (the roster outbox re-sends them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn

from sqlalchemy import Connection, Engine

from gridgate_wire import Message, WorkerTask
from hub.errors import HubError
from hub.live import AlarmNotice, Notice, TaskNotice


@dataclass
class Outbound:
    """Messages to publish once the transaction has committed: task changes to workers,
    roster changes and suppressions to edges, notices to this process's open pages."""

    to_workers: list[WorkerTask] = field(default_factory=list)
    to_edges: list[Message] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def extend(self, other: Outbound) -> None:
        self.to_workers.extend(other.to_workers)
        self.to_edges.extend(other.to_edges)
        self.notices.extend(other.notices)


Publisher = Callable[[Outbound], None]


class _RefusedAfterCommit(Exception):
    def __init__(self, error: HubError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class UnitOfWork:
    """What a service works with: the open transaction and what to publish after it."""

    conn: Connection
    outbound: Outbound = field(default_factory=Outbound)

    def publish_after_commit(self, *messages: Message | WorkerTask | Notice) -> None:
        for message in messages:
            if isinstance(message, WorkerTask):
                self.outbound.to_workers.append(message)
            elif isinstance(message, TaskNotice | AlarmNotice):
                self.outbound.notices.append(message)
            else:
                self.outbound.to_edges.append(message)

    def refuse_after_commit(self, error: HubError) -> NoReturn:
        """Commit what was written so far, then refuse: a failed login must count towards the
        throttle, an expired session must stay revoked."""
        raise _RefusedAfterCommit(error)


@contextmanager
def unit_of_work(engine: Engine, publish: Publisher) -> Iterator[UnitOfWork]:
    """Begin; yield the unit of work; commit; then publish what it collected. An exception
    rolls the transaction back and publishes nothing."""
    refused: HubError | None = None
    with engine.begin() as conn:
        work = UnitOfWork(conn)
        try:
            yield work
        except _RefusedAfterCommit as refusal:
            refused = refusal.error
    publish(work.outbound)
    if refused is not None:
        raise refused
