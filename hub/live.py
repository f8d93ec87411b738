"""In-process fan-out of task changes to open browser pages (server-sent events).

Each connected page registers a queue; every task change committed by this hub process is
offered to the queues whose user may see the task's grid. A page that falls behind loses old
notices, not correctness: it reloads its list on each notice. Task changes made by another hub
process reach workers' phones through MQTT; this feed serves the pages of this process, which
also polls the database every few seconds as a fallback (see hub.web).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskNotice:
    task_id: str
    grid_id: str
    worker_id: str | None
    state: str
    revision: int


class TaskFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[
            tuple[
                asyncio.AbstractEventLoop, asyncio.Queue[TaskNotice | None], frozenset[str] | None
            ]
        ] = []

    def subscribe(self, grids: frozenset[str] | None) -> asyncio.Queue[TaskNotice | None]:
        queue: asyncio.Queue[TaskNotice | None] = asyncio.Queue(maxsize=100)
        with self._lock:
            self._listeners.append((asyncio.get_running_loop(), queue, grids))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[TaskNotice | None]) -> None:
        with self._lock:
            self._listeners = [entry for entry in self._listeners if entry[1] is not queue]

    def close(self) -> None:
        """The process is stopping: end every open stream."""
        with self._lock:
            listeners, self._listeners = self._listeners, []
        for loop, queue, _grids in listeners:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_put_dropping_oldest, queue, None)

    def offer(self, notice: TaskNotice) -> None:
        """Thread-safe: called from the ingest thread or a request handler."""
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue, grids in listeners:
            if grids is None or notice.grid_id in grids:
                loop.call_soon_threadsafe(_put_dropping_oldest, queue, notice)


def _put_dropping_oldest(
    queue: asyncio.Queue[TaskNotice | None], notice: TaskNotice | None
) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(notice)
