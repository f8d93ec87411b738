"""One guarded way to run the agent's background work.

Every periodic job (commands, status, analysis, retention, plugged-in passage sources) runs in a
:class:`BackgroundLoops` thread: an exception is logged with its traceback and the loop carries
on at its next turn, so one failure never silently stops a job. Health reads ``dead()``: a
loop thread that has ended while the agent runs is a failing check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)


class BackgroundLoops:
    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._threads: dict[str, threading.Thread] = {}
        self._watched: set[str] = set()

    def every(self, name: str, interval_s: Callable[[], float], body: Callable[[], object]) -> None:
        """Run ``body`` every ``interval_s()`` seconds (asked each turn) until the agent stops."""

        def loop() -> None:
            while not self.stop.wait(interval_s()):
                self._guarded(name, body)

        self._spawn(name, loop)
        self._watched.add(name)

    def run(self, name: str, body: Callable[[], object]) -> None:
        """Run ``body`` once; it watches ``stop`` itself and may end (a passage source that has
        replayed everything), so health does not count it."""
        self._spawn(name, lambda: self._guarded(name, body))

    def once(self, name: str, body: Callable[[], object]) -> None:
        """A short job off the caller's thread (an enrolment); not watched by health."""
        threading.Thread(target=lambda: self._guarded(name, body), name=name, daemon=True).start()

    def _guarded(self, name: str, body: Callable[[], object]) -> None:
        try:
            body()
        except Exception:  # logged and survived: the gate keeps working
            _LOGGER.exception("background job %s failed; it runs again at its next turn", name)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads[name] = thread
        thread.start()

    def dead(self) -> list[str]:
        """Loops whose thread has ended although the agent has not been stopped."""
        if self.stop.is_set():
            return []
        return [n for n in sorted(self._watched) if not self._threads[n].is_alive()]

    def join(self, timeout_s: float) -> None:
        for thread in self._threads.values():
            thread.join(timeout_s)
