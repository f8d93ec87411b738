"""UUID version 7 (RFC 9562): time-ordered ids for messages and records.

Python 3.11 has no ``uuid.uuid7``. This generator is monotonic within a process: ids made in
the same millisecond use a 12-bit counter in ``rand_a`` (RFC 9562 section 6.2, method 1), so
sorting ids sorts them by creation order on one machine.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_COUNTER_MAX = 0xFFF


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """Return a new, process-monotonic UUIDv7."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > _COUNTER_MAX:
                # Counter exhausted within one millisecond: borrow the next millisecond.
                ms += 1
                _counter = 0
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF  # leave headroom
        _last_ms = ms
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76
        value |= _counter << 64
        value |= 0b10 << 62
        value |= rand_b
        return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The Unix time in milliseconds encoded in a UUIDv7."""
    return value.int >> 80
