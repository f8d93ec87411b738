"""Waiting on a condition instead of sleeping a fixed time (no OpenCV, no edge: any test can)."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_S = 0.05


def wait_until(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Return as soon as ``check()`` is true; fail naming ``what`` was awaited after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or check!r}")
        time.sleep(POLL_S)
