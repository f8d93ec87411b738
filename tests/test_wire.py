"""The wire contract: round trips and strict rejection."""

from __future__ import annotations

import json
import typing
import uuid
from datetime import timedelta

import pytest
from pydantic import BaseModel

from gridgate_wire import (
    ALL_MESSAGES,
    Channel,
    DecodeError,
    EdgeEvent,
    HubAck,
    PayloadTooLarge,
    RosterResident,
    RosterUpdate,
    TopicError,
    UnknownSchemaVersion,
    decode,
    decode_from_topic,
    edge_subscription,
    edge_topic,
    encode,
    hub_topic,
    new_fields,
    parse_topic,
    utc_now,
    uuid7,
)
from gridgate_wire.uuid7 import uuid7_time_ms
from tests.test_protocol_doc import doc_examples


def event(**over: object) -> EdgeEvent:
    fields: dict[str, object] = {
        **new_fields(),
        "edge_id": "edge-1",
        "seq": 7,
        "occurred_at": utc_now(),
        "gate": "north",
        "direction": "in",
        "method": "face",
        "subject": "resident",
        "resident_id": "R1",
        "score": 0.7,
        "quality": 0.9,
        "decision": "grant",
    }
    fields.update(over)
    return EdgeEvent.model_validate(fields)


def mutate(message: EdgeEvent, **changes: object) -> bytes:
    raw = json.loads(encode(message))
    for key, value in changes.items():
        if value is ...:
            del raw[key]
        else:
            raw[key] = value
    return json.dumps(raw).encode()


def test_every_kind_round_trips() -> None:
    examples = doc_examples()
    assert {m.KIND for m in ALL_MESSAGES} <= {e["type"] for e in examples}
    by_kind = {m.KIND: m for m in ALL_MESSAGES}
    for raw in examples:
        kind = by_kind[raw["type"]]
        message = decode(json.dumps(raw).encode(), kind)
        assert decode(encode(message), kind) == message


def test_uuid7_is_version_7_and_monotonic() -> None:
    ids = [uuid7() for _ in range(10_000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids, key=lambda u: u.int)
    assert len(set(ids)) == len(ids)
    assert abs(uuid7_time_ms(ids[0]) / 1000 - utc_now().timestamp()) < 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"seq": ...}, "seq"),
        ({"seq": "7"}, "seq"),
        ({"seq": True}, "seq"),
        ({"seq": 0}, "seq"),
        ({"score": "0.7"}, "score"),
        ({"score": 1.5}, "score"),
        ({"direction": "sideways"}, "direction"),
        ({"ts": "2026-01-01T08:00:00+08:00"}, "ts"),
        ({"ts": "2026-01-01T08:00:00"}, "ts"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"face_image": "AAAA"}, "face_image"),
        ({"edge_id": "edge 1/#"}, "edge_id"),
    ],
)
def test_rejections_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(mutate(event(), **changes), EdgeEvent)
    assert info.value.field == field


def test_unknown_version_is_rejected() -> None:
    with pytest.raises(UnknownSchemaVersion) as info:
        decode(mutate(event(), v=2), EdgeEvent)
    assert info.value.field == "v"
    with pytest.raises(UnknownSchemaVersion):
        decode(mutate(event(), v="1"), EdgeEvent)


def test_wrong_kind_and_garbage() -> None:
    with pytest.raises(DecodeError) as info:
        decode(encode(event()), HubAck)
    assert info.value.field == "type"
    for junk in (b"", b"\xff\xfe", b"[1,2]", b"null", b'{"type": "edge_event"'):
        with pytest.raises(DecodeError):
            decode(junk, EdgeEvent)


def test_oversized_payload_rejected_before_parsing() -> None:
    big = b'{"type": "edge_event", "pad": "' + b"x" * (EdgeEvent.MAX_BYTES + 1) + b'"}'
    with pytest.raises(PayloadTooLarge):
        decode(big, EdgeEvent)
    # A roster may be far larger than an event.
    assert RosterUpdate.MAX_BYTES > EdgeEvent.MAX_BYTES


def test_topic_tree_and_sender_check() -> None:
    topic = edge_topic("edge-1", Channel.EVENT)
    assert topic == "gridgate/v1/edge/edge-1/event"
    assert parse_topic(topic).party_id == "edge-1"
    assert decode_from_topic(topic, encode(event())).id  # matches
    with pytest.raises(DecodeError) as info:
        decode_from_topic(edge_topic("edge-2", Channel.EVENT), encode(event()))
    assert info.value.field == "edge_id"
    with pytest.raises(DecodeError):
        decode_from_topic("gridgate/v1/edge/edge-1/nonsense", encode(event()))
    with pytest.raises(TopicError):
        edge_topic("edge/+", Channel.EVENT)
    with pytest.raises(TopicError):
        hub_topic("edge-1", Channel.EVENT)
    assert edge_subscription(Channel.EVENT, shared=True).startswith("$share/")


def test_hub_ack_bounds() -> None:
    HubAck(**new_fields(), edge_id="e", acked=[uuid7()])
    with pytest.raises(ValueError, match="acked"):
        HubAck(**new_fields(), edge_id="e", acked=[])


def test_messages_hold_no_biometric_field() -> None:
    """No schema can carry an image or a template: no such names, no bytes or float arrays."""
    forbidden = ("image", "photo", "embedding", "vector", "descriptor", "jpeg", "frame")

    def check(model: type[BaseModel], path: str) -> None:
        for name, field in model.model_fields.items():
            assert not any(word in name for word in forbidden), f"{path}.{name}"
            text = repr(field.annotation)
            assert "bytes" not in text, f"{path}.{name}"
            assert "list[float]" not in text, f"{path}.{name}"
            for arg in (*getattr(field.annotation, "__args__", ()), field.annotation):
                inner = getattr(arg, "__args__", (arg,))
                for sub in inner:
                    if isinstance(sub, type) and issubclass(sub, BaseModel):
                        check(sub, f"{path}.{name}")

    for kind in ALL_MESSAGES:
        check(kind, kind.KIND)


def test_times_are_utc() -> None:
    later = utc_now() + timedelta(hours=1)
    assert event(occurred_at=later).occurred_at.utcoffset() == timedelta(0)


# ------------------------------------------------------------------ passes and doors (issue 18)


def test_pass_and_door_channels_have_their_directions() -> None:
    from gridgate_wire import CHANNEL_KIND, DoorAlarm, PassUpdate, RemoteUnlock, WalkInPass

    assert edge_topic("edge-1", Channel.DOOR_ALARM) == "gridgate/v1/edge/edge-1/door_alarm"
    assert hub_topic("edge-1", Channel.PASSES) == "gridgate/v1/hub/edge-1/passes"
    assert CHANNEL_KIND[Channel.PASSES] is PassUpdate
    assert CHANNEL_KIND[Channel.UNLOCK] is RemoteUnlock
    assert CHANNEL_KIND[Channel.WALK_IN] is WalkInPass
    assert CHANNEL_KIND[Channel.DOOR_ALARM] is DoorAlarm
    with pytest.raises(TopicError):
        edge_topic("edge-1", Channel.UNLOCK)  # only the hub unlocks
    with pytest.raises(TopicError):
        hub_topic("edge-1", Channel.WALK_IN)
    assert PassUpdate.MAX_BYTES > EdgeEvent.MAX_BYTES


def test_walk_in_sender_must_match_its_topic() -> None:
    from gridgate_wire import WalkInPass

    raw = next(e for e in doc_examples() if e["type"] == "walk_in_pass")
    payload = json.dumps(raw).encode()
    assert isinstance(
        decode_from_topic(edge_topic(raw["edge_id"], Channel.WALK_IN), payload), WalkInPass
    )
    with pytest.raises(DecodeError) as info:
        decode_from_topic(edge_topic("edge-2", Channel.WALK_IN), payload)
    assert info.value.field == "edge_id"


def test_edge_pass_rules_and_secrets() -> None:
    from gridgate_wire import (
        CredentialKind,
        EdgePass,
        make_secret,
        parse_qr_payload,
        qr_payload,
        secret_matches,
    )

    pin = make_secret(CredentialKind.PIN, "482913")
    assert secret_matches(pin, "482913")
    assert not secret_matches(pin, "482914")
    assert make_secret(CredentialKind.PIN, "482913").salt != pin.salt  # salted: no shared table
    now = utc_now()
    fields = {"pass_id": "P-1", "house_id": "H1", "secrets": [pin]}
    EdgePass.model_validate({**fields, "valid_from": now, "valid_until": now + timedelta(hours=1)})
    with pytest.raises(ValueError, match="valid_until"):
        EdgePass.model_validate({**fields, "valid_from": now, "valid_until": now})
    with pytest.raises(ValueError, match="one secret of each kind"):
        EdgePass.model_validate(
            {
                **fields,
                "secrets": [pin, pin],
                "valid_from": now,
                "valid_until": now + timedelta(hours=1),
            }
        )
    with pytest.raises(ValueError, match="secrets"):
        EdgePass.model_validate(
            {**fields, "secrets": [], "valid_from": now, "valid_until": now + timedelta(hours=1)}
        )
    token = "abcdefghijklmnop1234"
    assert parse_qr_payload(qr_payload("P-1", token)) == ("P-1", token)
    for other in ("P-1", "GGP/P-1/short", "GGP//abcdefghijklmnop", "GGP/P 1/abcdefghijklmnop"):
        assert parse_qr_payload(other) is None


def test_alert_evidence_may_name_the_visitor_pass() -> None:
    from gridgate_wire import AlertEvidence, EdgeAlert

    raw = next(e for e in doc_examples() if e["type"] == "edge_alert")
    assert decode(json.dumps(raw).encode(), EdgeAlert).evidence.pass_id is None  # optional
    raw["evidence"] = {**raw["evidence"], "pass_id": "P-0142"}
    assert decode(json.dumps(raw).encode(), EdgeAlert).evidence.pass_id == "P-0142"
    with pytest.raises(ValueError, match="pass_id"):
        AlertEvidence.model_validate({"pass_id": "not an id"})


def test_roster_entry_may_carry_its_house_label() -> None:
    """The label is optional: a roster written before the field still validates."""
    message = RosterUpdate(
        **new_fields(),
        edge_id="edge-1",
        roster_version=2,
        residents=[RosterResident(resident_id="R1", house_id="H-5-102", house_label="5栋1单元102")],
    )
    assert decode(encode(message), RosterUpdate) == message
    raw = json.loads(encode(message))
    del raw["residents"][0]["house_label"]
    assert decode(json.dumps(raw).encode(), RosterUpdate).residents[0].house_label is None
    for bad in ("", "x" * 201):
        raw["residents"][0]["house_label"] = bad
        with pytest.raises(DecodeError, match="house_label"):
            decode(json.dumps(raw).encode(), RosterUpdate)


def _nullable_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    """Every nullable field, anywhere in a message, as `Model.field`, with its default."""
    if model in seen:
        return []
    seen.add(model)
    found: list[str] = []
    for name, field in model.model_fields.items():
        args = [field.annotation]
        while args:
            arg = args.pop()
            args.extend(typing.get_args(arg))
            if arg is type(None):
                found.append(f"{model.__name__}.{name}={field.default!r}")
            elif isinstance(arg, type) and issubclass(arg, BaseModel):
                found.extend(_nullable_fields(arg, seen))
    return found


def test_every_nullable_field_defaults_to_null_so_encode_may_leave_it_out() -> None:
    seen: set[type[BaseModel]] = set()
    fields = [f for message in ALL_MESSAGES for f in _nullable_fields(message, seen)]
    assert fields, "no nullable field found: the walk is broken"
    assert [f for f in fields if not f.endswith("=None")] == []


def test_null_fields_are_left_out_so_an_older_receiver_accepts_them() -> None:
    sent = event(method="card", score=None, quality=None)
    raw = json.loads(encode(sent))
    assert "pass_id" not in raw
    assert "score" not in raw
    assert decode(encode(sent), EdgeEvent) == sent
