"""The MQTT topic tree.

All topics live under ``gridgate/v1``. Edges publish only under their own id and read only their
own commands, which a broker ACL can express with Mosquitto's ``%u`` / ``%c`` patterns::

    gridgate/v1/edge/{edge_id}/event           edge -> hub   QoS 1
    gridgate/v1/edge/{edge_id}/alert           edge -> hub   QoS 1
    gridgate/v1/edge/{edge_id}/status          edge -> hub   QoS 1, retained, last will "offline"
    gridgate/v1/edge/{edge_id}/roster_ack      edge -> hub   QoS 1
    gridgate/v1/edge/{edge_id}/enrolment       edge -> hub   QoS 1 (enrolment confirmation)
    gridgate/v1/edge/{edge_id}/erasure         edge -> hub   QoS 1 (erasure confirmation)
    gridgate/v1/edge/{edge_id}/pass_ack        edge -> hub   QoS 1 (pass list applied)
    gridgate/v1/edge/{edge_id}/walk_in         edge -> hub   QoS 1 (guard-room walk-in pass)
    gridgate/v1/edge/{edge_id}/door_alarm      edge -> hub   QoS 1 (held, forced, tailgating...)
    gridgate/v1/edge/{edge_id}/door_release    edge -> hub   QoS 1 (door opened without credential)
    gridgate/v1/hub/{edge_id}/ack              hub -> edge   QoS 1 (application acks)
    gridgate/v1/hub/{edge_id}/roster           hub -> edge   QoS 1
    gridgate/v1/hub/{edge_id}/enrol            hub -> edge   QoS 1 (enrolment invitation)
    gridgate/v1/hub/{edge_id}/erase            hub -> edge   QoS 1 (erasure command)
    gridgate/v1/hub/{edge_id}/suppress         hub -> edge   QoS 1 (alert suppression window)
    gridgate/v1/hub/{edge_id}/passes           hub -> edge   QoS 1 (visitor pass list)
    gridgate/v1/hub/{edge_id}/unlock           hub -> edge   QoS 1 (remote unlock)
    gridgate/v1/worker/{worker_id}/task        hub -> worker QoS 1
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from gridgate_wire.errors import TopicError

ROOT = "gridgate/v1"
SHARE_GROUP = "gridgate-hub"

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Direction(StrEnum):
    EDGE_TO_HUB = "edge"
    HUB_TO_EDGE = "hub"
    HUB_TO_WORKER = "worker"


class Channel(StrEnum):
    """The last level of a topic; it names the message kind that travels on it."""

    EVENT = "event"
    ALERT = "alert"
    STATUS = "status"
    ROSTER_ACK = "roster_ack"
    ENROLMENT = "enrolment"
    ERASURE = "erasure"
    ACK = "ack"
    ROSTER = "roster"
    ENROL = "enrol"
    ERASE = "erase"
    SUPPRESS = "suppress"
    TASK = "task"
    PASS_ACK = "pass_ack"  # noqa: S105 (a topic level, not a password)
    WALK_IN = "walk_in"
    DOOR_ALARM = "door_alarm"
    DOOR_RELEASE = "door_release"
    PASSES = "passes"
    UNLOCK = "unlock"


EDGE_CHANNELS = frozenset(
    {
        Channel.EVENT,
        Channel.ALERT,
        Channel.STATUS,
        Channel.ROSTER_ACK,
        Channel.ENROLMENT,
        Channel.ERASURE,
        Channel.PASS_ACK,
        Channel.WALK_IN,
        Channel.DOOR_ALARM,
        Channel.DOOR_RELEASE,
    }
)
HUB_CHANNELS = frozenset(
    {
        Channel.ACK,
        Channel.ROSTER,
        Channel.ENROL,
        Channel.ERASE,
        Channel.SUPPRESS,
        Channel.PASSES,
        Channel.UNLOCK,
    }
)
WORKER_CHANNELS = frozenset({Channel.TASK})

_ALLOWED = {
    Direction.EDGE_TO_HUB: EDGE_CHANNELS,
    Direction.HUB_TO_EDGE: HUB_CHANNELS,
    Direction.HUB_TO_WORKER: WORKER_CHANNELS,
}


def validate_id(value: str, what: str = "id") -> str:
    """Check that an edge or worker id is safe to use as one topic level."""
    if not _ID_RE.fullmatch(value):
        raise TopicError(
            f"{what} {value!r} must be 1-64 characters of letters, digits, '_', '.', '-'"
        )
    return value


def edge_topic(edge_id: str, channel: Channel) -> str:
    """Topic an edge publishes ``channel`` on."""
    if channel not in EDGE_CHANNELS:
        raise TopicError(f"{channel} is not an edge-to-hub channel")
    return f"{ROOT}/{Direction.EDGE_TO_HUB}/{validate_id(edge_id, 'edge id')}/{channel}"


def hub_topic(edge_id: str, channel: Channel) -> str:
    """Topic the hub publishes ``channel`` on for one edge."""
    if channel not in HUB_CHANNELS:
        raise TopicError(f"{channel} is not a hub-to-edge channel")
    return f"{ROOT}/{Direction.HUB_TO_EDGE}/{validate_id(edge_id, 'edge id')}/{channel}"


def worker_topic(worker_id: str, channel: Channel = Channel.TASK) -> str:
    """Topic the hub publishes tasks on for one grid worker."""
    if channel not in WORKER_CHANNELS:
        raise TopicError(f"{channel} is not a hub-to-worker channel")
    return f"{ROOT}/{Direction.HUB_TO_WORKER}/{validate_id(worker_id, 'worker id')}/{channel}"


def edge_subscription(channel: Channel, *, shared: bool = False) -> str:
    """Filter the hub subscribes with for one edge channel of every edge."""
    if channel not in EDGE_CHANNELS:
        raise TopicError(f"{channel} is not an edge-to-hub channel")
    pattern = f"{ROOT}/{Direction.EDGE_TO_HUB}/+/{channel}"
    return f"$share/{SHARE_GROUP}/{pattern}" if shared else pattern


def hub_subscription(edge_id: str) -> str:
    """Filter an edge subscribes with: every hub-to-edge channel of its own id."""
    return f"{ROOT}/{Direction.HUB_TO_EDGE}/{validate_id(edge_id, 'edge id')}/+"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    direction: Direction
    party_id: str
    channel: Channel


def parse_topic(topic: str) -> ParsedTopic:
    """Split a concrete topic into direction, edge or worker id, and channel."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != ROOT:
        raise TopicError(f"topic {topic!r} is not under {ROOT}/<direction>/<id>/<channel>")
    try:
        direction = Direction(parts[2])
        channel = Channel(parts[4])
    except ValueError as exc:
        raise TopicError(f"topic {topic!r} has an unknown direction or channel") from exc
    if channel not in _ALLOWED[direction]:
        raise TopicError(f"channel {channel} is not allowed for direction {direction}")
    return ParsedTopic(direction, validate_id(parts[3]), channel)
