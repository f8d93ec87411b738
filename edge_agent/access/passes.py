"""Visitor pass verification: the rule a QR code or PIN meets when it is a pass.

A pass is found by its QR code (``GGP/<pass id>/<token>``: the id finds it, the token proves it)
or by its PIN (compared with every pass that has one; six digits are unique among the live
passes the hub issues). Comparison is constant-time against salted hashes. A found pass then
admits when, in this order: it is not revoked, the time is inside its validity window, the gate
is one of its gates, every schedule that applies is open (the gate's, its kind's group, its own:
:mod:`edge_agent.access.schedule`), and it has a use left. The use is counted last, atomically,
and only on a grant, so a refusal never costs the visitor an entry.

A PIN that matches nothing is tried once more as a duress PIN (when enabled,
:func:`edge_agent.access.doors.duress_candidate`); a match then grants with ``duress`` set, so
the passage path opens the door as usual and raises the silent alarm.

The verdict is the phase 2 passage path's input: on a found pass the event's subject is
``visitor``, ``house_id`` the host house and ``pass_id`` the pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from edge_agent.access.doors import DuressConfig, duress_candidate
from edge_agent.access.schedule import AccessSchedules, ScheduleCheck
from edge_agent.store.passes import StoredPass
from gridgate_wire import (
    CredentialKind,
    Decision,
    EdgePass,
    PassKind,
    PassOrigin,
    PassSchedule,
    SubjectKind,
    make_secret,
    new_pin,
    new_qr_token,
    parse_qr_payload,
    qr_payload,
    secret_matches,
    uuid7,
)

_LOGGER = logging.getLogger(__name__)


class PassReason(StrEnum):
    GRANTED = "granted"
    OTHER_CREDENTIAL = "other_credential"  # not a pass credential at all: try the resident roster
    UNKNOWN = "unknown"  # looked like a pass (a GGP QR code) but matches none
    REVOKED = "revoked"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WRONG_GATE = "wrong_gate"
    OUTSIDE_SCHEDULE = "outside_schedule"
    USED_UP = "used_up"


REASON_TEXT = {
    PassReason.GRANTED: "visitor pass",
    PassReason.OTHER_CREDENTIAL: "not a pass",
    PassReason.UNKNOWN: "unknown pass",
    PassReason.REVOKED: "pass revoked",
    PassReason.NOT_YET_VALID: "pass not yet valid",
    PassReason.EXPIRED: "pass expired",
    PassReason.WRONG_GATE: "pass not valid at this gate",
    PassReason.OUTSIDE_SCHEDULE: "outside the pass's hours",
    PassReason.USED_UP: "pass used up",
}


class PassSource(Protocol):
    """What verification reads and counts (:class:`edge_agent.store.passes.PassStore`)."""

    def get(self, pass_id: str) -> StoredPass | None: ...

    def with_secret(self, kind: CredentialKind) -> list[StoredPass]: ...

    def use(self, pass_id: str, at: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class PassVerdict:
    reason: PassReason
    stored: StoredPass | None = None
    duress: bool = False
    schedule: ScheduleCheck | None = None
    exit_despite: str | None = None  # an exit granted although this rule refuses the pass

    @property
    def granted(self) -> bool:
        return self.reason is PassReason.GRANTED

    @property
    def decision(self) -> Decision:
        return Decision.GRANT if self.granted else Decision.DENY

    @property
    def is_pass(self) -> bool:
        """A pass was found (granted or not): the passage is a visitor's."""
        return self.stored is not None

    @property
    def subject(self) -> SubjectKind:
        return SubjectKind.VISITOR if self.stored is not None else SubjectKind.UNKNOWN

    @property
    def pass_id(self) -> str | None:
        return None if self.stored is None else self.stored.pass_id

    @property
    def house_id(self) -> str | None:
        return None if self.stored is None else self.stored.edge_pass.house_id

    @property
    def text(self) -> str:
        """The event's ``reason`` (the schedule's own reason when it refused)."""
        if self.exit_despite is not None:
            return f"exit: {self.exit_despite}"
        if self.reason is PassReason.OUTSIDE_SCHEDULE and self.schedule is not None:
            detail = self.schedule.reason.value
            if self.schedule.holiday:
                detail += f" ({self.schedule.holiday})"
            return f"{REASON_TEXT[self.reason]}: {detail}"
        return REASON_TEXT[self.reason]


def group_of(kind: PassKind) -> str:
    """The schedule group of a pass kind (``ScheduleConfig.groups`` keys)."""
    return kind.value


class PassVerifier:
    def __init__(
        self,
        source: PassSource,
        schedules: AccessSchedules,
        duress: DuressConfig | None = None,
    ) -> None:
        self.source = source
        self.schedules = schedules
        self.duress = duress or DuressConfig()

    def find(
        self, kind: CredentialKind, value: str, at: datetime | None = None
    ) -> tuple[StoredPass | None, bool, bool]:
        """``(pass, duress, looked_like_a_pass)`` for a presented credential."""
        if kind is CredentialKind.QR:
            parsed = parse_qr_payload(value)
            if parsed is None:
                return None, False, False
            pass_id, token = parsed
            stored = self.source.get(pass_id)
            if stored is None:
                return None, False, True
            secret = next((s for s in stored.edge_pass.secrets if s.kind is kind), None)
            if secret is None or not secret_matches(secret, token):
                return None, False, True
            return stored, False, True
        candidates = self.source.with_secret(kind)
        found = _match(candidates, kind, value, at)
        if found is not None:
            return found, False, True
        real = duress_candidate(self.duress, kind, value)
        if real is not None:
            found = _match(candidates, kind, real, at)
            if found is not None:
                return found, True, True
        return None, False, False

    def verify(
        self, kind: CredentialKind, value: str, gate: str, at: datetime, *, count_use: bool = True
    ) -> PassVerdict:
        """The verdict for ``value`` presented at ``gate`` at ``at`` (aware). Counts one use on
        a grant unless ``count_use`` is False (an exit reader).

        An exit is never refused for a pass that was found: a visitor whose pass was used up,
        ended or was revoked while inside must still be able to leave. The exit is granted
        and the event's reason says which rule it would have met (``exit: pass revoked``)."""
        stored, duress, looked = self.find(kind, value, at)
        if stored is None:
            return PassVerdict(PassReason.UNKNOWN if looked else PassReason.OTHER_CREDENTIAL)
        verdict = self._rule(stored, gate, at, duress)
        if not count_use and not verdict.granted:
            _LOGGER.info("pass %s leaves at %s: %s", stored.pass_id, gate, verdict.text)
            return PassVerdict(PassReason.GRANTED, stored, duress, exit_despite=verdict.text)
        if verdict.granted and count_use and not self.source.use(stored.pass_id, at):
            return PassVerdict(PassReason.USED_UP, stored, duress)
        if duress:
            _LOGGER.warning("duress PIN on pass %s at gate %s", stored.pass_id, gate)
        return verdict

    def _rule(self, stored: StoredPass, gate: str, at: datetime, duress: bool) -> PassVerdict:
        edge_pass = stored.edge_pass
        if stored.revoked_at is not None:
            return PassVerdict(PassReason.REVOKED, stored, duress)
        if at < edge_pass.valid_from:
            return PassVerdict(PassReason.NOT_YET_VALID, stored, duress)
        if at >= edge_pass.valid_until:
            return PassVerdict(PassReason.EXPIRED, stored, duress)
        if edge_pass.gates is not None and gate not in edge_pass.gates:
            return PassVerdict(PassReason.WRONG_GATE, stored, duress)
        check = self.schedules.check(
            gate, at, group=group_of(edge_pass.kind), own=edge_pass.schedule
        )
        if not check.open:
            return PassVerdict(PassReason.OUTSIDE_SCHEDULE, stored, duress, check)
        if stored.uses_left == 0:
            return PassVerdict(PassReason.USED_UP, stored, duress, check)
        return PassVerdict(PassReason.GRANTED, stored, duress, check)


def _match(
    candidates: list[StoredPass], kind: CredentialKind, value: str, at: datetime | None = None
) -> StoredPass | None:
    """The pass whose ``kind`` secret is ``value``; every candidate is compared (no early
    exit). Where two share it (a walk-in PIN may repeat one that just ended), the one whose
    window holds ``at`` wins, then a non-revoked one, then the newest."""
    matched: list[StoredPass] = []
    for stored in candidates:
        hits = [s.kind is kind and secret_matches(s, value) for s in stored.edge_pass.secrets]
        if True in hits:  # every secret compared: no early exit
            matched.append(stored)
    if not matched:
        return None

    def rank(stored: StoredPass) -> tuple[bool, bool, datetime]:
        edge_pass = stored.edge_pass
        live = at is not None and edge_pass.valid_from <= at < edge_pass.valid_until
        return live, stored.revoked_at is None, edge_pass.valid_from

    return max(matched, key=rank)


@dataclass(frozen=True, slots=True)
class WalkInIssue:
    edge_pass: EdgePass  # for PassStore.register_walk_in and the walk_in_pass message
    qr: str  # to show or print once; only hashes are kept
    pin: str


def _last_digit_neighbours(pin: str) -> list[str]:
    """``pin`` and the two PINs one off in the last digit (the duress rule wraps 9 to 0)."""
    last = int(pin[-1])
    return [pin] + [pin[:-1] + str((last + step) % 10) for step in (1, -1)]


def new_walk_in(
    source: PassSource,
    *,
    house_id: str,
    display_name: str,
    valid_from: datetime,
    valid_until: datetime,
    kind: PassKind = PassKind.VISITOR,
    max_uses: int | None = None,
    gates: list[str] | None = None,
    schedule: PassSchedule | None = None,
    pin_digits: int = 6,
    duress: bool = False,
    resident_pin: Callable[[str], bool] | None = None,
) -> WalkInIssue:
    """A guard-room pass with a fresh QR token and a PIN no live pass here has (the hub's
    passes included, as far as this edge holds them).

    With ``duress`` on, a PIN one off in its last digit from a live pass's PIN is refused too
    (one would be the other's duress PIN), and so is a PIN that is, or is one off from, a
    resident's (``resident_pin``: the roster's lookup)."""
    live = [
        secret
        for stored in source.with_secret(CredentialKind.PIN)
        if stored.revoked_at is None and stored.edge_pass.valid_until > valid_from
        for secret in stored.edge_pass.secrets
        if secret.kind is CredentialKind.PIN
    ]
    for _ in range(50):
        pin = new_pin(pin_digits)
        near = _last_digit_neighbours(pin) if duress else [pin]
        taken = any(secret_matches(s, other) for s in live for other in near)
        if not taken and resident_pin is not None:
            taken = any(resident_pin(other) for other in near)
        if not taken:
            break
    else:
        raise ValueError("no free PIN; use more digits")
    pass_id = f"W-{uuid7()}"
    token = new_qr_token()
    edge_pass = EdgePass(
        pass_id=pass_id,
        kind=kind,
        origin=PassOrigin.GUARD_ROOM,
        house_id=house_id,
        display_name=display_name[:64],
        secrets=[make_secret(CredentialKind.QR, token), make_secret(CredentialKind.PIN, pin)],
        valid_from=valid_from,
        valid_until=valid_until,
        max_uses=max_uses,
        gates=gates,
        schedule=schedule,
    )
    return WalkInIssue(edge_pass, qr_payload(pass_id, token), pin)
