"""What the hub asks of this edge: roster updates, erasures, enrolment invitations and quiet
windows for alerts. Acks for the outbox go straight to the publisher; every other command is
queued by the MQTT thread and handled, one at a time, on the agent's command loop."""

from __future__ import annotations

import logging
import queue
from datetime import UTC, datetime

from edge_agent.comms.publisher import OutboxPublisher
from edge_agent.errors import RosterRejected
from edge_agent.face import FaceStack
from edge_agent.gallery.gallery import DeletionReceipt
from edge_agent.metrics import EdgeMetrics
from edge_agent.recorder import Recorder
from edge_agent.store.roster import RosterStore
from gridgate_core.mqtt import Incoming
from gridgate_wire import (
    AlertSuppression,
    Channel,
    DecodeError,
    EnrolmentInvitation,
    ErasureCommand,
    ErasureConfirmation,
    HubAck,
    Message,
    RosterAck,
    RosterUpdate,
    decode_from_topic,
)

_LOGGER = logging.getLogger(__name__)


class HubCommands:
    def __init__(
        self,
        roster: RosterStore,
        face: FaceStack | None,
        recorder: Recorder,
        publisher: OutboxPublisher,
        metrics: EdgeMetrics,
    ) -> None:
        self.roster = roster
        self.face = face
        self.recorder = recorder
        self.publisher = publisher
        self.metrics = metrics
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.dead_letters = 0

    def on_message(self, incoming: Incoming) -> None:
        """MQTT thread: decode, hand acks to the publisher, queue commands for the loop."""
        try:
            message = decode_from_topic(incoming.topic, incoming.payload)
        except DecodeError as exc:
            self.dead_letters += 1
            _LOGGER.warning("dropped invalid hub message on %s: %s", incoming.topic, exc)
            return
        if isinstance(message, HubAck):
            self.publisher.on_hub_ack(str(i) for i in message.acked)
        else:
            self._queue.put(message)

    def handle_next(self, timeout_s: float = 0.2) -> None:
        """The command loop's turn: handle one queued command, if one comes within the wait."""
        try:
            message = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            return
        try:
            self.handle(message)
        except Exception:  # a bad command must not stop the others
            _LOGGER.exception("hub command %s failed", message.KIND)

    def handle(self, message: Message) -> None:
        if isinstance(message, RosterUpdate):
            self._apply_roster(message)
        elif isinstance(message, ErasureCommand):
            self.erase(message.resident_id, str(message.id))
        elif isinstance(message, EnrolmentInvitation):
            self.roster.add_invitation(message)
        elif isinstance(message, AlertSuppression):
            self.roster.add_suppression(message)

    def _apply_roster(self, update: RosterUpdate) -> None:
        try:
            change = self.roster.apply(update)
        except RosterRejected as exc:
            self._ack_roster(update.roster_version, applied=False, error=exc.reason)
            return
        if change.pending:  # a part of a split snapshot: acknowledged once all are applied
            return
        for resident_id in change.face_revoked:
            self.erase(resident_id, None)
        if self.face is not None:
            for resident in self.roster.residents():
                self.face.gallery.update_house(resident.resident_id, resident.house_id)
        self._ack_roster(update.roster_version, applied=True, error="")

    def _ack_roster(self, version: int, applied: bool, error: str) -> None:
        self.recorder.send(
            Channel.ROSTER_ACK,
            lambda common: RosterAck.model_validate(
                {**common, "roster_version": version, "applied": applied, "error": error[:500]}
            ),
        )

    def erase(self, resident_id: str, erasure_id: str | None) -> DeletionReceipt | None:
        """Delete a resident's templates (if face recognition is on) and confirm to the hub."""
        receipt = None
        if self.face is not None:
            receipt = self.face.erase(resident_id)
            self.metrics.gallery_templates.set(len(self.face.gallery))
        deleted = receipt.templates_deleted if receipt else 0
        deleted_at = receipt.deleted_at if receipt else datetime.now(UTC)
        self.recorder.send(
            Channel.ERASURE,
            lambda common: ErasureConfirmation.model_validate(
                {
                    **common,
                    "erasure_id": erasure_id,
                    "resident_id": resident_id,
                    "templates_deleted": deleted,
                    "deleted_at": deleted_at,
                }
            ),
        )
        _LOGGER.info("erased %s: %d templates", resident_id, deleted)
        return receipt
