"""The local HTTP endpoint's routes: thin adapters from JSON bodies to the services.

Each parses its body, calls one service, and maps the outcome (or the edge error) to a status
and a JSON reply; the rules live in the services.
"""

from __future__ import annotations

from edge_agent.credentials import CredentialService, EnrolmentStarted
from edge_agent.door_service import DoorService
from edge_agent.enrolment import EnrolmentService
from edge_agent.errors import PassageNotRecorded, PassageRefused
from edge_agent.health import StatusReporter
from gridgate_wire import CredentialKind, Decision, PassageDirection

JsonObject = dict[str, object]
Reply = tuple[int, JsonObject]
PIN_REFUSED = "refused"


class EdgeRoutes:
    def __init__(
        self,
        credentials: CredentialService,
        enrolment: EnrolmentService,
        status: StatusReporter,
        doors: DoorService | None = None,
    ) -> None:
        self.doors = doors
        self.credentials = credentials
        self.enrolment = enrolment
        self.status = status

    def healthz(self) -> Reply:
        report = self.status.health()
        return (200 if report.healthy else 503), report.details

    def metrics(self) -> bytes:
        return self.status.metrics_text()

    def credential(self, body: JsonObject, caller: str | None = None) -> Reply:
        try:
            kind = CredentialKind(str(body["kind"]))
            gate = str(body["gate"])
            value = str(body["value"])
            direction = PassageDirection(str(body.get("direction", "in")))
        except (KeyError, ValueError) as exc:
            return 400, {"error": f"bad request: {exc}"}
        lane = body.get("lane", 0)
        try:
            # lane stays as sent: the desk refuses anything but an int 0-255 (and throttles it);
            # the direction in a body is the caller's word, not a configured exit
            outcome = self.credentials.present_or_enrol(
                gate, kind, value, direction, lane, caller=caller, trusted_direction=False
            )
        except PassageRefused as exc:
            return exc.status, {"error": exc.reason}
        except PassageNotRecorded as exc:
            return 503, {"decision": exc.decision.value, "reason": exc.reason, "recorded": False}
        if isinstance(outcome, EnrolmentStarted):
            if outcome.camera is None:
                return 409, {"error": "enrolment code, but no camera at this gate"}
            return 202, {"enrolment": "started", "camera": outcome.camera}
        reason = outcome.reason
        if kind is CredentialKind.PIN and outcome.decision is Decision.DENY:
            # Which refusal a PIN met (expired, used up, ...) tells a guesser the PIN is real;
            # the event keeps the detail for the centre.
            reason = PIN_REFUSED
        return 200, {
            "decision": outcome.decision.value,
            "reason": reason,
            "event_id": str(outcome.id),
        }

    def enrol(self, body: JsonObject, caller: str | None = None) -> Reply:
        code, camera = str(body.get("code", "")), str(body.get("camera", ""))
        if not code or not camera:
            return 400, {"error": "code and camera are required"}
        try:
            outcome = self.credentials.enrol_at_kiosk(code, camera, caller)
        except PassageRefused as exc:
            return exc.status, {"error": exc.reason}
        return (200 if outcome.enrolled else 409), {
            "enrolled": outcome.enrolled,
            "reason": outcome.reason,
        }

    def door(self, body: JsonObject) -> Reply:
        """A door controller reports its door open or closed (an ``http`` door contact)."""
        if self.doors is None:
            return 404, {"error": "no door contacts here"}
        lane = body.get("lane", 0)
        if type(lane) is not int:
            return 400, {"error": "lane must be an integer 0-255"}
        try:
            self.doors.report(str(body.get("gate", "")), lane, str(body.get("state", "")))
        except ValueError as exc:
            return 400, {"error": str(exc)}
        return 200, {"recorded": True}
