"""One decision rule for every way in: face, card, QR code or PIN.

A face is granted when it matched an active resident who has a recorded face consent and access
at this gate. A card, QR code or PIN is granted when it belongs to an active resident with access
at this gate; no face consent is needed, so declining face recognition never blocks entry.
A resident, however they come in, is also inside every schedule that applies to them
(:mod:`edge_agent.access.schedule`: the gate's, unless residents are exempt, and the
``resident`` group's).

A QR code or PIN is first tried as a visitor pass (:mod:`edge_agent.access.passes`); only one
that is no pass credential at all goes on to the roster. The real credential is always tried
before a duress one: a PIN that matched nothing is tried once more with its last digit lowered
(:func:`edge_agent.access.doors.duress_candidate`), as a pass and then as a resident's PIN; a
match decides exactly as the real PIN would and sets ``duress`` for the silent alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from edge_agent.access.doors import DuressConfig, duress_candidate
from edge_agent.access.passes import PassReason, PassVerdict, PassVerifier
from edge_agent.access.schedule import RESIDENT_GROUP, AccessSchedules
from edge_agent.store.roster import ResidentAccess, RosterStore
from gridgate_wire import CredentialKind, Decision, PassageMethod, SubjectKind, utc_now

_PASS_CREDENTIALS = (CredentialKind.QR, CredentialKind.PIN)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rule says about one attempt: grant or deny, why, and for whom (a resident, or
    the visitor pass ``pass_id`` of host house ``pass_house``)."""

    decision: Decision
    reason: str
    resident: ResidentAccess | None
    pass_id: str | None = None
    pass_house: str | None = None
    duress: bool = False  # entered as a duress PIN: grants as usual, raises the silent alarm

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANT

    @property
    def subject(self) -> SubjectKind:
        if self.pass_id is not None:
            return SubjectKind.VISITOR
        return SubjectKind.RESIDENT if self.resident is not None else SubjectKind.UNKNOWN

    @property
    def house_id(self) -> str | None:
        if self.pass_id is not None:
            return self.pass_house
        return None if self.resident is None else self.resident.house_id

    @classmethod
    def of_pass(cls, verdict: PassVerdict, duress: bool) -> Verdict:
        return cls(verdict.decision, verdict.text, None, verdict.pass_id, verdict.house_id, duress)


class AccessPolicy:
    def __init__(
        self,
        roster: RosterStore,
        passes: PassVerifier | None = None,
        schedules: AccessSchedules | None = None,
        duress: DuressConfig | None = None,
    ) -> None:
        self.roster = roster
        self.passes = passes
        self.schedules = schedules
        self.duress = duress or DuressConfig()

    def _rule(
        self,
        resident: ResidentAccess | None,
        gate: str,
        face: bool,
        at: datetime | None,
        exiting: bool = False,
    ) -> Verdict:
        if resident is None:
            return Verdict(Decision.DENY, "not a resident", None)
        if not resident.active:
            return Verdict(Decision.DENY, "resident inactive", resident)
        if face and resident.consent_id is None:
            # Templates are deleted on withdrawal; this guards the moment in between.
            return Verdict(Decision.DENY, "no face consent", resident)
        if not resident.may_pass(gate):
            return Verdict(Decision.DENY, "no access at this gate", resident)
        # Schedules keep people out, never in: a resident may always leave.
        if self.schedules is not None and not exiting:
            check = self.schedules.check(gate, at or utc_now(), group=RESIDENT_GROUP)
            if not check.open:
                detail = f" ({check.holiday})" if check.holiday else ""
                return Verdict(Decision.DENY, f"outside hours: {check.reason}{detail}", resident)
        return Verdict(Decision.GRANT, "resident", resident)

    def for_face(
        self,
        resident_id: str | None,
        gate: str,
        reason_if_unknown: str,
        at: datetime | None = None,
        *,
        exiting: bool = False,
    ) -> Verdict:
        if resident_id is None:
            return Verdict(Decision.DENY, reason_if_unknown, None)
        resident = self.roster.resident(resident_id)
        return self._rule(resident, gate, face=True, at=at, exiting=exiting)

    def for_credential(
        self,
        kind: CredentialKind,
        value: str,
        gate: str,
        at: datetime | None = None,
        *,
        count_use: bool = True,
    ) -> Verdict:
        """The verdict for a card, QR code or PIN. ``count_use`` false means an exit: a pass
        use is not counted and schedules do not apply."""
        when = at or utc_now()
        found = self._credential(kind, value, gate, when, count_use, duress=False)
        if found is not None:
            return found
        real = duress_candidate(self.duress, kind, value)
        if real is not None:
            found = self._credential(kind, real, gate, when, count_use, duress=True)
            if found is not None:
                return found
        return self._rule(None, gate, face=False, at=when)

    def _credential(
        self,
        kind: CredentialKind,
        value: str,
        gate: str,
        at: datetime,
        count_use: bool,
        duress: bool,
    ) -> Verdict | None:
        """A pass's or a resident's verdict for ``value``; None when it is neither's."""
        if self.passes is not None and kind in _PASS_CREDENTIALS:
            verdict = self.passes.verify(kind, value, gate, at, count_use=count_use)
            if verdict.reason is not PassReason.OTHER_CREDENTIAL and (
                verdict.is_pass or not duress
            ):
                return Verdict.of_pass(verdict, duress or verdict.duress)
        resident = self.roster.by_credential(kind, value)
        if resident is None:
            return None
        found = self._rule(resident, gate, face=False, at=at, exiting=not count_use)
        return replace(found, duress=duress) if duress else found


def method_of(kind: CredentialKind) -> PassageMethod:
    return PassageMethod(kind.value)
