"""One decision rule for every way in: face, card, QR code or PIN.

A face is granted when it matched an active resident who has a recorded face consent and access
at this gate. A card, QR code or PIN is granted when it belongs to an active resident with access
at this gate; no face consent is needed, so declining face recognition never blocks entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_agent.store.roster import ResidentAccess, RosterStore
from gridgate_wire import CredentialKind, Decision, PassageMethod


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the rule says about one attempt: grant or deny, why, and for whom."""

    decision: Decision
    reason: str
    resident: ResidentAccess | None

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANT


class AccessPolicy:
    def __init__(self, roster: RosterStore) -> None:
        self.roster = roster

    def _rule(self, resident: ResidentAccess | None, gate: str, face: bool) -> Verdict:
        if resident is None:
            return Verdict(Decision.DENY, "not a resident", None)
        if not resident.active:
            return Verdict(Decision.DENY, "resident inactive", resident)
        if face and resident.consent_id is None:
            # Templates are deleted on withdrawal; this guards the moment in between.
            return Verdict(Decision.DENY, "no face consent", resident)
        if not resident.may_pass(gate):
            return Verdict(Decision.DENY, "no access at this gate", resident)
        return Verdict(Decision.GRANT, "resident", resident)

    def for_face(self, resident_id: str | None, gate: str, reason_if_unknown: str) -> Verdict:
        if resident_id is None:
            return Verdict(Decision.DENY, reason_if_unknown, None)
        return self._rule(self.roster.resident(resident_id), gate, face=True)

    def for_credential(self, kind: CredentialKind, value: str, gate: str) -> Verdict:
        return self._rule(self.roster.by_credential(kind, value), gate, face=False)


def method_of(kind: CredentialKind) -> PassageMethod:
    return PassageMethod(kind.value)
