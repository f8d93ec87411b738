"""PINs of visitor passes at the hub: a PIN alone must name one pass at the gate, and no PIN
may be one digit off another's (a PIN with its last digit raised by one is that person's
duress PIN, ``edge_agent.access.doors.duress_base``).

So a PIN the hub generates (or a walk-in's PIN it accepts) is checked, last digit -1, 0 and +1,
against every PIN the compound's gates may still compare it with: the compound's passes not
ended (revoked ones included: the edge keeps a tombstone until the pass ends) or ended within
:data:`ENDED_KEPT` (the edge keeps an ended pass that long), and its residents' PINs (the
roster's plain ``sha256``). The hub does not know whether an edge has duress on, so it keeps
the neighbours free either way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from gridgate_wire import CredentialKind, PassSecret, secret_matches
from hub.store.schema import houses, resident_credentials, residents, visitor_passes

ENDED_KEPT = timedelta(days=1)  # edge_agent's PassStore.purge_expired(now - 1 day)
RESIDENT = "resident"  # what a clash with a resident's PIN names (never the resident)


def neighbours(pin: str) -> list[str]:
    """The PIN and the two that differ from it by one in the last digit (9 and 0 adjacent)."""
    if not pin or not pin[-1].isdigit():
        return [pin]
    last = int(pin[-1])
    return [pin] + [pin[:-1] + str((last + step) % 10) for step in (-1, 1)]


@dataclass(frozen=True, slots=True)
class TakenPins:
    """The PINs a new one must keep clear of: (pass id, salted secret) and residents' digests."""

    passes: list[tuple[str, PassSecret]] = field(default_factory=list)
    residents: frozenset[str] = frozenset()

    def clash(self, pin: str, *, besides: str = "") -> str | None:
        """The pass id (or :data:`RESIDENT`) whose PIN is ``pin`` or one off from it; None
        when it is free. ``besides``: a pass that may have it (the pass being checked)."""
        near = neighbours(pin)
        for candidate in near:
            if hashlib.sha256(candidate.encode()).hexdigest() in self.residents:
                return RESIDENT
        found: str | None = None
        for pass_id, secret in self.passes:  # every secret compared: no early exit
            if pass_id != besides and any(secret_matches(secret, c) for c in near):
                found = found or pass_id
        return found


def taken_pins(conn: Connection, compound_id: str, now: datetime) -> TakenPins:
    rows = conn.execute(
        select(visitor_passes.c.pass_id, visitor_passes.c.secrets).where(
            visitor_passes.c.compound_id == compound_id,
            visitor_passes.c.valid_until > now - ENDED_KEPT,
        )
    )
    passes = [
        (str(pass_id), secret)
        for pass_id, stored in rows
        for secret in _secrets(str(stored))
        if secret.kind is CredentialKind.PIN
    ]
    digests = conn.scalars(
        select(resident_credentials.c.secret_sha256)
        .join(residents, residents.c.resident_id == resident_credentials.c.resident_id)
        .join(houses, houses.c.house_id == residents.c.house_id)
        .where(houses.c.compound_id == compound_id, resident_credentials.c.kind == "pin")
    )
    return TakenPins(passes, frozenset(str(d) for d in digests))


def _secrets(stored: str) -> list[PassSecret]:
    return [PassSecret.model_validate(s) for s in json.loads(stored)]
