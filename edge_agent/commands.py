"""What the hub asks of this edge: roster and pass updates, erasures, enrolment invitations,
quiet windows for alerts and remote unlocks. Acks for the outbox go straight to the publisher
(and, queued, end the pending state of the walk-ins they name); every other command is queued
by the MQTT thread and handled, one at a time, on the agent's command loop.

A walk-in's ``walk_in_pass`` message has the id its pass id was made from (``W-<uuid>``), so the
hub's ack of that message names the pass without any table of message ids."""

from __future__ import annotations

import logging
import queue
from datetime import UTC, datetime

from edge_agent.comms.publisher import OutboxPublisher
from edge_agent.door_service import DoorService
from edge_agent.errors import RosterRejected
from edge_agent.face import FaceStack
from edge_agent.gallery.gallery import DeletionReceipt
from edge_agent.metrics import EdgeMetrics
from edge_agent.recorder import Recorder
from edge_agent.store.passes import PassStore
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
    PassAck,
    PassUpdate,
    RemoteUnlock,
    RosterAck,
    RosterUpdate,
    decode_from_topic,
)

WALK_IN_PREFIX = "W-"


def walk_in_pass_id(message_id: str) -> str:
    """The walk-in pass a ``walk_in_pass`` message of this id carries."""
    return f"{WALK_IN_PREFIX}{message_id}"


_LOGGER = logging.getLogger(__name__)


class HubCommands:
    def __init__(
        self,
        roster: RosterStore,
        face: FaceStack | None,
        recorder: Recorder,
        publisher: OutboxPublisher,
        metrics: EdgeMetrics,
        passes: PassStore | None = None,
        doors: DoorService | None = None,
    ) -> None:
        self.roster = roster
        self.passes = passes
        self.doors = doors
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
            if self.passes is not None:
                self._queue.put(message)  # walk-ins it names stop being pending (store work)
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
        elif isinstance(message, PassUpdate):
            self._apply_passes(message)
        elif isinstance(message, RemoteUnlock):
            if self.doors is None:
                _LOGGER.warning("remote unlock %s: no door service", message.id)
            else:
                self.doors.remote_unlock(message)
        elif isinstance(message, HubAck) and self.passes is not None:
            done = self.passes.acknowledge_walk_ins(walk_in_pass_id(str(i)) for i in message.acked)
            if done:
                _LOGGER.info("hub stored %d walk-in passes", done)

    def _apply_passes(self, update: PassUpdate) -> None:
        if self.passes is None:
            _LOGGER.warning("pass update %d: this edge keeps no passes", update.pass_version)
            return
        try:
            change = self.passes.apply(update)
            applied, error = True, ""
        except ValueError as exc:
            applied, error = False, str(exc)
            change = None
        if change is not None and change.revoked:
            _LOGGER.info("passes revoked: %s", ", ".join(change.revoked))
        self.recorder.send(
            Channel.PASS_ACK,
            lambda common: PassAck.model_validate(
                {
                    **common,
                    "pass_version": update.pass_version,
                    "applied": applied,
                    "error": error[:500],
                }
            ),
        )

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
