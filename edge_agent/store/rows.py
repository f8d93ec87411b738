"""What the event store writes and reads: typed rows with the wire enums, never bare strings.

``Passage`` is one passage about to be committed (what a gate worker, a credential or a
passage source hands the recorder); ``EventRow`` is one passage read back (what the analyser
folds). Stranger ids are in both: they stay on this box and never reach the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from gridgate_wire import Decision, EdgeEvent, PassageDirection, PassageMethod, SubjectKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    occurred_at: datetime
    gate: str
    direction: PassageDirection
    method: PassageMethod
    subject: SubjectKind
    decision: Decision
    reason: str = ""
    lane: int = 0
    resident_id: str | None = None
    house_id: str | None = None
    score: float | None = None
    quality: float | None = None
    tailgating: bool = False
    stranger_id: str | None = None
    pass_id: str | None = None
    # Entered as a duress PIN. Neither stored nor sent with the passage (the gate must look
    # ordinary): the admit observers raise the silent door alarm from it.
    duress: bool = False

    @property
    def granted(self) -> bool:
        return self.decision is Decision.GRANT

    def denied(self, reason: str) -> Passage:
        """The same passage, refused (a door that failed to open after a grant)."""
        return replace(self, decision=Decision.DENY, reason=reason)

    def event(self, common: dict[str, object]) -> EdgeEvent:
        """The wire event, given the store's common fields (id, ts, edge_id, seq, epoch)."""
        return EdgeEvent.model_validate(
            {
                **common,
                "occurred_at": self.occurred_at,
                "gate": self.gate,
                "lane": self.lane,
                "direction": self.direction,
                "method": self.method,
                "subject": self.subject,
                "resident_id": self.resident_id,
                "house_id": self.house_id,
                "score": self.score,
                "quality": self.quality,
                "decision": self.decision,
                "reason": self.reason,
                "tailgating": self.tailgating,
                "pass_id": self.pass_id,
            }
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    """One passage as the edge stores it (stranger ids included: they never leave the box)."""

    id: str
    seq: int
    occurred_at: float
    gate: str
    lane: int
    direction: PassageDirection
    method: PassageMethod
    subject: SubjectKind
    resident_id: str | None
    stranger_id: str | None
    house_id: str | None
    score: float | None
    quality: float | None
    decision: Decision
    reason: str
    tailgating: bool
    pass_id: str | None = None  # the visitor pass a passage was granted or refused under

    @classmethod
    def from_sql(cls, row: tuple[object, ...]) -> EventRow:
        """A row of ``EVENT_COLUMNS`` as SQLite returns it."""
        (id_, seq, at, gate, lane, direction, method, subject, resident, stranger, house) = row[:11]
        score, quality, decision, reason, tailgating, pass_id = row[11:]
        return cls(
            id=str(id_),
            seq=int(str(seq)),
            occurred_at=float(str(at)),
            gate=str(gate),
            lane=int(str(lane)),
            direction=PassageDirection(str(direction)),
            method=PassageMethod(str(method)),
            subject=SubjectKind(str(subject)),
            resident_id=None if resident is None else str(resident),
            stranger_id=None if stranger is None else str(stranger),
            house_id=None if house is None else str(house),
            score=None if score is None else float(str(score)),
            quality=None if quality is None else float(str(quality)),
            decision=Decision(str(decision)),
            reason=str(reason),
            tailgating=bool(tailgating),
            pass_id=None if pass_id is None else str(pass_id),
        )

    def to_sql(self) -> tuple[object, ...]:
        return (
            self.id,
            self.seq,
            self.occurred_at,
            self.gate,
            self.lane,
            str(self.direction),
            str(self.method),
            str(self.subject),
            self.resident_id,
            self.stranger_id,
            self.house_id,
            self.score,
            self.quality,
            str(self.decision),
            self.reason,
            int(self.tailgating),
            self.pass_id,
        )


EVENT_COLUMNS = (
    "id, seq, occurred_at, gate, lane, direction, method, subject, resident_id, stranger_id, "
    "house_id, score, quality, decision, reason, tailgating, pass_id"
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    msg_id: str
    topic: str
    payload: bytes
