"""What the hub keeps of passages, and the scheduled purge of what it no longer needs.

A passage names a resident at a gate at a time: across a district, a movement log nobody asked
the hub to keep. ``passages.keep`` (hub config) decides:

- ``full``: the whole message, for ``retention_days``;
- ``daily_counts`` (default): one count per edge, local day, gate, direction, method and
  decision (no person), for ``counts_retention_days``;
- ``none``: no passage content at all.

In every mode the row itself stays for ``dedup_days`` with its ids, seq and a digest instead of
the content: duplicates are still recognised, the per-edge watermark still closes, a reused id
is still noticed. The tasks, reports and edge health read nothing else of passages.

Every other message an edge sent (alerts, acknowledgements, walk-in passes with a visitor's
name and phone, door alarms and releases) goes ``message_retention_days`` after it arrived: the
hub copied what it acts on into its own tables. A walk-in's message is reduced to its digest
earlier, when its pass is purged (:func:`hub.passes.purge`).

The purge also ends what had no end: dead letters, login failures, old sessions, edge alarms.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, or_
from sqlalchemy.dialects import postgresql, sqlite

from gridgate_wire import EdgeEvent
from hub.config import PassagesConfig
from hub.store.schema import (
    dead_letters,
    edge_alarms,
    edge_messages,
    login_failures,
    passage_counts,
    sessions,
)

_DIGEST = '{"digest":'
DEAD_LETTER_DAYS = 30
ALARM_DAYS = 180
SESSION_DAYS = 7
LOGIN_FAILURE_DAYS = 1


def stripped(payload: str) -> str:
    """What replaces a passage's content: its digest, so a re-send is still recognised."""
    return json.dumps({"digest": hashlib.sha256(payload.encode()).hexdigest()})


def same_content(stored: str, payload: str) -> bool:
    if stored.startswith(_DIGEST):
        return stored == stripped(payload)
    return stored == payload


def count(conn: Connection, events: Sequence[EdgeEvent], zone: ZoneInfo) -> None:
    """Add passages to the daily counts (the day as the site's calendar has it)."""
    tally: Counter[tuple[str, str, str, str, str, str]] = Counter(
        (
            e.edge_id,
            e.occurred_at.astimezone(zone).date().isoformat(),
            e.gate,
            e.direction.value,
            e.method.value,
            e.decision.value,
        )
        for e in events
    )
    if not tally:
        return
    rows = [
        {
            "edge_id": edge_id,
            "day": day,
            "gate": gate,
            "direction": direction,
            "method": method,
            "decision": decision,
            "passages": n,
        }
        for (edge_id, day, gate, direction, method, decision), n in sorted(tally.items())
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(passage_counts)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["edge_id", "day", "gate", "direction", "method", "decision"],
            set_={"passages": passage_counts.c.passages + statement.excluded.passages},
        ),
        rows,
    )


def purge(conn: Connection, config: PassagesConfig, now: datetime) -> dict[str, int]:
    """Delete what the retention policy no longer keeps; returns rows deleted per kind."""
    days = config.retention_days if config.keep == "full" else config.dedup_days
    done = {
        "passages": conn.execute(
            delete(edge_messages).where(
                edge_messages.c.kind == EdgeEvent.KIND,
                edge_messages.c.received_at < now - timedelta(days=days),
            )
        ).rowcount,
        "edge messages": conn.execute(
            delete(edge_messages).where(
                edge_messages.c.kind != EdgeEvent.KIND,
                edge_messages.c.received_at < now - timedelta(days=config.message_retention_days),
            )
        ).rowcount,
        "daily_counts": conn.execute(
            delete(passage_counts).where(
                passage_counts.c.day
                < (now - timedelta(days=config.counts_retention_days)).date().isoformat()
            )
        ).rowcount,
        "dead_letters": conn.execute(
            delete(dead_letters).where(
                dead_letters.c.received_at < now - timedelta(days=DEAD_LETTER_DAYS)
            )
        ).rowcount,
        "edge_alarms": conn.execute(
            delete(edge_alarms).where(edge_alarms.c.at < now - timedelta(days=ALARM_DAYS))
        ).rowcount,
        "login_failures": conn.execute(
            delete(login_failures).where(
                login_failures.c.at < now - timedelta(days=LOGIN_FAILURE_DAYS)
            )
        ).rowcount,
        "sessions": conn.execute(
            delete(sessions).where(
                or_(
                    sessions.c.revoked_at < now - timedelta(days=SESSION_DAYS),
                    sessions.c.last_seen_at < now - timedelta(days=SESSION_DAYS),
                )
            )
        ).rowcount,
    }
    return {kind: int(n or 0) for kind, n in done.items()}
