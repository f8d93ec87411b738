"""In-process fan-out of task changes to open browser pages (server-sent events).

Each connected page registers a queue; every task change committed by this hub process is
offered to the queues whose user may see the task's grid. A page that falls behind loses old
notices, not correctness: it reloads its list on each notice. Task changes made by another hub
process reach workers' phones through MQTT, and this process's pages through one shared poll
(issue 19): while any page is open, one thread reads the task transitions committed since the
last look (a range of the primary key: its cost follows the changes, not the district) and offers
them like local changes. 800 open phones cost one query every few seconds, not 800.

Door alarms (issue 18) travel the same fan-out as :class:`AlarmNotice`, offered to the pages of
staff whose communities include the alarm's (a grid worker's page never gets one). The ingest of
this process offers them at once; the same shared poll reads the ``door_alarm`` messages other
hub processes stored since its last look (a range of ``edge_messages``' primary key, that kind
only) and offers their raisings and clearings too. An acknowledgement made on another process
shows on the next load.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Select, func, select
from sqlalchemy.exc import SQLAlchemyError

from gridgate_wire import AlarmPhase, DoorAlarm, DoorAlarmKind
from hub.store.doors import door_alarms
from hub.store.schema import edge_messages, houses, task_transitions, tasks

if TYPE_CHECKING:  # hub.doors offers these notices, so it imports this module
    from hub.doors import AlarmState

log = logging.getLogger(__name__)

POLL_S = 3.0
_RECENT = 2048  # (task, revision) pairs already offered: the poll does not repeat them
Watermark = tuple[int, int]  # the last task transition and edge message the poll has seen


@dataclass(frozen=True)
class TaskNotice:
    task_id: str
    grid_id: str
    worker_id: str | None
    state: str
    revision: int


@dataclass(frozen=True)
class AlarmNotice:
    alarm_id: str
    community_id: str
    kind: DoorAlarmKind
    phase: AlarmPhase | AlarmState  # raised or cleared by the edge, acknowledged at the centre
    priority: int  # 0 urgent (duress), 1 high, 2 normal


Notice = TaskNotice | AlarmNotice
Scope = tuple[frozenset[str] | None, frozenset[str] | None]  # (grids, alarm communities)


def _reaches(notice: Notice, scope: Scope) -> bool:
    grids, communities = scope
    if isinstance(notice, AlarmNotice):
        return communities is None or notice.community_id in communities
    return grids is None or notice.grid_id in grids


def _key(notice: Notice) -> tuple[str, int]:
    if isinstance(notice, AlarmNotice):
        return (f"alarm:{notice.alarm_id}:{notice.phase}", 0)
    return (notice.task_id, notice.revision)


class TaskFeed:
    def __init__(self, poll_s: float = POLL_S) -> None:
        self.poll_s = poll_s
        self.polls = 0  # database checks made by the shared poll (for tests and the bench)
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._recent: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._lock = threading.Lock()
        self._listeners: list[
            tuple[asyncio.AbstractEventLoop, asyncio.Queue[Notice | None], Scope]
        ] = []

    def subscribe(
        self,
        grids: frozenset[str] | None,
        engine: Engine | None = None,
        alarms_of: frozenset[str] | None = frozenset(),
    ) -> asyncio.Queue[Notice | None]:
        """A queue of notices for these grids (None: all) and door alarms of the communities
        ``alarms_of`` (None: all; empty, the default: none). With ``engine``, task changes
        committed by other hub processes arrive too, through the one shared poll."""
        queue: asyncio.Queue[Notice | None] = asyncio.Queue(maxsize=100)
        with self._lock:
            self._listeners.append((asyncio.get_running_loop(), queue, (grids, alarms_of)))
            if engine is not None and (self._poller is None or not self._poller.is_alive()):
                self._stop.clear()
                self._poller = threading.Thread(
                    target=self._poll, args=(engine,), name="task-feed-poll", daemon=True
                )
                self._poller.start()
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Notice | None]) -> None:
        with self._lock:
            self._listeners = [entry for entry in self._listeners if entry[1] is not queue]

    def close(self) -> None:
        """The process is stopping: end every open stream."""
        self._stop.set()
        with self._lock:
            listeners, self._listeners = self._listeners, []
            poller = self._poller
        for loop, queue, _scope in listeners:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_put_dropping_oldest, queue, None)
        # A check in flight holds a pooled connection: let it return it before the engine goes.
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=5)

    def offer(self, notice: Notice) -> None:
        """Thread-safe: called from the ingest thread or a request handler."""
        with self._lock:
            key = _key(notice)
            if key in self._recent:
                return  # offered already (by this process, then seen again by the poll)
            self._recent[key] = None
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
            listeners = list(self._listeners)
        for loop, queue, scope in listeners:
            if _reaches(notice, scope):
                loop.call_soon_threadsafe(_put_dropping_oldest, queue, notice)

    def _poll(self, engine: Engine) -> None:
        """The shared poll: runs while any stream is open, then ends (the next one restarts it)."""
        last: Watermark | None = None
        while not self._stop.wait(0 if last is None else self.poll_s):
            with self._lock:
                if not self._listeners:
                    self._poller = None
                    return
            try:
                last = self._check(engine, last)
            except SQLAlchemyError as exc:
                log.warning("task feed: database check failed: %s", exc)
                last = last or (0, 0)

    def _check(self, engine: Engine, last: Watermark | None) -> Watermark:
        self.polls += 1
        with engine.connect() as conn:
            if last is None:  # start from now: open pages load their lists themselves
                return (
                    int(conn.scalar(select(func.max(task_transitions.c.pk))) or 0),
                    int(conn.scalar(select(func.max(edge_messages.c.pk))) or 0),
                )
            rows = conn.execute(changes_query(last[0])).all()
            alarms, last_message = _alarm_changes(conn, last[1])
        for row in rows:
            self.offer(TaskNotice(row.task_id, row.grid_id, row.worker_id, row.state, row.revision))
        for notice in alarms:
            self.offer(notice)
        return (int(rows[-1].pk) if rows else last[0], last_message)


def _alarm_changes(conn: Connection, last: int) -> tuple[list[AlarmNotice], int]:
    """Door alarms raised or cleared in messages stored after edge message ``last`` (by any
    hub process), as the notices the ingest that stored them offered."""
    rows = conn.execute(
        select(edge_messages.c.pk, edge_messages.c.payload)
        .where(edge_messages.c.pk > last, edge_messages.c.kind == DoorAlarm.KIND)
        .order_by(edge_messages.c.pk)
        .limit(1000)
    ).all()
    if not rows:
        return [], last
    named: list[tuple[str, AlarmPhase]] = []
    for row in rows:
        try:
            payload = json.loads(row.payload)
            phase = AlarmPhase(payload.get("phase", AlarmPhase.RAISED))
            alarm_id = str(payload["raised_id"] if phase is AlarmPhase.CLEARED else payload["id"])
        except (ValueError, KeyError, TypeError):
            continue  # not what ingest stores for a door alarm: nothing to offer
        named.append((alarm_id, phase))
    kept = {
        str(r.alarm_id): r
        for r in conn.execute(
            select(
                door_alarms.c.alarm_id,
                door_alarms.c.community_id,
                door_alarms.c.kind,
                door_alarms.c.priority,
            ).where(door_alarms.c.alarm_id.in_(sorted({a for a, _ in named})))
        )
    }
    notices = [
        AlarmNotice(
            alarm_id,
            str(kept[alarm_id].community_id),
            DoorAlarmKind(kept[alarm_id].kind),
            phase,
            int(kept[alarm_id].priority),
        )
        for alarm_id, phase in named
        if alarm_id in kept  # a refused alarm (a dead letter) has no row
    ]
    return notices, int(rows[-1].pk)


def changes_query(last: int) -> Select[Any]:
    """Task changes committed after transition ``last``: a range of the transitions' primary key,
    each joined to its task and house by their primary keys (no scan of houses or tasks)."""
    return (
        select(
            task_transitions.c.pk,
            tasks.c.task_id,
            houses.c.grid_id,
            tasks.c.worker_id,
            tasks.c.state,
            tasks.c.revision,
        )
        .join(tasks, tasks.c.task_id == task_transitions.c.task_id)
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(task_transitions.c.pk > last)
        .order_by(task_transitions.c.pk)
        .limit(1000)
    )


def _put_dropping_oldest(queue: asyncio.Queue[Notice | None], notice: Notice | None) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(notice)
