"""Enrolment at the edge: a resident presents a one-time code, a camera captures, the edge
enrols locally, discards the frames, and confirms to the hub (never with an image)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from edge_agent.errors import InvitationRefused
from edge_agent.face import FaceStack
from edge_agent.gallery.errors import EnrolmentRefused
from edge_agent.gate import GateWorker
from edge_agent.metrics import EdgeMetrics
from edge_agent.recorder import Recorder
from edge_agent.store.roster import Invitation, RosterStore
from gridgate_wire import Channel, CredentialKind, EnrolmentConfirmation, EnrolmentStatus

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EnrolmentOutcome:
    enrolled: bool
    reason: str


class EnrolmentService:
    def __init__(
        self,
        roster: RosterStore,
        face: FaceStack | None,
        face_problem: str | None,
        workers: Mapping[str, GateWorker],
        cameras_at: Callable[[str], list[str]],
        recorder: Recorder,
        metrics: EdgeMetrics,
    ) -> None:
        self.roster = roster
        self.face = face
        self.face_problem = face_problem
        self.workers = workers
        self._cameras_at = cameras_at
        self.recorder = recorder
        self.metrics = metrics

    def is_code(self, kind: CredentialKind, value: str) -> bool:
        """A QR code or PIN that is an enrolment code, not a credential."""
        return kind in (CredentialKind.QR, CredentialKind.PIN) and self.roster.is_invitation_code(
            value
        )

    def camera_at(self, gate: str) -> str | None:
        """The camera that enrols a code presented at ``gate`` (the gate's first)."""
        cameras = self._cameras_at(gate)
        return cameras[0] if cameras else None

    def enrol_with_code(
        self, code: str, camera_id: str, frames: int = 8, timeout_s: float = 15.0
    ) -> EnrolmentOutcome:
        """A resident presents an invitation code at a camera: capture, enrol, confirm."""
        try:
            invitation = self.roster.redeem(code)
        except InvitationRefused as exc:
            return EnrolmentOutcome(False, exc.reason)
        if self.face is None or camera_id not in self.workers:
            reason = self.face_problem or f"no camera {camera_id}"
            self._confirm(invitation, EnrolmentStatus.REFUSED, 0, reason)
            return EnrolmentOutcome(False, reason)
        captured = self.workers[camera_id].capture_for_enrolment(frames, timeout_s)
        try:
            result = self.face.enroller.enrol(
                invitation.resident_id, invitation.house_id or "", invitation.consent_id, captured
            )
        except EnrolmentRefused as exc:
            self._confirm(invitation, EnrolmentStatus.REFUSED, 0, exc.reason)
            return EnrolmentOutcome(False, exc.reason)
        finally:
            captured.clear()  # enrolment photos are discarded once the templates exist
        self.face.files.save_gallery(self.face.gallery)
        self.metrics.gallery_templates.set(len(self.face.gallery))
        self._confirm(invitation, EnrolmentStatus.ENROLLED, result.templates, "")
        _LOGGER.info("enrolled %s: %d templates", invitation.resident_id, result.templates)
        return EnrolmentOutcome(True, f"enrolled with {result.templates} templates")

    def _confirm(
        self, invitation: Invitation, status: EnrolmentStatus, templates: int, reason: str
    ) -> None:
        engine = self.face.engine.info.name if self.face else ""
        self.recorder.send(
            Channel.ENROLMENT,
            lambda common: EnrolmentConfirmation.model_validate(
                {
                    **common,
                    "invitation_id": invitation.invitation_id,
                    "resident_id": invitation.resident_id,
                    "consent_id": invitation.consent_id,
                    "status": status,
                    "templates": templates,
                    "engine": engine,
                    "reason": reason[:200],
                }
            ),
        )
