"""The edge agent's exception tree. Third-party errors (sqlite3, paho, OpenCV, onnxruntime,
libgpiod) are translated into it once, where they are raised; callers catch these.

EdgeError
├── PluginError
│   └── UnknownPluginError    a configuration names a plugin ``type`` nobody registered
├── ActuatorError             a door actuator cannot be built (libgpiod missing...)
├── RosterRejected            a roster update that cannot apply (a delta on the wrong base)
├── InvitationRefused         an enrolment code that is unknown, used or expired
├── PassageRefused            not a passage: malformed (400) or throttled (429); door shut
├── PassageNotRecorded        the store could not write the passage
├── ReleaseNotRecorded        a release without credential could not be recorded (door shut)
├── GuardRoomError            a guard-room request refused (bad form, throttled login)
├── VisionError               :mod:`edge_agent.vision.errors`
└── GalleryError              :mod:`edge_agent.gallery.errors` (EnrolmentRefused among them)
"""

from __future__ import annotations

from gridgate_core.errors import GridgateError
from gridgate_wire import Decision


class EdgeError(GridgateError):
    """Base class of edge agent errors."""


class PluginError(EdgeError):
    """A plugin cannot be created."""


class UnknownPluginError(PluginError):
    pass


class ActuatorError(EdgeError):
    """A door actuator cannot be built; the agent refuses to start rather than run doorless."""


class RosterRejected(EdgeError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvitationRefused(EdgeError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PassageRefused(EdgeError):
    """The attempt is not a passage: malformed (400) or throttled (429). The door stays shut."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class PassageNotRecorded(EdgeError):
    """The store could not write the passage; ``opened`` says what ``on_record_failure`` did."""

    def __init__(self, decision: Decision, reason: str, opened: bool) -> None:
        super().__init__(reason)
        self.decision = decision
        self.reason = reason
        self.opened = opened


class ReleaseNotRecorded(EdgeError):
    """A remote unlock or release by hand was not recorded (or was a repeat); the door stays
    shut."""


class GuardRoomError(EdgeError):
    """A guard-room request the page refuses, with the reason to show the guard."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
